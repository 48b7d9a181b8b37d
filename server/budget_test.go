package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// A request past the budget for pending work is refused whole, before
// anything is created: a 400 when it alone is too big, a 429 with
// Retry-After when the mock is full now and will drain.
func TestPendingBudget(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.MaxPending = 10; c.MaxPendingBytes = 1 << 20 })
	h.webhookToSink(t, "budget", "")
	pending := func() float64 {
		t.Helper()
		return h.must(t, 200, "GET", "/_mock/deliveries?state=scheduled", "")["total"].(float64)
	}

	r := h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 11}`)
	wantError(t, r, 400, "BadRequest", "this request needs 11 deliveries pending, over the budget of 10 deliveries (--max-pending) by 1 deliveries")
	if d := r.obj(t)["details"].(map[string]any); d["budget"] != "deliveries" || d["field"] != "count" || d["limit"] != 10.0 {
		t.Errorf("details = %v", d)
	}
	big := `{"type": "visitor.identified", "count": 2, "overrides": {"company": {"name": "` + strings.Repeat("x", 700<<10) + `"}}}`
	wantError(t, h.call(t, "POST", "/_mock/events", big), 400, "BadRequest", "over the budget of 1.0 MiB (--max-pending-bytes)")
	// Duplicates count too.
	wantError(t, h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 6, "faults": [{"duplicate": "concurrent"}]}`), 400, "BadRequest", "needs 12 deliveries")
	if n := pending(); n != 0 {
		t.Fatalf("refused requests created %v deliveries", n)
	}

	h.must(t, 202, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 6, "delay": "1h"}`)
	r = h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 5, "delay": "1h"}`)
	wantError(t, r, 429, "TooManyRequests", "the mock holds 6 deliveries pending; this request adds 5 deliveries, which would pass the budget of 10 deliveries (--max-pending) by 1 deliveries: retry once some are delivered")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	if n := pending(); n != 6 {
		t.Errorf("pending = %v after a refused request, want 6", n)
	}
	h.must(t, 202, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 4, "delay": "1h"}`)
	id := h.must(t, 200, "GET", "/_mock/deliveries?pageSize=1", "")["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	wantError(t, h.call(t, "POST", "/_mock/deliveries/"+id+"/redeliver", ""), 429, "TooManyRequests", "the mock holds 10 deliveries pending")

	// Reset empties the queue, and the budget with it.
	h.must(t, 200, "POST", "/_mock/reset", "")
	h.must(t, 202, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 10, "delay": "1h"}`)
}

// Two requests checked at once cannot both take the last room: the room is
// reserved while a request creates its deliveries.
func TestPendingBudgetUnderConcurrency(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.MaxPending = 10 })
	h.webhookToSink(t, "budget", "")
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := h.m.Ops().Emit(ops.Send{Type: "visitor.identified", Count: ops.N(6), Delay: ops.D(time.Hour)})
			errs <- err
		}()
	}
	var refused int
	for range 2 {
		if err := <-errs; err != nil {
			var be *ops.BudgetError
			if !errors.As(err, &be) || be.Whole {
				t.Errorf("refused with %v", err)
			}
			refused++
		}
	}
	if refused != 1 || h.m.Ops().Stats().Pending != 6 {
		t.Errorf("refused %d, pending %d; want one refused and 6 pending", refused, h.m.Ops().Stats().Pending)
	}
}
