package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// Paging limits of every paged endpoint.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// testEvents is the event a test webhook of each kind carries.
var testEvents = map[string]string{
	bullseye.KindIdentification: bullseye.EventVisitorIdentified,
	bullseye.KindBilling:        bullseye.EventCreditsAllocated,
}

func (s *partnerAPI) registerWebhookRoutes(api apiRouter) {
	api.handle(http.MethodGet, "/partner/webhooks", s.getWebhooks)
	api.handle(http.MethodGet, "/partner/webhooks/logs", s.getLogs)
	api.handle(http.MethodPost, "/partner/webhooks/test", s.testWebhook)
	for _, kind := range bullseye.Kinds() {
		api.handle(http.MethodPut, "/partner/webhooks/"+kind, s.putWebhook(kind))
	}
	api.handle(http.MethodPut, "/partner/webhooks/{type}", s.unknownWebhookType)
}

// webhookJSON is a webhook as the API shows it: the secret never leaves.
type webhookJSON struct {
	URL       string `json:"url"`
	Enabled   bool   `json:"enabled"`
	HasSecret bool   `json:"hasSecret"`
}

func toWebhookJSON(w store.Webhook) webhookJSON {
	return webhookJSON{URL: w.URL, Enabled: w.Enabled, HasSecret: w.Secret != ""}
}

// webhooksJSON is GET /partner/webhooks, in the seed's key order.
type webhooksJSON struct {
	Identification webhookJSON `json:"identification"`
	Billing        webhookJSON `json:"billing"`
}

func (s *partnerAPI) getWebhooks(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	ident, err := s.store.Webhook(p.ID, bullseye.KindIdentification)
	if err != nil {
		return err
	}
	billing, err := s.store.Webhook(p.ID, bullseye.KindBilling)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, s.webhooksBody.body(webhooksJSON{Identification: toWebhookJSON(ident), Billing: toWebhookJSON(billing)}))
	return nil
}

type webhookUpdate struct {
	URL     *string `json:"url"`
	Secret  *string `json:"secret"`
	Enabled *bool   `json:"enabled"`
}

func (s *partnerAPI) putWebhook(kind string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, p store.Partner) error {
		var body webhookUpdate
		if err := decodeBody(w, r, s.maxBody, &body); err != nil {
			return err
		}
		if body.URL != nil && *body.URL != "" {
			if err := s.checkURL(*body.URL); err != nil {
				return err
			}
		}
		hook, err := s.store.UpdateWebhook(p.ID, kind, store.WebhookPatch{URL: body.URL, Secret: body.Secret, Enabled: body.Enabled})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]webhookJSON{kind: toWebhookJSON(hook)})
		return nil
	}
}

// checkURL accepts absolute http(s) URLs with a host; strict mode accepts
// https only, as the real service does.
func (s *partnerAPI) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return Errorf(CodeBadRequest, "url must be an absolute http or https URL, got %q", raw).With("field", "url")
	}
	if s.strict && u.Scheme != "https" {
		return Errorf(CodeBadRequest, "url must use https (the mock runs in strict mode), got %q", raw).With("field", "url")
	}
	return nil
}

func (s *partnerAPI) unknownWebhookType(w http.ResponseWriter, r *http.Request, _ store.Partner) error {
	t := mux.Vars(r)["type"]
	if t == "logs" || t == "test" {
		s.notAllowed(w, r)
		return nil
	}
	return Errorf(CodeNotFound, "unknown webhook type %q: use identification or billing", t).With("type", t)
}

type testRequest struct {
	Type *string `json:"type"`
}

func (s *partnerAPI) testWebhook(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	var body testRequest
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	if body.Type == nil {
		return Errorf(CodeBadRequest, `field "type" is required: identification or billing`).With("field", "type")
	}
	event, ok := testEvents[*body.Type]
	if !ok {
		return Errorf(CodeBadRequest, "unknown webhook type %q: use identification or billing", *body.Type).With("field", "type")
	}
	hook, err := s.store.Webhook(p.ID, *body.Type)
	if err != nil {
		return err
	}
	if err := ops.WebhookReady(hook, *body.Type); err != nil {
		return Errorf(CodeBadRequest, "%v", err).With("field", "type")
	}
	out, err := s.emitter.Emit(ops.Send{PartnerID: p.ID, Type: event})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success":    true,
		"message":    "Test webhook sent successfully",
		"deliveryId": out.DeliveryIDs[0],
	})
	return nil
}

func (s *partnerAPI) getLogs(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	return serveLogs(w, r.URL.Query(), ops.LogQuery{PartnerID: p.ID}, func(q ops.LogQuery) ([]sender.Attempt, int, error) {
		lq, err := ops.CheckLogQuery(q)
		var fe *ops.FieldError
		if errors.As(err, &fe) {
			// The vendor's shape: the parameter only.
			return nil, 0, Errorf(CodeBadRequest, "%s", fe.Msg).With("parameter", fe.Field)
		}
		lq.PartnerID = p.ID // the caller's own log, always
		logs, total := s.logs.Logs(lq)
		return logs, total, nil
	})
}

// serveLogs answers a page of the attempt log in the vendor's shape, for
// the Partner API (the caller's own) and the control API (any partner's).
func serveLogs(w http.ResponseWriter, q url.Values, lq ops.LogQuery, read func(ops.LogQuery) ([]sender.Attempt, int, error)) error {
	var err error
	if lq.Page, lq.PageSize, err = paging(q); err != nil {
		return err
	}
	lq.Type, lq.Status, lq.OrganizationID = q.Get("type"), q.Get("status"), q.Get("organizationId")
	logs, total, err := read(lq)
	if err != nil {
		return asParameter(err)
	}
	// The vendor writes whole-second timestamps (2025-02-27T10:30:00Z).
	for i := range logs {
		logs[i].AttemptedAt = logs[i].AttemptedAt.UTC().Truncate(time.Second)
		if next := logs[i].NextAttemptAt; next != nil {
			t := next.UTC().Truncate(time.Second)
			logs[i].NextAttemptAt = &t
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"logs": logs, "total": total, "page": lq.Page, "pageSize": lq.PageSize})
	return nil
}

// paging reads page and pageSize with the vendor's defaults.
func paging(q url.Values) (page, size int, err error) {
	page, err = intParam(q, "page", 1, 1, 1_000_000)
	if err != nil {
		return 0, 0, err
	}
	size, err = intParam(q, "pageSize", DefaultPageSize, 1, MaxPageSize)
	return page, size, err
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	raw, ok := q[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(raw[0])
	if err != nil || v < lo || v > hi {
		return 0, Errorf(CodeBadRequest, "%s must be an integer from %d to %d, got %q", name, lo, hi, raw[0]).
			With("parameter", name)
	}
	return v, nil
}
