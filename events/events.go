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
	Type           string // an event type of fixtures.EventTypes()
	Count          int    // 0 means 1
	OrganizationID string // "" spreads events over the partner's active organizations
	Dialect        fixtures.Dialect
	Overrides      json.RawMessage
	Fault          sender.Fault
	At             time.Time // mock time of the first attempt; zero means now
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
	kind, err := fixtures.Kind(r.Type)
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
	if r.Fault != sender.FaultNone {
		if _, err := sender.ParseFault(string(r.Fault)); err != nil {
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
	ids := make([]string, 0, count)
	for i := 0; i < count; i++ {
		org := e.pick(r.PartnerID, orgs)
		at := e.Clock.Now()
		body, err := e.Fixtures.Payload(fixtures.Event{Type: r.Type, Dialect: dialect, Org: org, At: at, Overrides: r.Overrides})
		if err != nil {
			return ids, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		id, err := e.Sender.Send(sender.Delivery{
			PartnerID:      r.PartnerID,
			Kind:           kind,
			EventType:      r.Type,
			OrganizationID: org.ID,
			Body:           body,
			Fault:          r.Fault,
			At:             r.At,
		})
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// organizations returns the candidates for a request: the one it names, else
// the partner's active organizations, else all of them.
func (e *Emitter) organizations(r Request) ([]fixtures.Organization, error) {
	if r.OrganizationID != "" {
		o, err := e.Store.Organization(r.PartnerID, r.OrganizationID)
		if err != nil {
			return nil, err
		}
		return []fixtures.Organization{o}, nil
	}
	all, _, err := e.Store.Organizations(r.PartnerID, store.OrgFilter{Page: 1, PageSize: store.MaxOrganizations})
	if err != nil {
		return nil, err
	}
	var active []fixtures.Organization
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
func (e *Emitter) pick(partnerID string, orgs []fixtures.Organization) fixtures.Organization {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.next == nil {
		e.next = map[string]int{}
	}
	n := e.next[partnerID]
	e.next[partnerID] = n + 1
	return orgs[n%len(orgs)]
}
