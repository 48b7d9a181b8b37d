package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// The stream of changes (GET /_mock/stream): which events a reader asks
// for, its limits, and the batches it reads, coalesced so that a flood of
// changes cannot flood the reader.

// Limits of a stream.
const (
	DefaultHeartbeat = 15 * time.Second
	MinHeartbeat     = 50 * time.Millisecond
	MaxHeartbeat     = 5 * time.Minute
	DefaultCoalesce  = 100 * time.Millisecond
	MaxCoalesce      = 10 * time.Second
	// MaxBatch is how many events one batch may carry; past it the reader
	// gets a lost event (reason flood) instead, and reloads what it shows.
	MaxBatch = 1000
	// MaxStreams is how many streams may be open at once.
	MaxStreams = feed.MaxReaders
	// MaxStreamLimit bounds Watch.Limit; MaxStreamTimeout Watch.Timeout.
	MaxStreamLimit   = 100_000
	MaxStreamTimeout = 24 * time.Hour
)

// Reasons of an end.
const (
	EndLimit   = "limit"   // the stream sent the events it was asked for
	EndTimeout = "timeout" // the stream ran for the time it was given
)

// Reasons of a lost event.
const (
	LostBehind  = "behind"  // the events after the reader's last are no longer kept
	LostFlood   = "flood"   // more than MaxBatch changes in one coalescing window
	LostUnknown = "unknown" // the reader's last event id was never given (a restarted mock)
)

// ErrBusy refuses a stream past MaxStreams.
var ErrBusy = errors.New("busy")

// Watch is what a stream reads: which events, and filters on them. An
// event is read when it has every field a filter is given for, with that
// value (partner: deliveries, attempts and requests; type, event type,
// organization: deliveries and attempts; delivery: those and sink
// requests; sink: sink requests), so a filter also chooses kinds. Resets
// always come: they void what a reader shows, whatever it filters.
type Watch struct {
	Events       []string // feed names; empty: all
	APIKey       string
	PartnerID    string
	Type         string // webhook kind
	EventType    string
	Organization string
	State        string // a delivery's state (delivery events), or an attempt's status
	DeliveryID   string
	Sink         string
	// Heartbeat is how long a quiet stream waits before a heartbeat;
	// 0: DefaultHeartbeat.
	Heartbeat time.Duration
	// Coalesce is how long a stream gathers changes before it sends them;
	// nil: DefaultCoalesce.
	Coalesce *time.Duration
	// After resumes after the event with this id (SSE's Last-Event-ID); 0
	// reads every event the buffer holds; nil starts with the next event.
	After *uint64
	// Limit ends the stream after this many change events (0: no limit),
	// and Timeout after this long (0: never): a script can wait for the
	// next delivered delivery with one request.
	Limit   int
	Timeout time.Duration
}

// ParseStreamDuration reads the heartbeat, coalesce or timeout parameter;
// OpenStream checks its range.
func ParseStreamDuration(field, raw string) (time.Duration, error) {
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fieldErr(field, "%s must be a Go duration such as 15s, got %q", field, raw)
	}
	return d, nil
}

// ParseEventID reads a Last-Event-ID.
func ParseEventID(field, raw string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return 0, fieldErr(field, "%s must be the id of an event the stream sent (a whole number), got %q", field, raw)
	}
	return n, nil
}

// Stream is an open reader of the change feed.
type Stream struct {
	o         *Ops
	w         Watch
	names     map[string]bool
	partner   string
	heartbeat time.Duration
	coalesce  time.Duration
	cursor    uint64
	resumeErr bool // After named an event never given
	release   func()
	buf       []feed.Event
	sent      int       // change events handed out, for Limit
	deadline  time.Time // zero: none
}

// Batch is what one read of a stream gives: a lost notice first, when
// events were missed; then the events, oldest first. Heartbeat is set when
// nothing happened for the heartbeat interval, Stopping when the mock
// began to shut down, End (EndLimit, EndTimeout) when the stream is done:
// with either the stream should end.
type Batch struct {
	Lost      *Lost
	Events    []feed.Event
	Heartbeat bool
	Stopping  bool
	End       string
}

