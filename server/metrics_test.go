package server_test

import (
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/m", `{"statuses": [500, 200]}`)
	h.webhookToSink(t, "m", "")
	h.emit(t, `{"type": "visitor.identified", "count": 2}`)
	h.settle(t)

	scrape := func() string {
		t.Helper()
		r := h.call(t, "GET", "/metrics", "")
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics = %d %s", r.status, r.header.Get("Content-Type"))
		}
		return string(r.body)
	}
	want := func(body string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(body, "\n"+l+"\n") {
				t.Errorf("metrics lack %q", l)
			}
		}
	}
	// The sink failed the first request and accepted the second: one
	// delivery waits for its retry, the other is delivered.
	body := scrape()
	want(body,
		`bullseye_mock_deliveries_sent_total 2`,
		`bullseye_mock_deliveries_total{outcome="delivered"} 1`,
		`bullseye_mock_attempts_total{outcome="failure"} 1`,
		`bullseye_mock_attempts_total{outcome="success"} 1`,
		`bullseye_mock_queue_depth{state="retrying"} 1`,
		`bullseye_mock_pending_retries 1`,
		`bullseye_mock_log_entries 2`,
		`bullseye_mock_log_evictions_total 0`,
		`bullseye_mock_attempt_latency_seconds_count 2`,
		// A manual clock does not move during an attempt: zero latency.
		`bullseye_mock_attempt_latency_seconds_bucket{le="0.005"} 2`,
	)
	if !strings.Contains(body, "go_goroutines") {
		t.Error("metrics lack the Go runtime collector")
	}

	// The retry succeeds; a second scrape observes only the new entry.
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`)
	want(scrape(),
		`bullseye_mock_deliveries_total{outcome="delivered"} 2`,
		`bullseye_mock_pending_retries 0`,
		`bullseye_mock_attempt_latency_seconds_count 3`,
	)
	// After a reset the counters restart, the histogram with them.
	h.must(t, 200, "POST", "/_mock/reset", "")
	h.emit(t, `{"type": "visitor.identified"}`)
	h.settle(t)
	want(scrape(),
		`bullseye_mock_deliveries_sent_total 1`,
		`bullseye_mock_attempt_latency_seconds_count 1`,
	)
}
