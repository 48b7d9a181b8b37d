package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// The vendor's billing and credit-management endpoints, from its Billing
// and Credit management pages: the field names are the vendor's, the
// pricing tiers the mock's own (the vendor names them without numbers).
func (s *partnerAPI) registerBillingRoutes(api apiRouter) {
	api.handle(http.MethodGet, "/partner/billing", s.getBilling)
	api.handle(http.MethodPut, "/partner/organizations/{id}/credits", s.putCredits)
}

type periodJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type pricingTierJSON struct {
	Tier              string  `json:"tier"`
	IncludedCredits   int     `json:"includedCredits"`
	PricePerCreditUSD float64 `json:"pricePerCreditUsd"`
}

var pricingTiers = []pricingTierJSON{
	{Tier: bullseye.TierTrial, IncludedCredits: 500, PricePerCreditUSD: 0},
	{Tier: bullseye.TierPaid, IncludedCredits: 0, PricePerCreditUSD: 0.5},
}

func (s *partnerAPI) getBilling(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	b, err := s.store.Billing(p.ID, s.clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"billingMode":         b.Mode,
		"period":              periodJSON{Start: b.PeriodStart, End: b.PeriodEnd},
		"creditPoolTotal":     b.PoolTotal,
		"creditPoolUsed":      b.PoolUsed,
		"creditPoolAvailable": b.PoolTotal - b.PoolUsed,
		"pricingTiers":        pricingTiers,
	})
	return nil
}

// allocationJSON is the vendor's allocation object.
type allocationJSON struct {
	ID               string    `json:"id"`
	PartnerID        string    `json:"partnerId"`
	OrganizationID   string    `json:"organizationId"`
	CreditsAllocated int       `json:"creditsAllocated"`
	CreditsUsed      int       `json:"creditsUsed"`
	CreditsAvailable int       `json:"creditsAvailable"`
	AllocatedAt      time.Time `json:"allocatedAt"`
}

func toAllocationJSON(a store.Allocation) allocationJSON {
	return allocationJSON{
		ID: a.ID, PartnerID: a.PartnerID, OrganizationID: a.OrganizationID,
		CreditsAllocated: a.CreditsAllocated, CreditsUsed: a.CreditsUsed,
		CreditsAvailable: max(a.CreditsAllocated-a.CreditsUsed, 0),
		AllocatedAt:      a.AllocatedAt.UTC().Truncate(time.Second),
	}
}

type creditsUpdate struct {
	Credits *int    `json:"credits"`
	Notes   *string `json:"notes"`
}

// putCredits sets an organization's allocation and, when the partner's
// billing webhook is on, sends a credits.allocated event whose numbers are
// the allocation's.
func (s *partnerAPI) putCredits(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	var body creditsUpdate
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	if body.Credits == nil {
		return Errorf(CodeBadRequest, `field "credits" is required: the organization's credit allocation`).With("field", "credits")
	}
	if *body.Credits < 0 {
		return Errorf(CodeBadRequest, "credits must not be negative, got %d", *body.Credits).With("field", "credits")
	}
	notes := ""
	if body.Notes != nil {
		notes = *body.Notes
	}
	id := mux.Vars(r)["id"]
	before, after, err := s.store.Allocate(p.ID, id, *body.Credits, notes, s.clock.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Errorf(CodeNotFound, "organization %q not found", id).With("id", id)
	case errors.Is(err, store.ErrOverPool):
		return Errorf(CodeUnprocessable, "%v", err).With("creditPoolTotal", store.CreditPool)
	case err != nil:
		return err
	}
	if err := s.announceAllocation(p.ID, before, after); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]allocationJSON{"allocation": toAllocationJSON(after)})
	return nil
}

// announceAllocation sends credits.allocated to an enabled billing webhook,
// with the allocation's real numbers pinned over the generated ones.
func (s *partnerAPI) announceAllocation(partnerID string, before, after store.Allocation) error {
	hook, err := s.store.Webhook(partnerID, bullseye.KindBilling)
	if err != nil || !hook.Enabled || hook.URL == "" {
		return err
	}
	a := toAllocationJSON(after)
	patch, err := json.Marshal(map[string]any{
		"allocation": map[string]any{
			"id": a.ID, "credits_allocated": a.CreditsAllocated, "credits_used": a.CreditsUsed,
			"credits_available": a.CreditsAvailable, "allocated_at": a.AllocatedAt,
		},
		"change": map[string]any{
			"previous_credits_allocated": before.CreditsAllocated,
			"credits_delta":              after.CreditsAllocated - before.CreditsAllocated,
			"notes":                      after.Notes,
		},
	})
	if err != nil {
		return err
	}
	_, err = s.emitter.Emit(ops.Send{PartnerID: partnerID, Type: bullseye.EventCreditsAllocated, Organization: after.OrganizationID, Overrides: patch})
	return err
}
