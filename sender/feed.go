package sender

import (
	"time"

	"github.com/google/uuid"

	"github.com/bullseye-mock/bullseye-mock/feed"
)

// DeliveryChange is a delivery's state as the change feed tells it: what a
// row of the delivery list shows, without the attempts themselves (each
// has its own attempt event).
type DeliveryChange struct {
	ID             string     `json:"id"`
	PartnerID      string     `json:"partnerId"`
	Type           string     `json:"type"`
	EventType      string     `json:"eventType"`
	OrganizationID string     `json:"organizationId"`
	DuplicateOf    string     `json:"duplicateOf,omitempty"`
	Fault          string     `json:"fault,omitempty"`
	State          string     `json:"state"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt,omitempty"`
	AttemptCount   int        `json:"attemptCount"`
	Created        bool       `json:"created,omitempty"` // the delivery's first event
}

// tellLocked publishes d's state to the feed, when someone watches; the
// caller holds s.mu, so events come in the order the changes happened.
func (s *Sender) tellLocked(d *delivery, created bool) {
	f := s.cfg.Feed
	if !f.Watching() {
		return
	}
	m := d.meta.Value()
	c := DeliveryChange{
		ID: uuid.UUID(d.id).String(), PartnerID: m.PartnerID, Type: m.Kind, EventType: m.EventType,
		OrganizationID: m.OrganizationID, DuplicateOf: m.DuplicateOf, Fault: string(m.Fault),
		State: d.stateWord(), Created: created,
	}
	if d.wire != nil {
		// The attempts recorded, as the delivery list counts them: a
		// canceled one included, one in flight not yet.
		c.AttemptCount = len(d.wire.attempts)
	}
	if d.state == stScheduled {
		t := time.Unix(0, d.due).UTC()
		c.NextAttemptAt = &t
	}
	f.Publish(feed.Delivery, feed.Attrs{Partner: m.PartnerID, Kind: m.Kind, EventType: m.EventType,
		Organization: m.OrganizationID, State: c.State, Delivery: c.ID}, c)
}

// tellAttemptLocked publishes a finished attempt, as the log holds it.
func (s *Sender) tellAttemptLocked(e *logEntry) {
	f := s.cfg.Feed
	if !f.Watching() {
		return
	}
	a := e.toAttempt()
	f.Publish(feed.Attempt, feed.Attrs{Partner: a.PartnerID, Kind: a.Type, EventType: a.EventType,
		Organization: a.OrganizationID, State: a.Status, Delivery: a.DeliveryID}, a)
}