// Lost tells a reader it missed events and should reload what it shows.
type Lost struct {
	Missed uint64 `json:"missed"`
	Reason string `json:"reason"`
	// LastEventID is the id the stream resumes after.
	LastEventID uint64 `json:"lastEventId"`
}

// OpenStream checks w and opens a stream; Close it when done.
func (o *Ops) OpenStream(w Watch) (*Stream, error) {
	s := &Stream{o: o, w: w, heartbeat: DefaultHeartbeat, coalesce: DefaultCoalesce}
	for _, n := range w.Events {
		if !slices.Contains(feed.Names(), n) {
			return nil, fieldErr("events", "unknown event %q, expected some of %s", n, strings.Join(feed.Names(), ", "))
		}
		if s.names == nil {
			s.names = map[string]bool{}
		}
		s.names[n] = true
	}
	dq, err := o.resolve(Query{APIKey: w.APIKey, PartnerID: w.PartnerID, Type: w.Type, EventType: w.EventType,
		OrganizationID: w.Organization, State: w.State})
	if err != nil {
		return nil, err
	}
	s.partner = dq.PartnerID
	if w.Heartbeat != 0 {
		if w.Heartbeat < MinHeartbeat || w.Heartbeat > MaxHeartbeat {
			return nil, fieldErr("heartbeat", "heartbeat must be from %s to %s, got %s", MinHeartbeat, MaxHeartbeat, w.Heartbeat)
		}
		s.heartbeat = w.Heartbeat
	}
	if w.Coalesce != nil {
		if *w.Coalesce < 0 || *w.Coalesce > MaxCoalesce {
			return nil, fieldErr("coalesce", "coalesce must be from 0s to %s, got %s", MaxCoalesce, *w.Coalesce)
		}
		s.coalesce = *w.Coalesce
	}
	if w.Limit < 0 || w.Limit > MaxStreamLimit {
		return nil, fieldErr("limit", "limit must be from 1 to %d events (0 or none: no limit), got %d", MaxStreamLimit, w.Limit)
	}
	if w.Timeout < 0 || w.Timeout > MaxStreamTimeout {
		return nil, fieldErr("timeout", "timeout must be from 1ns to %s (0 or none: never), got %s", MaxStreamTimeout, w.Timeout)
	}
	if w.Timeout > 0 {
		s.deadline = time.Now().Add(w.Timeout)
	}
	if s.release, err = o.feed.Subscribe(); err != nil {
		return nil, fmt.Errorf("%d streams are open, the most the mock serves at once: close one first: %w", MaxStreams, ErrBusy)
	}
	s.cursor = o.feed.Last()
	switch after := w.After; {
	case after == nil:
	case *after == 0:
		s.cursor = o.feed.Oldest() - 1 // all that is held
	case *after < o.feed.First()-1 || *after > s.cursor:
		s.resumeErr = true // another process's id, or one never given
	default:
		s.cursor = *after
	}
	// One batch and one more, read at a time: enough to tell a flood, and
	// short enough a copy that the publishers (the sender, under its lock)
	// never wait long on the feed.
	s.buf = make([]feed.Event, 0, MaxBatch+1)
	return s, nil
}

// Close gives the stream's place back.
func (s *Stream) Close() { s.release() }

// LastEventID is the id of the last event the stream read.
func (s *Stream) LastEventID() uint64 { return s.cursor }

// Heartbeat is the stream's heartbeat interval.
func (s *Stream) Heartbeat() time.Duration { return s.heartbeat }

