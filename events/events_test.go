package events

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

var epoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

type fakeSender struct {
	mu   sync.Mutex
	sent []sender.Delivery
}

func (f *fakeSender) Send(d sender.Delivery) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, d)
	return fmt.Sprintf("d%d", len(f.sent)), nil
}

func newEmitter(t *testing.T, orgs int) (*Emitter, *fakeSender, store.Partner) {
	t.Helper()
	st := store.New()
	p, err := st.AddPartner("k")
	if err != nil {
		t.Fatal(err)
	}
	gen := fixtures.New(1)
	for i := 0; i < orgs; i++ {
		o := gen.NewOrganization(epoch)
		o.Status = bullseye.OrgActive
		if _, err := st.AddOrganization(p.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	fs := &fakeSender{}
	return &Emitter{Store: st, Sender: fs, Fixtures: gen, Clock: clock.NewManual(epoch)}, fs, p
}

func TestFaultApplies(t *testing.T) {
	cases := []struct {
		f    Fault
		n    int
		want string
	}{
		{Fault{Signature: bullseye.FaultMissing}, 4, "1234"},
		{Fault{Signature: bullseye.FaultMissing, Share: 1}, 4, "1234"},
		{Fault{Signature: bullseye.FaultMissing, Share: 0.5}, 4, "24"},
		{Fault{Signature: bullseye.FaultMissing, Share: 0.25}, 8, "48"},
		{Fault{Signature: bullseye.FaultMissing, Share: 0.3}, 10, "4710"},
		{Fault{Duplicate: true, Events: []int{2}}, 3, "2"},
		{Fault{Duplicate: true, Events: []int{1, 3}, Share: 0.5}, 3, "13"},
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
	e, fs, p := newEmitter(t, 2)
	ids, err := e.Emit(Request{
		PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Count: 3,
		Faults: []Fault{
			{Signature: bullseye.FaultUppercase, Events: []int{3}},
			{Duplicate: true, Events: []int{2}},
			{Duplicate: true, DuplicateAfter: time.Minute, Events: []int{2}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "d1 d2 d3 d4 d5"; strings.Join(ids, " ") != want {
		t.Fatalf("ids %v, want %s", ids, want)
	}
	s := fs.sent
	if s[0].OrganizationID == s[1].OrganizationID || s[0].OrganizationID != s[4].OrganizationID {
		t.Errorf("organizations not spread round: %s %s %s", s[0].OrganizationID, s[1].OrganizationID, s[4].OrganizationID)
	}
	// d3 and d4 repeat d2: same bytes, at the same instant and a minute later.
	for i, at := range []time.Time{epoch, epoch.Add(time.Minute)} {
		d := s[2+i]
		if d.DuplicateOf != "d2" || string(d.Body) != string(s[1].Body) || !d.At.Equal(at) {
			t.Errorf("duplicate %d: of %q at %s", i, d.DuplicateOf, d.At)
		}
	}
	if s[4].Fault != bullseye.FaultUppercase || s[0].Fault != bullseye.FaultNone || s[1].Fault != bullseye.FaultNone {
		t.Errorf("faults %q %q %q", s[0].Fault, s[1].Fault, s[4].Fault)
	}
	for _, d := range s {
		if d.Kind != bullseye.KindIdentification || d.EventType != bullseye.EventVisitorIdentified || d.PartnerID != p.ID {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestEmitRejects(t *testing.T) {
	e, fs, p := newEmitter(t, 1)
	cases := []struct {
		r    Request
		want string
	}{
		{Request{PartnerID: p.ID, Type: "visitor.left"}, "visitor.left"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Count: -1}, "count must be between 1 and"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Count: MaxCount + 1}, "count must be between 1 and"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Faults: []Fault{{Signature: "bogus"}}}, "bogus"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Faults: []Fault{{}}}, "needs a signature fault or duplicate"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Faults: []Fault{{Duplicate: true, Share: 2}}}, "share must be between 0 and 1"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Count: 2, Faults: []Fault{{Duplicate: true, Events: []int{3}}}}, "names event 3"},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Overrides: []byte(`[1]`)}, ""},
		{Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, OrganizationID: "nope"}, "nope"},
	}
	for _, c := range cases {
		_, err := e.Emit(c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.r, err, c.want)
		}
	}
	if len(fs.sent) != 0 {
		t.Fatalf("invalid requests sent %d deliveries", len(fs.sent))
	}
	if _, err := e.Emit(Request{PartnerID: p.ID, Type: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown type is not ErrInvalid: %v", err)
	}
}

// A rate becomes due times on the clock: event i at start + (i-1)*interval,
// with the payload's timestamp at the same instant, and duplicates after it.
func TestEmitSpacesEventsByInterval(t *testing.T) {
	e, fs, p := newEmitter(t, 1)
	_, err := e.Emit(Request{
		PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Count: 3, Interval: 10 * time.Second,
		Faults: []Fault{{Duplicate: true, DuplicateAfter: time.Second, Events: []int{3}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{epoch, epoch.Add(10 * time.Second), epoch.Add(20 * time.Second), epoch.Add(21 * time.Second)}
	if len(fs.sent) != len(want) {
		t.Fatalf("%d deliveries, want %d", len(fs.sent), len(want))
	}
	for i, d := range fs.sent {
		if !d.At.Equal(want[i]) {
			t.Errorf("delivery %d at %s, want %s", i+1, d.At, want[i])
		}
	}
	if !strings.Contains(string(fs.sent[1].Body), `"timestamp":"2025-01-15T10:30:10Z"`) {
		t.Errorf("second payload's timestamp is not its due time: %s", fs.sent[1].Body)
	}
	if _, err := e.Emit(Request{PartnerID: p.ID, Type: bullseye.EventVisitorIdentified, Interval: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative interval: %v", err)
	}
}
