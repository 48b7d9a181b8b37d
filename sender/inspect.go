package sender

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/google/uuid"
)

// DeliveryInfo is everything the control API shows about one delivery.
type DeliveryInfo struct {
	ID             string         `json:"id"`
	PartnerID      string         `json:"partnerId"`
	Type           string         `json:"type"`
	EventType      string         `json:"eventType"`
	OrganizationID string         `json:"organizationId"`
	DuplicateOf    string         `json:"duplicateOf,omitempty"`
	Fault          bullseye.Fault `json:"fault,omitempty"`
	State          string         `json:"state"` // one of the State* words
	// NextAttemptAt is when the next attempt is due, while one is scheduled.
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Attempts made so far (a canceled entry counts as one, without HTTP).
	Attempts []AttemptInfo `json:"attempts"`
	// Body is the payload as given to Send (or built from its Payload);
	// SentBody is what went on the wire when a fault changed it
	// (FaultOtherBytes), else nil. Both are copies; the control API decides
	// how to render them. Lists (Deliveries), Info and WaitInfo leave
	// Body nil: Delivery and Wait build it.
	Body     []byte `json:"-"`
	SentBody []byte `json:"-"`
	// Policy is the retry policy the delivery follows.
	Policy bullseye.Policy `json:"-"`
	// Size is what the pending-bytes budget counts the payload as: its
	// length, or for a generated payload its estimate.
	Size int64 `json:"-"`
}

// AttemptInfo is a log entry plus what was on the wire.
type AttemptInfo struct {
	Attempt
	// RequestHeaders are the headers the attempt sent (none for a canceled one).
	RequestHeaders http.Header `json:"requestHeaders,omitempty"`
	// ResponseExcerpt is the start of the response body (up to 1 KiB).
	ResponseExcerpt string `json:"responseExcerpt,omitempty"`
}

// Final reports whether the delivery is done: delivered, failed or canceled.
func (i DeliveryInfo) Final() bool {
	return i.State == bullseye.StateDelivered || i.State == bullseye.StateFailed || i.State == bullseye.StateCanceled
}

// IsFinal is a predicate for Wait: the delivery is done.
func IsFinal(i DeliveryInfo) bool { return i.Final() }

// HasAttempts is a predicate for Wait: at least n attempts are recorded.
func HasAttempts(n int) func(DeliveryInfo) bool {
	return func(i DeliveryInfo) bool { return len(i.Attempts) >= n }
}

// InState is a predicate for Wait: the delivery is in one of the states.
func InState(states ...string) func(DeliveryInfo) bool {
	return func(i DeliveryInfo) bool { return slices.Contains(states, i.State) }
}

// Delivery returns a delivery's details, its payload included: any pending
// delivery, and the newest DeliveryCap finished ones.
func (s *Sender) Delivery(id string) (DeliveryInfo, bool) {
	info, d, ok := s.lookup(id)
	if !ok {
		return info, false
	}
	return withBody(info, d), true
}

// Info is Delivery without the payload, as the lists give it: for callers
// that read a delivery's state, since building a generated payload is the
// costliest part of a read.
func (s *Sender) Info(id string) (DeliveryInfo, bool) {
	info, _, ok := s.lookup(id)
	return info, ok
}

func (s *Sender) lookup(id string) (DeliveryInfo, *delivery, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.lookupLocked(id)
	if !ok {
		return DeliveryInfo{}, nil, false
	}
	return s.infoLocked(d), d, true
}

// withBody builds the payload into info, outside the sender's lock: for a
// generated payload that is the whole payload's generation.
func withBody(info DeliveryInfo, d *delivery) DeliveryInfo {
	info.Body = d.body.Build()
	return info
}

