package ops

import (
	"slices"
	"strings"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// LogQuery selects a page of the attempt log, newest first: one partner's
// (by APIKey or PartnerID), or every partner's when neither is given and
// AllPartners is set (the control API; the Partner API always names its
// caller).
type LogQuery struct {
	APIKey, PartnerID string
	AllPartners       bool
	Type              string // a webhook kind
	Status            string // delivered, retrying, failed or canceled
	OrganizationID    string
	Page, PageSize    int
}

// CheckLogQuery checks q's filters, naming the one at fault, and gives the
// sender's query for them (without the partner, which Logs resolves).
func CheckLogQuery(q LogQuery) (sender.LogQuery, error) {
	lq := sender.LogQuery{Type: q.Type, Status: q.Status, OrganizationID: q.OrganizationID, Page: q.Page, PageSize: q.PageSize}
	if q.Type != "" {
		if err := bullseye.CheckKind(q.Type); err != nil {
			return lq, fieldErr("type", "%v", err)
		}
	}
	if q.Status != "" && !slices.Contains(bullseye.Statuses(), q.Status) {
		return lq, fieldErr("status", "status must be one of %s, got %q", strings.Join(bullseye.Statuses(), ", "), q.Status)
	}
	return lq, nil
}

// Logs reads a page of the attempt log as the vendor's
// GET /partner/webhooks/logs serves it, and how many entries match.
func (o *Ops) Logs(q LogQuery) ([]sender.Attempt, int, error) {
	lq, err := CheckLogQuery(q)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case q.APIKey != "" || q.PartnerID != "":
		p, err := o.Partner(q.APIKey, q.PartnerID)
		if err != nil {
			return nil, 0, err
		}
		lq.PartnerID = p
	case q.AllPartners:
		lq.AllPartners = true
	}
	logs, total := o.sender.Logs(lq)
	return logs, total, nil
}
