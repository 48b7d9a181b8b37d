package ops_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// An advance made while the first attempt is in flight lets that attempt end
// at the instant it started before the clock moves: one advance by 1h right
// after the trigger replays the schedule at +0, +1m, +6m and +36m, every
// attempt a 503, and answers idle. Before the fix, the advance moved the
// clock straight to the attempt's own timeout (+30s), so the attempt became
// a timeout (status 0) or took 30 s, and every retry came 30 s late.
func TestAdvanceWithAnAttemptInFlight(t *testing.T) {
	arrived := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(bullseye.AttemptHeader) == "1" {
			arrived <- struct{}{} // the test now knows the attempt is in flight
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer recv.Close()

	want := []time.Duration{0, time.Minute, 6 * time.Minute, 36 * time.Minute}
	const runs = 50 // without the fix nearly every run fails
	bad := map[string]int{}
	for range runs {
		s := mocktest.NewServer(t)
		s.SetWebhook(bullseye.KindIdentification, recv.URL, "whsec")
		id := s.Trigger(bullseye.EventVisitorIdentified, 1)[0]
		<-arrived
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a, err := s.Ops().AdvanceClock(ctx, ops.Advance{By: ops.D(time.Hour)})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := s.Ops().Delivery(id)
		var got []string
		ok := a.Idle && d.State == bullseye.StateFailed && len(d.Attempts) == len(want)
		for i, at := range d.Attempts {
			off := at.AttemptedAt.Sub(mocktest.Start())
			got = append(got, fmt.Sprintf("+%s:%d", off, at.StatusCode))
			if i >= len(want) || off != want[i] || at.StatusCode != http.StatusServiceUnavailable {
				ok = false
			}
		}
		if !ok {
			bad[fmt.Sprintf("idle %t, %s: %s", a.Idle, d.State, strings.Join(got, " "))]++
		}
		s.Close()
	}
	for outcome, n := range bad {
		t.Errorf("%d of %d runs: %s; want idle, failed: +0s:503 +1m0s:503 +6m0s:503 +36m0s:503", n, runs, outcome)
	}
}