func (s *Sender) infoLocked(d *delivery) DeliveryInfo {
	m := d.meta.Value()
	info := DeliveryInfo{
		ID: uuid.UUID(d.id).String(), PartnerID: m.PartnerID, Type: m.Kind, EventType: m.EventType,
		OrganizationID: m.OrganizationID, DuplicateOf: m.DuplicateOf, Fault: m.Fault,
		State: d.stateWord(), Policy: *s.policyOf(&m), Size: d.body.Size(),
		Attempts: []AttemptInfo{},
	}
	if d.state == stScheduled {
		t := time.Unix(0, d.due).UTC()
		info.NextAttemptAt = &t
	}
	if w := d.wire; w != nil {
		if w.other != "" {
			info.SentBody = []byte(w.other)
		}
		for _, r := range w.attempts {
			ai := AttemptInfo{Attempt: r.entry.toAttempt(), ResponseExcerpt: r.excerpt}
			if r.entry.status != logCanceled {
				ai.RequestHeaders = s.requestHeaders(d, w, int(r.entry.attempt))
			}
			info.Attempts = append(info.Attempts, ai)
		}
	}
	return info
}

// DeliveryQuery selects deliveries for the control API. Empty filters match
// everything; PartnerID "" means every partner here (the control API is not
// a tenant's view).
type DeliveryQuery struct {
	PartnerID      string
	Type           string
	EventType      string
	OrganizationID string
	State          string // a State* word
	// URL keeps the deliveries with an attempt sent to a URL containing it
	// (one not yet attempted has no URL: its webhook may still change).
	URL      string
	Page     int // 1-based; default 1
	PageSize int // default 20
}

