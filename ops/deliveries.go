package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// Long-poll bounds of the waits. Waits are bounded in real time, not mock
// time: a manual clock may never move while a request waits.
const (
	DefaultWaitTimeout = 30 * time.Second
	MaxWaitTimeout     = 5 * time.Minute
)

// ParseWaitTimeout reads a wait's real-time bound ("" is
// DefaultWaitTimeout): the one range check of it.
func ParseWaitTimeout(raw string) (time.Duration, error) {
	if raw == "" {
		return DefaultWaitTimeout, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > MaxWaitTimeout {
		return 0, fieldErr("timeout", "timeout must be a Go duration from 1ns to %s, such as 5s, got %q", MaxWaitTimeout, raw)
	}
	return d, nil
}

// Query selects deliveries. Empty filters match everything.
type Query struct {
	APIKey, PartnerID string
	Type              string // a webhook kind
	EventType         string
	OrganizationID    string
	State             string // a delivery state
	URL               string // an attempt went to a URL containing it
	Page, PageSize    int
}

// resolve validates q, naming the filter at fault.
func (o *Ops) resolve(q Query) (sender.DeliveryQuery, error) {
	dq := sender.DeliveryQuery{Type: q.Type, EventType: q.EventType, OrganizationID: q.OrganizationID, State: q.State, URL: q.URL, Page: q.Page, PageSize: q.PageSize}
	if q.APIKey != "" || q.PartnerID != "" {
		p, err := o.Partner(q.APIKey, q.PartnerID)
		if err != nil {
			return dq, err
		}
		dq.PartnerID = p
	}
	if q.Type != "" {
		if err := bullseye.CheckKind(q.Type); err != nil {
			return dq, fieldErr("type", "%v", err)
		}
	}
	if q.EventType != "" {
		if _, err := bullseye.KindOf(q.EventType); err != nil {
			return dq, fieldErr("eventType", "%v", err)
		}
	}
	if q.State != "" && !slices.Contains(bullseye.States(), q.State) {
		return dq, fieldErr("state", "state must be one of %s, got %q", strings.Join(bullseye.States(), ", "), q.State)
	}
	return dq, nil
}

// Deliveries lists one page of the matching deliveries, newest first, and
// how many match.
func (o *Ops) Deliveries(q Query) ([]sender.DeliveryInfo, int, error) {
	dq, err := o.resolve(q)
	if err != nil {
		return nil, 0, err
	}
	list, total := o.sender.Deliveries(dq)
	return list, total, nil
}

// Delivery returns one delivery's details.
func (o *Ops) Delivery(id string) (sender.DeliveryInfo, error) {
	d, ok := o.sender.Delivery(id)
	if !ok {
		return d, noDelivery(id)
	}
	return d, nil
}

// Info is Delivery without the payload (Body nil), for callers that read a
// delivery's state: it builds nothing.
func (o *Ops) Info(id string) (sender.DeliveryInfo, error) {
	d, ok := o.sender.Info(id)
	if !ok {
		return d, noDelivery(id)
	}
	return d, nil
}

func noDelivery(id string) error {
	return fmt.Errorf("no delivery %q (unknown, reset, or evicted from the retained details): %w", id, ErrNotFound)
}

// Condition is what a wait for one delivery waits for: one of States
// ("final" for any final state) and at least Attempts attempts; neither
// means a final state.
type Condition struct {
	States   []string
	Attempts int
}

// ParseStates reads a comma-separated list of states for a Condition.
func ParseStates(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	states := strings.Split(s, ",")
	for _, st := range states {
		if st != "final" && !slices.Contains(bullseye.States(), st) {
			return nil, fieldErr("state", "state must be final or one of %s (comma-separated), got %q", strings.Join(bullseye.States(), ", "), st)
		}
	}
	return states, nil
}

func (c Condition) check() error {
	if _, err := ParseStates(strings.Join(c.States, ",")); err != nil {
		return err
	}
	if c.Attempts < 0 || c.Attempts > bullseye.MaxAttempts { // 0: not a condition
		return fieldErr("attempts", "attempts must be a whole number from 1 to %d", bullseye.MaxAttempts)
	}
	return nil
}

func (c Condition) holds(i sender.DeliveryInfo) bool {
	if len(c.States) == 0 && c.Attempts == 0 {
		return i.Final()
	}
	if len(c.States) > 0 && !slices.Contains(c.States, i.State) && !(slices.Contains(c.States, "final") && i.Final()) {
		return false
	}
	return len(i.Attempts) >= c.Attempts
}

// Wait blocks until delivery id meets c, or ctx ends. It waits on the
// sender's events, never by polling. When ctx ends first it returns the
// delivery as it is and timedOut; the error is for a delivery that does not
// exist or was forgotten while waiting.
func (o *Ops) Wait(ctx context.Context, id string, c Condition) (d sender.DeliveryInfo, timedOut bool, err error) {
	if err := c.check(); err != nil {
		return d, false, err
	}
	if _, err := o.Info(id); err != nil {
		return d, false, err
	}
	d, err = o.sender.Wait(ctx, id, c.holds)
	switch {
	case err == nil:
		return d, false, nil
	case errors.Is(err, sender.ErrNotFound):
		return d, false, fmt.Errorf("delivery %q was forgotten while waiting (reset or evicted): %w", id, ErrNotFound)
	case ctx.Err() != nil:
		d, err = o.Delivery(id)
		return d, true, err
	}
	return d, false, err
}

// WaitedAll is what WaitAll found: how many deliveries it waited for, and
// those still pending when it stopped.
type WaitedAll struct {
	WaitedFor    int
	PendingCount int      // still pending at the end
	Pending      []string // the first MaxPendingShown of them, oldest first
}

// MaxPendingShown bounds the ids a wait for all lists: a summary, not every
// delivery.
const MaxPendingShown = 100

// WaitAll waits until every delivery matching q that is pending when it is
// called is final (deliveries created later are not waited for, so a steady
// stream cannot keep it waiting forever), or ctx ends.
func (o *Ops) WaitAll(ctx context.Context, q Query) (WaitedAll, error) {
	if q.State != "" {
		return WaitedAll{}, fieldErr("state", "state is not a filter of the wait for all: it waits until every matching delivery is final")
	}
	dq, err := o.resolve(q)
	if err != nil {
		return WaitedAll{}, err
	}
	waited, pending, ids := o.sender.WaitAll(ctx, dq, MaxPendingShown)
	out := WaitedAll{WaitedFor: waited, PendingCount: pending, Pending: ids}
	return out, nil
}

// Redeliver sends a known delivery's payload again as a new delivery, due
// now, signed with the webhook's current secret, marked as a duplicate of
// the original. It returns the new id.
func (o *Ops) Redeliver(id string) (string, error) {
	if d, err := o.Info(id); err == nil {
		release, err := o.reserve(1, d.Size)
		if err != nil {
			return "", err
		}
		defer release()
	}
	newID, err := o.sender.Redeliver(id)
	if errors.Is(err, sender.ErrNotFound) {
		return "", noDelivery(id)
	}
	if err != nil {
		return "", senderErr(err)
	}
	return newID, nil
}

// CopiesOf lists the deliveries that repeat one of ids (duplicates and
// replays), in creation order.
func (o *Ops) CopiesOf(ids map[string]bool) []string { return o.sender.CopiesOf(ids) }

// NextDue is the mock time of the next scheduled attempt.
func (o *Ops) NextDue() (time.Time, bool) { return o.sender.NextDue() }

// SigningSecret is the secret delivery id was signed with.
func (o *Ops) SigningSecret(id string) (string, bool) { return o.sender.SigningSecret(id) }

// Stats are the sender's counters.
func (o *Ops) Stats() sender.Stats { return o.sender.Stats() }
