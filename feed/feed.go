// Package feed is the mock's change feed: every change someone watching
// the mock may want (a delivery created or changed state, an attempt
// finished, a sink received a request, a Partner API request was
// journaled, the manual clock moved, a reset), numbered in order and kept
// in a bounded ring, so that a reader that fell behind, or reconnects with
// the last id it saw (Server-Sent Events' Last-Event-ID), resumes where it
// left off, or is told how many events it missed.
//
// Until the first reader subscribes, Publish costs one atomic load and the
// ring is not even allocated: the mock pays for the feed only once someone
// watches. From then on the ring holds the latest events, so resumption
// works for readers that connected before; a reader that was never there
// has nothing to resume.
//
// Ids start at the process's start time in microseconds, so an id from an
// earlier process (a reader that reconnects to a restarted mock) is below
// this one's first and is told apart from a real position.
package feed

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults and bounds.
const (
	// DefaultCapacity is how many events the ring keeps.
	DefaultCapacity = 10_000
	// MaxReaders bounds the readers subscribed at once (open streams).
	MaxReaders = 64
)

// ErrTooManyReaders is Subscribe's answer past MaxReaders.
var ErrTooManyReaders = errors.New("feed: too many readers")

// Event is one change. Data is marshalled to JSON by whoever writes it out.
type Event struct {
	ID    uint64 // increasing in publishing order; never reused, not even by a reset
	Name  string
	Attrs Attrs
	Data  any
}

// Attrs are what readers filter events on; an empty field is one the
// event does not have.
type Attrs struct {
	Partner      string
	Kind         string // identification or billing
	EventType    string
	Organization string
	State        string // a delivery's state
	Delivery     string
	Sink         string
}

// Feed is safe for concurrent use.
type Feed struct {
	watching atomic.Bool

	mu       sync.Mutex
	capacity int
	ring     []Event // event i lives at i % len(ring); made by the first Subscribe
	first    uint64  // the id of the first event
	next     uint64  // the id the next event gets
	wake     chan struct{}
	readers  int
}

// New returns a feed keeping capacity events (DefaultCapacity when <= 0).
func New(capacity int) *Feed {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	first := uint64(time.Now().UnixMicro())
	return &Feed{capacity: capacity, first: first, next: first}
}

// First is the id the feed's first event gets: an id below it is from
// another process.
func (f *Feed) First() uint64 { return f.first }

// Watching says whether anyone ever subscribed: publishers may skip
// building an event's data when not.
func (f *Feed) Watching() bool { return f != nil && f.watching.Load() }

// Publish numbers an event and keeps it, waking every waiting reader. It
// does nothing until the first Subscribe, and on a nil feed.
func (f *Feed) Publish(name string, a Attrs, data any) {
	if !f.Watching() {
		return
	}
	f.mu.Lock()
	id := f.next
	f.next++
	f.ring[id%uint64(len(f.ring))] = Event{ID: id, Name: name, Attrs: a, Data: data}
	if f.wake != nil {
		close(f.wake)
		f.wake = nil
	}
	f.mu.Unlock()
}

// Last is the id of the newest event, First()-1 when there is none.
func (f *Feed) Last() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next - 1
}

// Oldest is the id of the oldest event the ring holds (the next one's when
// it holds none): a reader that wants everything kept starts before it.
func (f *Feed) Oldest() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.oldestLocked()
}

func (f *Feed) oldestLocked() uint64 {
	if size := uint64(len(f.ring)); f.next-f.first > size {
		return f.next - size
	}
	return f.first
}

// Subscribe takes a reader's place, and starts the feed keeping events if
// it was not. The returned func gives the place back.
func (f *Feed) Subscribe() (release func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readers >= MaxReaders {
		return nil, ErrTooManyReaders
	}
	f.readers++
	if f.ring == nil {
		f.ring = make([]Event, f.capacity)
	}
	f.watching.Store(true)
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.readers--
			f.mu.Unlock()
		})
	}, nil
}

// Readers is how many readers are subscribed.
func (f *Feed) Readers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readers
}

// Read appends to buf[:0] the events after the one numbered after, oldest
// first, at most cap(buf) of them. missed counts the events after it that
// the ring no longer holds (the reader fell behind). wake is closed by the
// next Publish: a reader that got fewer than cap(buf) events has them all
// and waits on it; one that got cap(buf) reads again at once.
func (f *Feed) Read(after uint64, buf []Event) (events []Event, missed uint64, wake <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan struct{})
	}
	if f.ring == nil { // nobody subscribed: nothing was kept
		return buf[:0], 0, f.wake
	}
	oldest := f.oldestLocked()
	from := after + 1
	if from < oldest {
		missed, from = oldest-from, oldest
	}
	events = buf[:0]
	for id := from; id < f.next && len(events) < cap(buf); id++ {
		events = append(events, f.ring[id%uint64(len(f.ring))])
	}
	return events, missed, f.wake
}

// The events' names, as the stream sends them.
const (
	Delivery = "delivery" // a delivery was created or changed state
	Attempt  = "attempt"  // an attempt finished (an entry of the attempt log)
	Sink     = "sink"     // a sink received a request
	Request  = "request"  // a Partner API request was journaled
	Clock    = "clock"    // the manual clock moved
	Reset    = "reset"    // the mock was reset: what a reader shows is void
)

// Names lists the changes' names, in the order the docs give them.
func Names() []string { return []string{Delivery, Attempt, Sink, Request, Clock, Reset} }

// The names of what a stream says of itself rather than of the mock.
const (
	Hello    = "hello"    // first: where the stream starts, and the clock
	Lost     = "lost"     // events were missed: reload what you show
	Stopping = "stopping" // the mock is shutting down; the stream ends
	End      = "end"      // the stream's limit or timeout was reached; it ends
)