// Deliveries lists the known deliveries (pending, and the retained
// finished ones), newest first, one page, with the number matching.
func (s *Sender) Deliveries(q DeliveryQuery) ([]DeliveryInfo, int) {
	page, size := max(q.Page, 1), q.PageSize
	if size < 1 {
		size = 20
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One pass from the newest, without collecting or sorting: a page costs
	// the page when nothing is filtered (the total is the index's count),
	// and a scan of the known deliveries otherwise.
	unfiltered := q == DeliveryQuery{Page: q.Page, PageSize: q.PageSize}
	out, skip, total := []DeliveryInfo{}, (page-1)*size, 0
	for i := len(s.order) - 1; i >= 0; i-- {
		d := s.order[i]
		if d.gone || !q.matches(d) {
			continue
		}
		if total >= skip && len(out) < size {
			out = append(out, s.infoLocked(d))
		}
		total++
		if unfiltered && len(out) == size {
			return out, s.byID.n
		}
	}
	return out, total
}

// WaitAll waits until every delivery matching q (its State and paging
// aside) that is pending now is final, or ctx ends. It reports how many it
// waited for, how many are still pending, and the first show of their ids,
// oldest first. It holds pointers, not ids, and checks from the oldest, so a
// wait for a million deliveries costs a pass over them in all.
func (s *Sender) WaitAll(ctx context.Context, q DeliveryQuery, show int) (waitedFor, pending int, ids []string) {
	q.State, q.URL = "", "" // every pending delivery of the rest of q
	s.mu.Lock()
	var left []*delivery
	for _, d := range s.order {
		if !d.gone && !d.final() && q.matches(d) {
			left = append(left, d)
		}
	}
	s.mu.Unlock()
	next := 0 // left[:next] are final
	_ = s.waitFor(ctx, func() bool {
		for next < len(left) && left[next].final() {
			next++
		}
		return next == len(left)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	ids = []string{}
	for _, d := range left[next:] {
		if d.final() {
			continue
		}
		if pending++; len(ids) < show {
			ids = append(ids, uuid.UUID(d.id).String())
		}
	}
	return len(left), pending, ids
}

// WaitFinal blocks until every delivery of ids that exists is final (or
// dropped by Reset), or ctx ends. It looks the ids up once and checks
// states, where a Wait per id would copy each delivery's details on every
// change: a send of a million waits on it.
func (s *Sender) WaitFinal(ctx context.Context, ids []string) error {
	s.mu.Lock()
	left := make([]*delivery, 0, len(ids))
	for _, id := range ids {
		if d, ok := s.lookupLocked(id); ok {
			left = append(left, d)
		}
	}
	s.mu.Unlock()
	next := 0 // left[:next] are final
	return s.waitFor(ctx, func() bool {
		for next < len(left) && left[next].final() {
			next++
		}
		return next == len(left)
	})
}

// SigningSecret is the secret a delivery is signed with, captured at Send,
// so that a receiver inside the mock verifies its retries correctly after
// the webhook's secret changed.
func (s *Sender) SigningSecret(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.lookupLocked(id)
	if !ok {
		return "", false
	}
	return d.meta.Value().Secret, true
}

// CopiesOf lists, in creation order, the known deliveries that repeat one
// of ids (duplicates and replays: DuplicateOf names it).
func (s *Sender) CopiesOf(ids map[string]bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.order {
		if !d.gone && ids[d.meta.Value().DuplicateOf] {
			out = append(out, uuid.UUID(d.id).String())
		}
	}
	return out
}

// sentTo reports whether an attempt of d went to a URL containing part;
// the caller holds the lock (attempts are appended under it).
func (d *delivery) sentTo(part string) bool {
	if d.wire == nil {
		return false
	}
	for i := range d.wire.attempts {
		if strings.Contains(d.wire.attempts[i].entry.url, part) {
			return true
		}
	}
	return false
}

// matches reports whether d passes q's filters; the caller holds the lock.
func (q *DeliveryQuery) matches(d *delivery) bool {
	if q.State != "" && d.stateWord() != q.State {
		return false
	}
	if q.URL != "" && !d.sentTo(q.URL) {
		return false
	}
	if q.PartnerID == "" && q.Type == "" && q.EventType == "" && q.OrganizationID == "" {
		return true
	}
	m := d.meta.Value()
	return (q.PartnerID == "" || m.PartnerID == q.PartnerID) && (q.Type == "" || m.Kind == q.Type) &&
		(q.EventType == "" || m.EventType == q.EventType) && (q.OrganizationID == "" || m.OrganizationID == q.OrganizationID)
}

// Wait blocks until the delivery satisfies pred (IsFinal, HasAttempts,
// InState, or any function) and returns its details then, its payload
// included; or until ctx ends. It wakes on the sender's own events, never by
// polling, so a long-poll costs nothing while it waits. pred runs with the
// sender's lock held and sees no Body: it must be quick and must not call
// the Sender.
func (s *Sender) Wait(ctx context.Context, id string, pred func(DeliveryInfo) bool) (DeliveryInfo, error) {
	info, d, err := s.wait(ctx, id, pred)
	if d != nil {
		info = withBody(info, d)
	}
	return info, err
}

// WaitInfo is Wait without the payload, for callers that wait on state.
func (s *Sender) WaitInfo(ctx context.Context, id string, pred func(DeliveryInfo) bool) (DeliveryInfo, error) {
	info, _, err := s.wait(ctx, id, pred)
	return info, err
}

func (s *Sender) wait(ctx context.Context, id string, pred func(DeliveryInfo) bool) (DeliveryInfo, *delivery, error) {
	for {
		s.mu.Lock()
		d, ok := s.lookupLocked(id)
		if !ok {
			s.mu.Unlock()
			return DeliveryInfo{}, nil, ErrNotFound
		}
		info := s.infoLocked(d)
		if pred(info) {
			s.mu.Unlock()
			return info, d, nil
		}
		ch := s.changedLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return info, d, ctx.Err()
		}
	}
}

// waitFor blocks until cond (called with the lock held) holds or ctx ends.
func (s *Sender) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.changedLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Idle waits until nothing is due at the current mock time, waiting for a
// worker or in flight. With a manual clock, that is "everything this
// instant allows has happened": tests call it after moving the clock.
func (s *Sender) Idle(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		if s.st.ready > 0 || s.st.inFlight > 0 {
			return false
		}
		head, ok := s.headLocked()
		return !ok || head > s.clock.Now().UnixNano()
	})
}

// Settled waits until every delivery is final: nothing scheduled, ready or
// in flight. With a manual clock it only returns once the clock has been
// moved past every retry.
func (s *Sender) Settled(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		return s.st.ready == 0 && s.st.inFlight == 0 && s.st.scheduled == 0 && s.st.retrying == 0
	})
}