// Next waits for the next batch: events that match (a delivery's changes
// within the coalescing window merged into its latest), a lost notice, a
// heartbeat when the stream was quiet, or the mock stopping. It returns
// ctx's error when ctx ends.
func (s *Stream) Next(ctx context.Context) (Batch, error) {
	if s.resumeErr {
		s.resumeErr = false
		return Batch{Lost: &Lost{Reason: LostUnknown, LastEventID: s.cursor}}, nil
	}
	if s.w.Limit > 0 && s.sent >= s.w.Limit {
		return Batch{End: EndLimit}, nil
	}
	quiet := time.NewTimer(s.heartbeat)
	defer quiet.Stop()
	var done <-chan time.Time // the Timeout, when there is one
	if !s.deadline.IsZero() {
		t := time.NewTimer(time.Until(s.deadline))
		defer t.Stop()
		done = t.C
	}
	for {
		if !s.deadline.IsZero() && !time.Now().Before(s.deadline) {
			return Batch{End: EndTimeout}, nil // checked on every pass: a busy stream ends on time too
		}
		evs, missed, wake := s.o.feed.Read(s.cursor, s.buf)
		if missed == 0 && len(evs) == 0 {
			select {
			case <-wake:
			case <-done:
				return Batch{End: EndTimeout}, nil
			case <-quiet.C:
				return Batch{Heartbeat: true}, nil
			case <-s.o.stopped.Done():
				return Batch{Stopping: true}, nil
			case <-ctx.Done():
				return Batch{}, ctx.Err()
			}
			if s.coalesce > 0 {
				// Gather what follows, so that a burst goes out as one batch.
				t := time.NewTimer(s.coalesce)
				select {
				case <-t.C:
				case <-done:
				case <-s.o.stopped.Done():
				case <-ctx.Done():
					t.Stop()
					return Batch{}, ctx.Err()
				}
				t.Stop()
			}
			continue
		}
		var b Batch
		if missed > 0 {
			b.Lost = &Lost{Missed: missed, Reason: LostBehind}
		}
		if len(evs) > 0 {
			s.cursor = evs[len(evs)-1].ID
		}
		matched := s.filter(evs)
		if left := s.w.Limit - s.sent; s.w.Limit > 0 && len(matched) > left {
			// The rest is for the next stream: resume after the last sent.
			matched = matched[:left]
			s.cursor = matched[left-1].ID
		}
		b.Events = s.merge(matched)
		if len(b.Events) > MaxBatch {
			n := uint64(len(b.Events))
			if b.Lost != nil {
				n += b.Lost.Missed
			}
			b.Lost, b.Events = &Lost{Missed: n, Reason: LostFlood}, nil
		}
		s.sent += len(b.Events)
		if b.Lost != nil {
			b.Lost.LastEventID = s.cursor
		}
		if b.Lost == nil && len(b.Events) == 0 {
			continue // nothing matched: wait again, the heartbeat timer still running
		}
		return b, nil
	}
}

// filter keeps the events s asks for, in place.
func (s *Stream) filter(evs []feed.Event) []feed.Event {
	out := evs[:0]
	for _, e := range evs {
		if s.matches(e) {
			out = append(out, e)
		}
	}
	return out
}

func (s *Stream) matches(e feed.Event) bool {
	if e.Name == feed.Reset {
		return true
	}
	if s.names != nil && !s.names[e.Name] {
		return false
	}
	a, w := e.Attrs, s.w
	ok := func(want, have string) bool { return want == "" || want == have }
	return ok(s.partner, a.Partner) && ok(w.Type, a.Kind) && ok(w.EventType, a.EventType) &&
		ok(w.Organization, a.Organization) && ok(w.State, a.State) && ok(w.DeliveryID, a.Delivery) && ok(w.Sink, a.Sink)
}

// merge keeps each delivery's last change only (remembering that it was
// created, when one of the merged ones says so), in place.
func (s *Stream) merge(evs []feed.Event) []feed.Event {
	last := map[string]int{}
	for i, e := range evs {
		if e.Name == feed.Delivery {
			last[e.Attrs.Delivery] = i
		}
	}
	if len(last) == 0 {
		return evs
	}
	created := map[string]bool{}
	out := evs[:0]
	for i, e := range evs {
		if e.Name == feed.Delivery {
			id := e.Attrs.Delivery
			c, _ := e.Data.(sender.DeliveryChange)
			if last[id] != i {
				created[id] = created[id] || c.Created
				continue
			}
			if created[id] && !c.Created {
				c.Created = true
				e.Data = c
			}
		}
		out = append(out, e)
	}
	return out
}
