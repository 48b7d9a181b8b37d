// Package clock is the one source of time for the mock. Every wait, timeout
// and timestamp goes through a Clock so that a run can use real time, real
// time sped up by a factor, or a manual clock that moves only when told to.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells mock time and fires timers in mock time.
type Clock interface {
	Now() time.Time
	// TimerAt returns a timer that fires once mock time reaches at. Timers
	// take an absolute deadline so that a deadline computed before a manual
	// clock moves is still honoured after it moved.
	TimerAt(at time.Time) Timer
}

// Timer is a one-shot timer in mock time.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was pending.
	Stop() bool
}

// After is a timer that fires d of mock time from now.
func After(c Clock, d time.Duration) Timer { return c.TimerAt(c.Now().Add(d)) }

// WithDeadline derives a context that is cancelled when mock time reaches at.
// When the deadline passes, context.Cause(ctx) is context.DeadlineExceeded;
// use that (not ctx.Err) to tell a timeout from a cancellation.
//
// The clocks of this package need no goroutine for it: a scaled clock maps
// the deadline to real time, a manual clock runs a callback when it moves
// past it. The sender derives one such context per HTTP attempt, so a
// goroutine each would be a measurable cost at thousands of attempts a second.
func WithDeadline(ctx context.Context, c Clock, at time.Time) (context.Context, context.CancelFunc) {
	switch c := c.(type) {
	case *scaled:
		return context.WithDeadline(ctx, c.realTime(at))
	case *Manual:
		ctx, cancel := context.WithCancelCause(ctx)
		t := c.afterFunc(at, func() { cancel(context.DeadlineExceeded) })
		// The parent's end stops the timer too (from AfterFunc's goroutine);
		// our own cancel stops it at once, so Pending drops synchronously.
		stop := context.AfterFunc(ctx, func() { t.Stop() })
		return ctx, func() {
			stop()
			t.Stop()
			cancel(context.Canceled)
		}
	}
	// Any other Clock implementation: wait on its timer in a goroutine.
	ctx, cancel := context.WithCancelCause(ctx)
	t := c.TimerAt(at)
	go func() {
		select {
		case <-t.C():
			cancel(context.DeadlineExceeded)
		case <-ctx.Done():
			t.Stop()
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// Real is the wall clock.
func Real() Clock { return Scaled(1) }

// Scaled runs mock time factor times faster than real time, starting at the
// real time of the call: with factor 600 a one-minute retry waits 100 ms.
// A factor that is not positive means 1.
func Scaled(factor float64) Clock { return ScaledFrom(factor, time.Time{}) }

// ScaledFrom is Scaled with mock time starting at start (zero: the real
// time of the call), so that runs started at different moments stamp the
// same instants.
func ScaledFrom(factor float64, start time.Time) Clock {
	if !(factor > 0) { // also catches NaN
		factor = 1
	}
	now := time.Now()
	if start.IsZero() {
		start = now.Truncate(time.Millisecond)
	}
	return &scaled{factor: factor, realStart: now, mockStart: start.UTC()}
}

type scaled struct {
	factor    float64
	realStart time.Time // carries the monotonic reading
	mockStart time.Time
}

func (s *scaled) Now() time.Time {
	elapsed := time.Since(s.realStart)
	if s.factor != 1 {
		elapsed = time.Duration(float64(elapsed) * s.factor)
	}
	return s.mockStart.Add(elapsed)
}

// Real returns the wall-clock duration that a mock duration d takes.
func (s *scaled) Real(d time.Duration) time.Duration {
	if s.factor == 1 {
		return d
	}
	return time.Duration(float64(d) / s.factor)
}

// realTime maps a mock instant to the real instant (with a monotonic
// reading, so wall-clock jumps do not disturb deadlines) at which it occurs.
func (s *scaled) realTime(at time.Time) time.Time {
	return s.realStart.Add(s.Real(at.Sub(s.mockStart)))
}

func (s *scaled) TimerAt(at time.Time) Timer {
	return realTimer{time.NewTimer(time.Until(s.realTime(at)))}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Manual is a clock that stands still until Advance or Set moves it. Timers
// whose deadline is reached fire in deadline order as it moves (timers with
// the same deadline fire in the order they were created).
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	timers  []*manualTimer
	changed chan struct{} // closed and replaced whenever a timer is added
}

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start.UTC(), changed: make(chan struct{})}
}

type manualTimer struct {
	m   *Manual
	at  time.Time
	seq uint64         // creation order, to break ties between equal deadlines
	c   chan time.Time // nil for callback timers
	f   func()
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	for i, x := range t.m.timers {
		if x == t {
			t.m.timers = append(t.m.timers[:i], t.m.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Now reads the clock.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// TimerAt returns a timer that fires when the clock reaches at; at once if it has.
func (m *Manual) TimerAt(at time.Time) Timer {
	t := &manualTimer{m: m, at: at, c: make(chan time.Time, 1)}
	m.add(t)
	return t
}

// afterFunc runs f (in the goroutine that moves the clock, or at once in the
// caller's if at has passed) when the clock reaches at.
func (m *Manual) afterFunc(at time.Time, f func()) *manualTimer {
	t := &manualTimer{m: m, at: at, f: f}
	m.add(t)
	return t
}

func (m *Manual) add(t *manualTimer) {
	m.mu.Lock()
	if !t.at.After(m.now) {
		now := m.now
		m.mu.Unlock()
		t.fire(now)
		return
	}
	m.seq++
	t.seq = m.seq
	m.timers = append(m.timers, t)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

func (t *manualTimer) fire(now time.Time) {
	if t.f != nil {
		t.f()
		return
	}
	t.c <- now // buffered 1, and a timer fires once: never blocks
}

// Advance moves the clock forward by d and fires the timers it passes.
func (m *Manual) Advance(d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	m.mu.Lock()
	to := m.now.Add(d)
	m.mu.Unlock()
	return m.Set(to)
}

// Set moves the clock to t (never backwards) and fires the timers it passes,
// in deadline order. A channel timer receives its own deadline, as if it had
// been read the instant it fired. Callbacks run after the clock has moved
// and outside its lock, so they may read the clock or add timers.
func (m *Manual) Set(t time.Time) time.Time {
	m.mu.Lock()
	if t.After(m.now) {
		m.now = t.UTC()
	}
	now := m.now
	sort.Slice(m.timers, func(i, j int) bool {
		a, b := m.timers[i], m.timers[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.seq < b.seq
	})
	n := 0
	for n < len(m.timers) && !m.timers[n].at.After(now) {
		n++
	}
	due := append([]*manualTimer(nil), m.timers[:n]...)
	m.timers = append(m.timers[:0], m.timers[n:]...)
	m.mu.Unlock()
	for _, x := range due {
		if x.f != nil {
			x.f()
		} else {
			x.c <- x.at
		}
	}
	return now
}

// Pending counts the timers not yet fired.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
}

// Next reports the earliest deadline among the pending timers.
func (m *Manual) Next() (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var next time.Time
	for i, t := range m.timers {
		if i == 0 || t.at.Before(next) {
			next = t.at
		}
	}
	return next, len(m.timers) > 0
}

// WaitPending blocks until at least n timers are pending or ctx ends. Tests use
// it to know that a goroutine is parked on the clock before they move it.
func (m *Manual) WaitPending(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		got, changed := len(m.timers), m.changed
		m.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