// NextDue returns the mock time of the earliest scheduled attempt; the
// control API moves a manual clock there ("advance to the next attempt").
func (s *Sender) NextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	head, ok := s.headLocked()
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, head).UTC(), true
}

// Redeliver sends a known delivery's payload again as a new delivery, due
// now, signed with the target's current secret, marked as a duplicate of
// the original, with the same fault and policy. It returns the new id.
func (s *Sender) Redeliver(id string) (string, error) {
	s.mu.Lock()
	d, ok := s.lookupLocked(id)
	if !ok {
		s.mu.Unlock()
		return "", ErrNotFound
	}
	m := d.meta.Value()
	s.mu.Unlock()
	return s.Send(Delivery{
		PartnerID: m.PartnerID, Kind: m.Kind, EventType: m.EventType, OrganizationID: m.OrganizationID,
		Payload: d.body, Fault: m.Fault, DuplicateOf: id, Policy: m.Policy,
	})
}

// Reset forgets every delivery, pending ones included, the log and the
// counters, as if the sender were new. Attempts in flight finish, but their
// outcome is discarded.
func (s *Sender) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.byID.all {
		d.state = stDropped
	}
	s.heap = nil
	s.byID = index{}
	s.order, s.holes = nil, 0
	s.logs = newAttemptLog(s.cfg.LogCap)
	s.retained = newRing(s.cfg.DeliveryCap)
	s.st = counters{ready: 0, inFlight: s.st.inFlight}
	s.notifyLocked()
}

// latencyStats turns the per-slot counts into Prometheus's cumulative form.
func (c *counters) latencyStats() Latency {
	lat := Latency{Bounds: append([]float64(nil), latencyBounds[:]...), Buckets: make([]uint64, len(latencyBounds)), Sum: c.latencySum.Seconds()}
	for i, n := range c.latency {
		lat.Count += n
		if i < len(latencyBounds) {
			lat.Buckets[i] = lat.Count
		}
	}
	return lat
}

// Latency is the histogram of attempt durations in mock time, in the shape
// Prometheus wants: Buckets[i] counts the attempts of at most Bounds[i]
// seconds (cumulative); Count and Sum (seconds) cover every attempt.
type Latency struct {
	Bounds  []float64
	Buckets []uint64
	Count   uint64
	Sum     float64
}

// Stats is a snapshot of the sender's counters (for metrics).
type Stats struct {
	Pending      int   // deliveries not final (the next four together)
	PendingBytes int64 // their payloads' Size: bytes given, or a recipe's estimate
	Scheduled    int   // waiting for their first attempt
	Retrying     int   // waiting for a retry
	Ready        int   // due, waiting for a worker or an endpoint slot
	InFlight     int
	Retained     int // finished deliveries whose details are kept
	LogEntries   int
	LogEvicted   uint64 // entries evicted from the log since start (or Reset)
	// Totals since start (or Reset).
	Sent           uint64 // deliveries accepted
	Attempts       uint64 // HTTP attempts made
	FailedAttempts uint64
	Delivered      uint64 // deliveries by final state
	Failed         uint64
	Canceled       uint64
	// Latency of the attempts made (canceled ones made no HTTP).
	Latency Latency
}

// Progress is a count that grows whenever an attempt starts or ends: a
// clock move tells a busy sender from a hanging receiver by it.
func (s *Sender) Progress() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.attempts + s.st.ended
}

// Stats returns the current counters.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	return Stats{
		Latency: st.latencyStats(),
		Pending: st.scheduled + st.retrying + st.ready + st.inFlight, PendingBytes: st.pendingBytes,
		Scheduled: st.scheduled, Retrying: st.retrying, Ready: st.ready, InFlight: st.inFlight,
		Retained: len(s.retained.buf), LogEntries: s.logs.n, LogEvicted: s.logs.evicted,
		Sent: st.sent, Attempts: st.attempts, FailedAttempts: st.failedAttempts,
		Delivered: st.delivered, Failed: st.failed, Canceled: st.canc,
	}
}
