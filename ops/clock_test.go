package ops_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// The one rule for a hanging receiver, on every surface that moves the
// clock: a move stops at its target with the attempt still in flight
// ("idle": false), and a later move past the attempt's deadline times it
// out exactly at that deadline, so the retry comes at +1m30s.
func TestAdvanceWithAHangingReceiver(t *testing.T) {
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer recv.Close()
	defer close(release)
	s := mocktest.NewServer(t, mocktest.WithConfig(func(c *mock.Config) { c.Grace = 20 * time.Millisecond }))
	s.SetWebhook(bullseye.KindIdentification, recv.URL, "whsec")
	id := s.Trigger(bullseye.EventVisitorIdentified, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a, err := s.Ops().AdvanceClock(ctx, ops.Advance{By: ops.D(10 * time.Second)})
	if err != nil || a.Idle || a.Now.Sub(a.Before) != 10*time.Second {
		t.Fatalf("advance 10s past a hanging receiver = %+v, %v; want not idle, at +10s", a, err)
	}
	if d, _ := s.Ops().Delivery(id); d.State != bullseye.StateInFlight {
		t.Fatalf("the attempt is %s, want in flight", d.State)
	}
	a, err = s.Ops().AdvanceClock(ctx, ops.Advance{By: ops.D(time.Minute + 20*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Now.Equal(mocktest.Start().Add(90 * time.Second)) {
		t.Errorf("clock at %s, want +1m30s", a.Now)
	}
	// The first attempt timed out at +30s; the retry, due 1m later, is in
	// flight to the same hanging receiver.
	d := s.Wait(id, ops.Condition{Attempts: 1, States: []string{bullseye.StateInFlight}})
	first := d.Attempts[0]
	if first.ResponseTimeMs != 30000 || first.Status != bullseye.StatusRetrying || first.NextAttemptAt == nil {
		t.Fatalf("first attempt %+v, want a timeout after 30 s", first.Attempt)
	}
	if got := first.NextAttemptAt.Sub(first.AttemptedAt); got != 90*time.Second {
		t.Errorf("retry due at +%s, want +1m30s (1m after the 30 s timeout)", got)
	}
}

// A sender working through a backlog longer than the grace period is busy,
// not hanging: a move or a settle waits for it as long as attempts start
// and end, and no answered attempt is logged as a timeout (they were, and
// sent again, when the grace period bounded the whole instant).
func TestClockWaitsForABusySender(t *testing.T) {
	const n = 60
	const grace = 200 * time.Millisecond
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A slow receiver, one attempt at a time: the backlog takes
		// several grace periods in all, with progress at each answer.
		time.Sleep(grace / 20)
	}))
	defer recv.Close()
	s := mocktest.NewServer(t, mocktest.WithConfig(func(c *mock.Config) { c.Grace, c.Workers, c.PerEndpoint = grace, 1, 1 }))
	s.SetWebhook(bullseye.KindIdentification, recv.URL, "whsec")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check := func(t *testing.T, ids []string) {
		t.Helper()
		for _, id := range ids {
			d, err := s.Ops().Info(id)
			if err != nil || d.State != bullseye.StateDelivered || len(d.Attempts) != 1 {
				t.Fatalf("delivery %s: %s after %d attempts (%v), want delivered at the first; attempts %+v", id, d.State, len(d.Attempts), err, d.Attempts)
			}
		}
	}

	t.Run("move", func(t *testing.T) {
		ids := s.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Count: ops.N(n), Delay: ops.D(time.Minute)})
		a, err := s.Ops().AdvanceClock(ctx, ops.Advance{By: ops.D(2 * time.Minute)})
		if err != nil || !a.Idle || a.Now.Sub(a.Before) != 2*time.Minute {
			t.Fatalf("advance 2m = %+v, %v; want idle at +2m", a, err)
		}
		check(t, ids)
	})
	t.Run("settle", func(t *testing.T) {
		ids := s.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Count: ops.N(n)})
		if err := s.Ops().Settle(ctx, ids, true); err != nil {
			t.Fatal(err)
		}
		check(t, ids)
	})
}
