package ops

import (
	"time"

	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/journal"
)

// The change feed: the sender tells it of deliveries and attempts; ops of
// journaled requests, clock moves and resets; the sinks of what they
// receive. The stream (GET /_mock/stream) reads it.

// Feed is the mock's change feed.
func (o *Ops) Feed() *feed.Feed { return o.feed }

// ClockState is the mock clock as GET /_mock/clock and the stream's clock
// event tell it.
type ClockState struct {
	Now     time.Time  `json:"now"`
	Manual  bool       `json:"manual"`
	NextDue *time.Time `json:"nextDue"`
}

// ClockState reads the clock and the next due attempt.
func (o *Ops) ClockState() ClockState {
	c := ClockState{Now: o.clock.Now().UTC(), Manual: o.manual != nil}
	if t, ok := o.NextDue(); ok {
		c.NextDue = &t
	}
	return c
}

func (o *Ops) tellClock() {
	if o.feed.Watching() {
		o.feed.Publish(feed.Clock, feed.Attrs{}, o.ClockState())
	}
}

// RequestEvent is a journaled Partner API request as the stream tells it:
// the journal entry without headers and bodies (GET /_mock/requests has
// them).
type RequestEvent struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	RealTime  time.Time `json:"realTime"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query"`
	PartnerID string    `json:"partnerId,omitempty"`
	Status    int       `json:"status"`
	LatencyMs float64   `json:"latencyMs"`
	Fault     string    `json:"fault,omitempty"`
}

func (o *Ops) tellRequest(e journal.Entry) {
	if !o.feed.Watching() {
		return
	}
	o.feed.Publish(feed.Request, feed.Attrs{Partner: e.PartnerID}, RequestEvent{
		ID: e.ID, Time: e.Time, RealTime: e.RealTime, Method: e.Method, Path: e.Path, Query: e.Query,
		PartnerID: e.PartnerID, Status: e.Status, LatencyMs: e.LatencyMs, Fault: e.Fault,
	})
}
