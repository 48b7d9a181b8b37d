package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var start = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func fired(t Timer) (time.Time, bool) {
	select {
	case at := <-t.C():
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestManualTimersFireInOrder(t *testing.T) {
	m := NewManual(start)
	var order []int
	got := make(chan int, 10)
	// Created out of order, with a tie at +2m resolved by creation order.
	for i, d := range []time.Duration{3 * time.Minute, time.Minute, 2 * time.Minute, 2 * time.Minute} {
		m.afterFunc(start.Add(d), func() { got <- i })
	}
	ch := m.TimerAt(start.Add(90 * time.Second))
	if m.Pending() != 5 {
		t.Fatalf("pending %d", m.Pending())
	}
	if next, ok := m.Next(); !ok || next != start.Add(time.Minute) {
		t.Errorf("Next = %v %v", next, ok)
	}
	if now := m.Advance(150 * time.Second); now != start.Add(150*time.Second) {
		t.Errorf("Advance returned %v", now)
	}
	for len(got) > 0 {
		order = append(order, <-got)
	}
	if len(order) != 3 || order[0] != 1 || order[1] != 2 || order[2] != 3 {
		t.Errorf("after 2m30s fired %v, want [1 2 3]", order)
	}
	if at, ok := fired(ch); !ok || at != start.Add(90*time.Second) {
		t.Errorf("channel timer: %v %v (want its own deadline)", at, ok)
	}
	m.Set(start.Add(time.Hour))
	for len(got) > 0 {
		order = append(order, <-got)
	}
	if len(order) != 4 || order[3] != 0 {
		t.Errorf("fired %v, want [1 2 3 0]", order)
	}
	if m.Pending() != 0 {
		t.Errorf("pending %d", m.Pending())
	}
	if _, ok := m.Next(); ok {
		t.Error("Next with no timer")
	}
}

func TestManualNeverGoesBack(t *testing.T) {
	m := NewManual(start)
	m.Advance(-time.Hour)
	m.Set(start.Add(-time.Hour))
	if !m.Now().Equal(start) {
		t.Errorf("clock moved back to %v", m.Now())
	}
	// A deadline already passed fires at once.
	if _, ok := fired(m.TimerAt(start)); !ok {
		t.Error("past timer did not fire at once")
	}
}

func TestManualStop(t *testing.T) {
	m := NewManual(start)
	a := m.TimerAt(start.Add(time.Second))
	b := After(m, 2*time.Second)
	if !a.Stop() {
		t.Error("Stop of a pending timer reported false")
	}
	if a.Stop() {
		t.Error("second Stop reported true")
	}
	m.Advance(time.Minute)
	if _, ok := fired(a); ok {
		t.Error("stopped timer fired")
	}
	if _, ok := fired(b); !ok {
		t.Error("other timer did not fire")
	}
	if b.Stop() {
		t.Error("Stop after firing reported true")
	}
}

func TestManualWaitPending(t *testing.T) {
	m := NewManual(start)
	ctx := ctxT(t)
	done := make(chan error)
	go func() { done <- m.WaitPending(ctx, 2) }()
	m.TimerAt(start.Add(time.Second))
	m.TimerAt(start.Add(time.Second))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.WaitPending(cctx, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitPending on a done ctx: %v", err)
	}
	if err := m.WaitPending(cctx, 2); err != nil {
		t.Errorf("WaitPending already satisfied: %v", err)
	}
}

func TestScaledMath(t *testing.T) {
	c := Scaled(600).(*scaled)
	for _, tc := range []struct{ mock, real time.Duration }{
		{time.Minute, 100 * time.Millisecond},
		{5 * time.Minute, 500 * time.Millisecond},
		{30 * time.Minute, 3 * time.Second},
		{30 * time.Second, 50 * time.Millisecond},
	} {
		if got := c.Real(tc.mock); got != tc.real {
			t.Errorf("Real(%s) = %s, want %s", tc.mock, got, tc.real)
		}
	}
	at := c.mockStart.Add(time.Minute)
	if got := c.realTime(at).Sub(c.realStart); got != 100*time.Millisecond {
		t.Errorf("realTime offset %s", got)
	}
	// Mock time runs ahead of real time by the factor: after real
	// elapsed e, mock elapsed is 600e (a lower bound needs no tolerance).
	mockNow := c.Now()
	realElapsed := time.Since(c.realStart)
	if mockElapsed := mockNow.Sub(c.mockStart); mockElapsed > 600*realElapsed || mockElapsed < 0 {
		t.Errorf("mock elapsed %s for real elapsed ≤ %s", mockElapsed, realElapsed)
	}
	for _, f := range []float64{0, -1} {
		if s := Scaled(f).(*scaled); s.factor != 1 {
			t.Errorf("Scaled(%v).factor = %v", f, s.factor)
		}
	}
	if Real().(*scaled).Real(time.Second) != time.Second {
		t.Error("Real clock is scaled")
	}
}

func TestScaledTimerFires(t *testing.T) {
	c := Scaled(1e6)
	select {
	case <-After(c, time.Minute).C(): // 60 µs of real time
	case <-ctxT(t).Done():
		t.Fatal("scaled timer did not fire")
	}
}

func TestWithDeadlineManual(t *testing.T) {
	m := NewManual(start)
	ctx, cancel := WithDeadline(context.Background(), m, start.Add(30*time.Second))
	defer cancel()
	m.Advance(29 * time.Second)
	if ctx.Err() != nil {
		t.Fatal("deadline passed early")
	}
	m.Advance(time.Second)
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("cause %v", context.Cause(ctx))
	}

	// Cancelled first: the cause is Canceled and the timer is gone.
	ctx2, cancel2 := WithDeadline(context.Background(), m, m.Now().Add(time.Minute))
	cancel2()
	if !errors.Is(context.Cause(ctx2), context.Canceled) {
		t.Errorf("cause %v", context.Cause(ctx2))
	}
	if n := m.Pending(); n != 0 {
		t.Errorf("%d timers pending after cancel", n)
	}

	// A deadline already passed is exceeded at once.
	ctx3, cancel3 := WithDeadline(context.Background(), m, start)
	defer cancel3()
	if !errors.Is(context.Cause(ctx3), context.DeadlineExceeded) {
		t.Errorf("past deadline: cause %v", context.Cause(ctx3))
	}

	// The parent's cancellation propagates.
	parent, cancelParent := context.WithCancel(context.Background())
	ctx4, cancel4 := WithDeadline(parent, m, m.Now().Add(time.Hour))
	defer cancel4()
	cancelParent()
	<-ctx4.Done()
}

func TestWithDeadlineScaled(t *testing.T) {
	c := Scaled(1e6)
	ctx, cancel := WithDeadline(context.Background(), c, c.Now().Add(time.Minute))
	defer cancel()
	if _, ok := ctx.Deadline(); !ok {
		t.Error("a scaled clock's deadline should be a real context deadline")
	}
	select {
	case <-ctx.Done():
	case <-ctxT(t).Done():
		t.Fatal("scaled deadline did not pass")
	}
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}

// otherClock is a Clock outside this package, to exercise WithDeadline's
// generic path.
type otherClock struct{ *Manual }

func TestWithDeadlineOtherClock(t *testing.T) {
	m := NewManual(start)
	c := otherClock{m}
	ctx, cancel := WithDeadline(context.Background(), c, start.Add(time.Second))
	defer cancel()
	if err := m.WaitPending(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	m.Advance(time.Second)
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}
