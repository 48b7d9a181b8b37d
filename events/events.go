// Package events turns a request for events into signed deliveries: it asks
// the fixtures for payloads and hands them to the sender. Every trigger (the
// test endpoint, the control API, scenario steps, cron ticks) goes through it,
// so data flows one way: trigger -> fixtures -> sender -> log.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// MaxCount bounds one request, so a typo cannot queue a billion deliveries.
const MaxCount = 100000

// Request asks for Count events of one type for one partner.
type Request struct {
	PartnerID      string
	Type           string // an event type of bullseye.EventTypes()
	Count          int    // 0 means 1
	OrganizationID string // "" spreads events over the partner's active organizations
	Dialect        bullseye.Dialect
	Overrides      json.RawMessage
	Faults         []Fault   // which events get which fault; see Fault
	At             time.Time // mock time of the first attempt; zero means now
	// Interval spaces the events: event i is due at At + (i-1)*Interval, so a
	// scenario's rate is scheduled on the sender's clock, not slept through.
	Interval time.Duration
	Policy   *bullseye.Policy // retry policy of these deliveries; nil: the sender's
}

// Fault applies a signature fault, or sends a duplicate, for some events of
// a request: those numbered in Events (1-based), else a Share of them, else
// all. Shares are spread evenly and deterministically (share 0.5 of 4
// events picks the 2nd and 4th), so a run needs no randomness to repeat.
type Fault struct {
	Signature bullseye.Fault // a signature fault; "" for none
	// Duplicate sends the event again, the same bytes and signature, after
	// DuplicateAfter of mock time; 0 sends both at the same instant.
	Duplicate      bool
	DuplicateAfter time.Duration
	Events         []int
	Share          float64 // 0 < Share <= 1; 0 with no Events means every event
}

// applies reports whether the fault applies to event i (1-based) of n.
func (f Fault) applies(i int) bool {
	if len(f.Events) > 0 {
		for _, e := range f.Events {
			if e == i {
				return true
			}
		}
		return false
	}
	if f.Share <= 0 || f.Share >= 1 {
		return true
	}
	// Event i is picked when the running total of the share crosses an
	// integer at it.
	return int(float64(i)*f.Share) != int(float64(i-1)*f.Share)
}

func (f Fault) validate(count int) error {
	if f.Signature != bullseye.FaultNone {
		if _, err := bullseye.ParseFault(string(f.Signature)); err != nil {
			return err
		}
	}
	if f.Signature == bullseye.FaultNone && !f.Duplicate {
		return errors.New("a fault needs a signature fault or duplicate")
	}
	if f.Share < 0 || f.Share > 1 {
		return fmt.Errorf("a fault's share must be between 0 and 1, got %g", f.Share)
	}
	if f.DuplicateAfter < 0 {
		return fmt.Errorf("a duplicate's delay must not be negative, got %s", f.DuplicateAfter)
	}
	for _, e := range f.Events {
		if e < 1 || e > count {
			return fmt.Errorf("a fault names event %d, but the request has events 1 to %d", e, count)
		}
	}
	return nil
}

// Sender is the part of the sender the emitter needs.
type Sender interface {
	Send(sender.Delivery) (string, error)
}

// Emitter builds and enqueues deliveries.
type Emitter struct {
	Store    *store.Store
	Sender   Sender
	Fixtures *fixtures.Generator
	Clock    clock.Clock

	mu   sync.Mutex
	next map[string]int // per partner: which organization gets the next event
}

// ErrInvalid marks a request that can never succeed; the message says why.
var ErrInvalid = errors.New("invalid event request")

// Emit creates the deliveries and returns their ids in order.
func (e *Emitter) Emit(r Request) ([]string, error) {
	kind, err := bullseye.KindOf(r.Type)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	count := r.Count
	if count == 0 {
		count = 1
	}
	if count < 0 || count > MaxCount {
		return nil, fmt.Errorf("%w: count must be between 1 and %d, got %d", ErrInvalid, MaxCount, r.Count)
	}
	for _, f := range r.Faults {
		if err := f.validate(count); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	if r.Policy != nil {
		if err := r.Policy.WithDefaults().Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	hook, err := e.Store.Webhook(r.PartnerID, kind)
	if err != nil {
		return nil, err
	}
	dialect := r.Dialect
	if dialect == "" {
		dialect = hook.Dialect
	}
	orgs, err := e.organizations(r)
	if err != nil {
		return nil, err
	}
	if r.Interval < 0 {
		return nil, fmt.Errorf("%w: interval must not be negative, got %s", ErrInvalid, r.Interval)
	}
	start := r.At
	if start.IsZero() {
		start = e.Clock.Now()
	}
	ids := make([]string, 0, count)
	for i := 1; i <= count; i++ {
		org := e.pick(r.PartnerID, orgs)
		at := r.At
		if r.Interval > 0 {
			at = start.Add(time.Duration(i-1) * r.Interval)
		}
		stamp := at
		if stamp.IsZero() {
			stamp = e.Clock.Now()
		}
		body, err := e.Fixtures.Payload(fixtures.Event{Type: r.Type, Dialect: dialect, Org: org, At: stamp, Overrides: r.Overrides})
		if err != nil {
			return ids, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		d := sender.Delivery{
			PartnerID:      r.PartnerID,
			Kind:           kind,
			EventType:      r.Type,
			OrganizationID: org.ID,
			Body:           body,
			At:             at,
			Policy:         r.Policy,
		}
		var dups []Fault
		for _, f := range r.Faults {
			if !f.applies(i) {
				continue
			}
			if f.Signature != bullseye.FaultNone {
				d.Fault = f.Signature
			}
			if f.Duplicate {
				dups = append(dups, f)
			}
		}
		id, err := e.Sender.Send(d)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
		if kind == bullseye.KindIdentification {
			// Each identification uses one of the organization's credits
			// (a duplicate repeats it, and uses none).
			e.Store.UseCredit(r.PartnerID, org.ID)
		}
		for _, f := range dups {
			dup := d
			dup.DuplicateOf = id
			dup.At = d.At
			if dup.At.IsZero() {
				dup.At = e.Clock.Now()
			}
			dup.At = dup.At.Add(f.DuplicateAfter)
			dupID, err := e.Sender.Send(dup)
			if err != nil {
				return ids, err
			}
			ids = append(ids, dupID)
		}
	}
	return ids, nil
}

// organizations returns the candidates for a request: the one it names, else
// the partner's active organizations, else all of them.
func (e *Emitter) organizations(r Request) ([]bullseye.Organization, error) {
	if r.OrganizationID != "" {
		o, err := e.Store.Organization(r.PartnerID, r.OrganizationID)
		if err != nil {
			return nil, err
		}
		return []bullseye.Organization{o}, nil
	}
	all, _, err := e.Store.Organizations(r.PartnerID, store.OrgFilter{Page: 1, PageSize: store.MaxOrganizations})
	if err != nil {
		return nil, err
	}
	var active []bullseye.Organization
	for _, o := range all {
		if o.Status == "active" {
			active = append(active, o)
		}
	}
	if len(active) > 0 {
		return active, nil
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: the partner has no organization; create one first", ErrInvalid)
	}
	return all, nil
}

// pick goes round the candidates so events spread evenly and the same run
// picks the same organizations, without a source of randomness.
func (e *Emitter) pick(partnerID string, orgs []bullseye.Organization) bullseye.Organization {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.next == nil {
		e.next = map[string]int{}
	}
	n := e.next[partnerID]
	e.next[partnerID] = n + 1
	return orgs[n%len(orgs)]
}
