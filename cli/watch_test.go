package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// watch prints what the stream sends: one line per change for people, or
// one JSON object per line; --limit ends it with exit 0, a --timeout that
// comes first with exit 1; a filter the mock refuses is exit 2.
func TestWatch(t *testing.T) {
	s := mocktest.NewServer(t, mocktest.WithConfig(func(c *mock.Config) { c.AdminToken = "tok" }))
	s.ConfigureSink("w", server.SinkConfig{Statuses: []int{503, 200}})
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("w"), "")
	// The mock keeps changes from the first stream on: one open here
	// makes the run below replay what follows from event 0.
	s.Watch(ops.Watch{})
	id := s.Trigger("visitor.identified", 1)[0]
	s.Settle()
	s.Advance(time.Minute)

	status, out, errs := runCLI(t, "watch", "--url", s.URL, "--admin-token", "tok", "--events", "delivery",
		"--state", "delivered", "--last-event-id", "0", "--limit", "1", "--json")
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	var ev struct {
		ID    uint64
		Event string
		Data  map[string]any
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Event != "delivery" || ev.Data["id"] != id || ev.Data["state"] != "delivered" || ev.ID == 0 {
		t.Errorf("--json printed %q (%v)", out, err)
	}

	status, out, errs = runCLI(t, "watch", "--url", s.URL, "--admin-token", "tok", "--events", "attempt,sink", "--last-event-id", "0", "--limit", "4")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if status != ExitOK || len(lines) != 4 || !strings.HasPrefix(errs, "watching "+s.URL+" (mock time ") {
		t.Fatalf("status %d, %d lines\n%s\n%s", status, len(lines), out, errs)
	}
	for _, want := range []string{"sink     w #1 from " + id[:8] + " attempt 1: signature unchecked, answered 503",
		"attempt  " + id[:8] + " #1 retrying 503 in 0ms to " + s.SinkURL("w") + ": HTTP 503 is not 2xx",
		"attempt  " + id[:8] + " #2 delivered 200 in 0ms to " + s.SinkURL("w")} {
		if !strings.Contains(out, want) {
			t.Errorf("the lines lack %q:\n%s", want, out)
		}
	}

	status, _, errs = runCLI(t, "watch", "--url", s.URL, "--admin-token", "tok", "--state", "failed", "--limit", "1", "--timeout", "50ms")
	if status != ExitFailed || !strings.Contains(errs, "timeout: 0 of 1 events in 50ms") {
		t.Errorf("a limit not reached in time: status %d, %q", status, errs)
	}
	status, _, errs = runCLI(t, "watch", "--url", s.URL, "--admin-token", "tok", "--state", "done")
	if status != ExitUsage || !strings.Contains(errs, "GET /_mock/stream answered 400: state must be one of") || strings.Count(errs, "\n") != 1 {
		t.Errorf("a bad filter: status %d, %q", status, errs)
	}
	status, _, errs = runCLI(t, "watch", "--url", s.URL)
	if status != ExitFailed || !strings.Contains(errs, "answered 401: missing admin token") {
		t.Errorf("no token: status %d, %q", status, errs)
	}
}
