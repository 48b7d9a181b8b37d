package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

var epoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

// newOps is the operations over a real store and a sender that is never
// started: deliveries are scheduled and can be inspected, none is sent.
func newOps(t testing.TB, orgs int) (*Ops, string) {
	t.Helper()
	st := store.New()
	p, err := st.AddPartner("k")
	if err != nil {
		t.Fatal(err)
	}
	ready(t, st, p.ID)
	gen := fixtures.New(1)
	for i := 0; i < orgs; i++ {
		o := gen.NewOrganization(epoch)
		o.Status, o.Credits = bullseye.OrgActive, 100
		if _, err := st.AddOrganization(p.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	clk := clock.NewManual(epoch)
	snd, err := sender.New(sender.Config{Clock: clk, Targets: st})
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Store: st, Sender: snd, Fixtures: gen, Clock: clk}), p.ID
}

// ready gives a partner both webhooks, enabled, at a URL nothing is sent to
// (the sender is never started).
func ready(t testing.TB, st *store.Store, partnerID string) {
	t.Helper()
	url, on := "http://127.0.0.1:9/hook", true
	for _, kind := range bullseye.Kinds() {
		if _, err := st.UpdateWebhook(partnerID, kind, store.WebhookPatch{URL: &url, Enabled: &on}); err != nil {
			t.Fatal(err)
		}
	}
}

// A webhook the vendor would not deliver to is refused at once, saying
// which and how to mend it, with nothing created; evenIfDisabled asks for
// the deliveries anyway, and the sender cancels them as the vendor does.
func TestEmitRefusesAWebhookThatCannotDeliver(t *testing.T) {
	off, empty := false, ""
	for _, c := range []struct {
		name  string
		patch store.WebhookPatch
		msg   string
	}{
		{"no url", store.WebhookPatch{URL: &empty}, "the identification webhook has no url: configure it with PUT /api/v1/partner/webhooks/identification"},
		{"disabled", store.WebhookPatch{Enabled: &off}, "the identification webhook is disabled: enable it with PUT /api/v1/partner/webhooks/identification"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, partner := newOps(t, 1)
			if _, err := o.store.UpdateWebhook(partner, bullseye.KindIdentification, c.patch); err != nil {
				t.Fatal(err)
			}
			_, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(3)})
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "type" || !strings.HasPrefix(fe.Msg, c.msg) || !strings.Contains(fe.Msg, "evenIfDisabled") {
				t.Fatalf("got %v, want a type error %q naming evenIfDisabled", err, c.msg)
			}
			if st := o.Stats(); st.Sent != 0 {
				t.Errorf("a refused request created %d deliveries", st.Sent)
			}
			// The other kind is untouched and still delivers.
			if _, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventCreditsLow}); err != nil {
				t.Errorf("billing: %v", err)
			}
			out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(3), EvenIfDisabled: true})
			if err != nil || len(out.DeliveryIDs) != 3 {
				t.Fatalf("evenIfDisabled: %v, %v", out.DeliveryIDs, err)
			}
		})
	}
}

func TestFaultApplies(t *testing.T) {
	cases := []struct {
		f    fault
		n    int
		want string
	}{
		{fault{signature: bullseye.FaultMissing}, 4, "1234"},
		{fault{signature: bullseye.FaultMissing, share: 1}, 4, "1234"},
		{fault{signature: bullseye.FaultMissing, share: 0.5}, 4, "24"},
		{fault{signature: bullseye.FaultMissing, share: 0.25}, 8, "48"},
		{fault{signature: bullseye.FaultMissing, share: 0.3}, 10, "4710"},
		{fault{duplicate: true, events: []int{2}}, 3, "2"},
		{fault{duplicate: true, events: []int{1, 3}, share: 0.5}, 3, "13"},
	}
	for _, c := range cases {
		var got strings.Builder
		for i := 1; i <= c.n; i++ {
			if c.f.applies(i) {
				fmt.Fprint(&got, i)
			}
		}
		if got.String() != c.want {
			t.Errorf("%+v over %d: picked %s, want %s", c.f, c.n, got.String(), c.want)
		}
	}
}

func TestEmitSpreadsOverOrganizationsAndAppliesFaults(t *testing.T) {
	o, partner := newOps(t, 2)
	out, err := o.Emit(Send{
		PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(3),
		Faults: []Fault{
			{Signature: "uppercase", Events: []int{3}},
			{Duplicate: Concurrent, Events: []int{2}},
			{Duplicate: "1m", Events: []int{2}},
		},
	})
	if err != nil || len(out.DeliveryIDs) != 5 || out.PartnerID != partner {
		t.Fatalf("%+v, %v", out, err)
	}
	var s []sender.DeliveryInfo
	for _, id := range out.DeliveryIDs {
		d, err := o.Delivery(id)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, d)
	}
	if s[0].OrganizationID == s[1].OrganizationID || s[0].OrganizationID != s[4].OrganizationID {
		t.Errorf("organizations not spread round: %s %s %s", s[0].OrganizationID, s[1].OrganizationID, s[4].OrganizationID)
	}
	// The 3rd and 4th repeat the 2nd: same bytes, at the same instant and a minute later.
	for i, at := range []time.Time{epoch, epoch.Add(time.Minute)} {
		d := s[2+i]
		if d.DuplicateOf != s[1].ID || string(d.Body) != string(s[1].Body) || !d.NextAttemptAt.Equal(at) {
			t.Errorf("duplicate %d: of %q at %s", i, d.DuplicateOf, d.NextAttemptAt)
		}
	}
	if s[4].Fault != bullseye.FaultUppercase || s[0].Fault != bullseye.FaultNone || s[1].Fault != bullseye.FaultNone {
		t.Errorf("faults %q %q %q", s[0].Fault, s[1].Fault, s[4].Fault)
	}
	for _, d := range s {
		if d.Type != bullseye.KindIdentification || d.EventType != bullseye.EventVisitorIdentified || d.PartnerID != partner {
			t.Errorf("delivery %+v", d)
		}
	}
}

