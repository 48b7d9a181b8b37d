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
func WithDeadline(ctx context.Context, c Clock, at time.Time) (context.Context, context.CancelFunc) {
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
func Scaled(factor float64) Clock {
	if factor <= 0 {
		factor = 1
	}
	now := time.Now()
	return &scaled{factor: factor, realStart: now, mockStart: now.UTC().Truncate(time.Millisecond)}
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
	return time.Duration(float64(d) / s.factor)
}

func (s *scaled) TimerAt(at time.Time) Timer {
	return realTimer{time.NewTimer(s.Real(at.Sub(s.Now())))}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Manual is a clock that stands still until Advance or Set moves it. Timers
// whose deadline is reached fire in deadline order as it moves.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*manualTimer
	changed chan struct{} // closed and replaced whenever a timer is added
}

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start.UTC(), changed: make(chan struct{})}
}

type manualTimer struct {
	m  *Manual
	at time.Time
	c  chan time.Time
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
	m.mu.Lock()
	defer m.mu.Unlock()
	if !at.After(m.now) {
		t.c <- m.now
		return t
	}
	m.timers = append(m.timers, t)
	close(m.changed)
	m.changed = make(chan struct{})
	return t
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

// Set moves the clock to t (never backwards) and fires the timers it passes.
func (m *Manual) Set(t time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.After(m.now) {
		m.now = t.UTC()
	}
	sort.SliceStable(m.timers, func(i, j int) bool { return m.timers[i].at.Before(m.timers[j].at) })
	n := 0
	for n < len(m.timers) && !m.timers[n].at.After(m.now) {
		m.timers[n].c <- m.timers[n].at
		n++
	}
	m.timers = append(m.timers[:0], m.timers[n:]...)
	return m.now
}

// Pending counts the timers not yet fired.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.timers)
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
