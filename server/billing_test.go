package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

func TestBillingAndCredits(t *testing.T) {
	f := newFixture(t, nil)
	orgs := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").json(t)["organizations"].([]any)
	seeded := 0.0
	for _, o := range orgs {
		seeded += o.(map[string]any)["credits"].(float64)
	}
	org := orgs[0].(map[string]any)
	id := org["id"].(string)

	b := f.do(t, "GET", "/api/v1/partner/billing", keyA, "").json(t)
	period := b["period"].(map[string]any)
	if b["billingMode"] != "credit_pool" || b["creditPoolTotal"] != 100000.0 || b["creditPoolUsed"] != seeded ||
		b["creditPoolAvailable"] != 100000-seeded || period["start"] != "2025-01-01T00:00:00Z" || period["end"] != "2025-02-01T00:00:00Z" {
		t.Fatalf("billing %v", b)
	}
	if len(b["pricingTiers"].([]any)) != 2 {
		t.Fatalf("pricing tiers %v", b["pricingTiers"])
	}

	r := f.do(t, "PUT", "/api/v1/partner/organizations/"+id+"/credits", keyA, `{"credits": 1234, "notes": "Upgrade"}`)
	if r.status != 200 {
		t.Fatalf("put credits: %d %s", r.status, r.body)
	}
	a := r.json(t)["allocation"].(map[string]any)
	if a["organizationId"] != id || a["partnerId"] != f.partner[keyA].ID || a["creditsAllocated"] != 1234.0 ||
		a["creditsUsed"] != 0.0 || a["creditsAvailable"] != 1234.0 || a["allocatedAt"] != "2025-01-15T10:30:00Z" || a["id"] == "" {
		t.Fatalf("allocation %v", a)
	}
	if got := f.do(t, "GET", "/api/v1/partner/organizations/"+id, keyA, "").json(t)["organization"].(map[string]any)["credits"]; got != 1234.0 {
		t.Fatalf("organization credits %v after allocation", got)
	}
	used := seeded - org["credits"].(float64) + 1234
	if got := f.do(t, "GET", "/api/v1/partner/billing", keyA, "").json(t)["creditPoolUsed"]; got != used {
		t.Fatalf("pool used %v, want %v", got, used)
	}
	// The billing webhook is off: no event.
	if len(f.emitter.reqs) != 0 {
		t.Fatalf("emitted %+v with the billing webhook off", f.emitter.reqs)
	}

	before := string(f.do(t, "GET", "/api/v1/partner/billing", keyA, "").body)
	cases := []struct {
		key, org, body string
		status         int
		code, msg      string
	}{
		{keyA, id, `{"credits": 100000}`, 422, CodeUnprocessable, "allocation beyond the credit pool"},
		{keyA, id, `{}`, 400, CodeBadRequest, `"credits" is required`},
		{keyA, id, `{"credits": -1}`, 400, CodeBadRequest, "must not be negative"},
		{keyA, id, `{"credits": "10"}`, 400, CodeBadRequest, `field "credits" must be a number`},
		{keyA, "nope", `{"credits": 1}`, 404, CodeNotFound, `organization "nope" not found`},
		{keyB, id, `{"credits": 1}`, 404, CodeNotFound, "not found"}, // another partner's organization
	}
	for _, c := range cases {
		assertError(t, f.do(t, "PUT", "/api/v1/partner/organizations/"+c.org+"/credits", c.key, c.body), c.status, c.code, c.msg)
	}
	if after := string(f.do(t, "GET", "/api/v1/partner/billing", keyA, "").body); after != before {
		t.Fatalf("a refused allocation changed billing: %s -> %s", before, after)
	}

	// With the billing webhook on, the allocation is announced with its numbers.
	f.do(t, "PUT", "/api/v1/partner/webhooks/billing", keyA, `{"url": "http://127.0.0.1:1/b", "enabled": true}`)
	f.do(t, "PUT", "/api/v1/partner/organizations/"+id+"/credits", keyA, `{"credits": 2000}`)
	if len(f.emitter.reqs) != 1 {
		t.Fatalf("emitted %d requests", len(f.emitter.reqs))
	}
	req := f.emitter.reqs[0]
	if req.Type != bullseye.EventCreditsAllocated || req.Organization != id || req.PartnerID != f.partner[keyA].ID {
		t.Fatalf("emitted %+v", req)
	}
	var patch struct {
		Allocation map[string]any `json:"allocation"`
		Change     map[string]any `json:"change"`
	}
	if err := json.Unmarshal(req.Overrides, &patch); err != nil {
		t.Fatal(err)
	}
	if patch.Allocation["credits_allocated"] != 2000.0 || patch.Change["previous_credits_allocated"] != 1234.0 || patch.Change["credits_delta"] != 766.0 {
		t.Fatalf("overrides %s", req.Overrides)
	}
	if !strings.Contains(string(req.Overrides), `"allocated_at":"2025-01-15T10:30:00Z"`) {
		t.Fatalf("overrides %s", req.Overrides)
	}
}

func TestCreateOrganizationPastThePool(t *testing.T) {
	f := newFixture(t, nil)
	assertError(t, f.do(t, "POST", "/api/v1/partner/organizations", keyA, `{"name": "Big", "credits": 100000}`), 422, CodeUnprocessable, "allocation beyond the credit pool")
}