// A refused request creates nothing, whatever is wrong with it.
func TestEmitRejects(t *testing.T) {
	o, partner := newOps(t, 1)
	id := bullseye.EventVisitorIdentified
	cases := []struct {
		s    Send
		want string
	}{
		{Send{PartnerID: partner, Type: "visitor.left"}, "visitor.left"},
		{Send{PartnerID: partner, Type: id, Count: N(-1)}, "count must be from 1 to"},
		{Send{PartnerID: partner, Type: id, Count: N(MaxCount + 1)}, "count must be from 1 to"},
		{Send{PartnerID: partner, Type: id, Faults: []Fault{{Signature: "bogus"}}}, "bogus"},
		{Send{PartnerID: partner, Type: id, Faults: []Fault{{}}}, "needs signature, duplicate or replay"},
		{Send{PartnerID: partner, Type: id, Faults: []Fault{{Duplicate: Concurrent, Share: 2}}}, "share must be above 0"},
		{Send{PartnerID: partner, Type: id, Count: N(2), Faults: []Fault{{Duplicate: Concurrent, Events: []int{3}}}}, "names event 3"},
		{Send{PartnerID: partner, Type: id, Overrides: []byte(`[1]`)}, "overrides must be a JSON object"},
		{Send{PartnerID: partner, Type: id, Organization: "nope"}, "nope"},
		{Send{PartnerID: partner, Type: id, Rate: "-1/s"}, "rate must be"},
		{Send{PartnerID: "nobody", Type: id}, "no partner has id"},
	}
	for _, c := range cases {
		_, err := o.Emit(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.s, err, c.want)
		}
	}
	if _, total, _ := o.Deliveries(Query{}); total != 0 {
		t.Fatalf("invalid requests created %d deliveries", total)
	}
}

// A rate becomes due times on the clock: event i at start + (i-1)*interval,
// with the payload's timestamp at the same instant, and duplicates after it.
func TestEmitSpacesEventsByRate(t *testing.T) {
	o, partner := newOps(t, 1)
	out, err := o.Emit(Send{
		PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(3), Rate: "6/m",
		Faults: []Fault{{Duplicate: "1s", Events: []int{3}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{epoch, epoch.Add(10 * time.Second), epoch.Add(20 * time.Second), epoch.Add(21 * time.Second)}
	if len(out.DeliveryIDs) != len(want) {
		t.Fatalf("%d deliveries, want %d", len(out.DeliveryIDs), len(want))
	}
	for i, id := range out.DeliveryIDs {
		d, _ := o.Delivery(id)
		if !d.NextAttemptAt.Equal(want[i]) {
			t.Errorf("delivery %d at %s, want %s", i+1, d.NextAttemptAt, want[i])
		}
		if i == 1 && !strings.Contains(string(d.Body), `"timestamp":"2025-01-15T10:30:10Z"`) {
			t.Errorf("second payload's timestamp is not its due time: %s", d.Body)
		}
	}
}

// Each identification uses one of its organization's credits; a duplicate
// repeats it and uses none.
func TestEmitUsesCredits(t *testing.T) {
	o, partner := newOps(t, 1)
	org := o.Partners()[0].OrganizationIDs[0]
	if _, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(2), Faults: []Fault{{Duplicate: Concurrent}}}); err != nil {
		t.Fatal(err)
	}
	if a, err := o.store.Allocation(partner, org); err != nil || a.CreditsUsed != 2 {
		t.Errorf("credits used %d (%v), want 2", a.CreditsUsed, err)
	}
}

// BenchmarkEmit measures one event through the operations layer (checks,
// organization pick, payload, signing fault, scheduling) beside the payload
// alone, the bulk of the cost: the ratio of the two is what the layer adds.
func BenchmarkEmit(b *testing.B) {
	b.Run("payload", func(b *testing.B) {
		gen := fixtures.New(1)
		org := gen.NewOrganization(epoch)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gen.Payload(fixtures.Event{Type: bullseye.EventVisitorIdentified, Org: org, At: epoch}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("emit", func(b *testing.B) {
		o, partner := newOps(b, 3)
		s := Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Faults: []Fault{{Signature: "uppercase", Share: 0.5}}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := o.Emit(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInstant measures a manual clock's settle (Instant, called at
// every step of a move and of a scenario) over 10,000 deliveries scheduled
// later, against reading each with its payload, which is what a step cost
// while waits built payloads: settling reads state, never payloads.
func BenchmarkInstant(b *testing.B) {
	o, partner := newOps(b, 3)
	e, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(10000), Delay: D(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	ids := e.DeliveryIDs
	b.Run("instant", func(b *testing.B) {
		for b.Loop() {
			pending, err := o.Instant(context.Background(), ids)
			if err != nil || len(pending) != len(ids) {
				b.Fatalf("%d pending, %v", len(pending), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/delivery")
	})
	b.Run("read payloads", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if d, err := o.Delivery(id); err != nil || d.Body == nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/delivery")
	})
}
