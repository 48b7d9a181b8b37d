package server_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/mock"
)

// The control API's traffic report: a sink failing the four first
// attempts, whose retries succeed; thresholds are verdicts in a 200, not
// errors.
func TestControlTraffic(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.AdminToken = "tok" })
	h.must(t, 200, "PUT", "/_mock/sink/half", `{"statuses": [500, 500, 500, 500, 200]}`)
	h.webhookToSink(t, "half", "s")
	h.emit(t, `{"type": "visitor.identified", "count": 4, "rate": "10/s", "policy": {"delays": ["1s"], "attempts": 2}}`)
	for range 20 {
		h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`)
	}
	r := h.must(t, 200, "GET", "/_mock/traffic?minSuccess=0.9&maxP99=1s", "")
	codes := r["statusCodes"].(map[string]any)
	first := r["firstAttempts"].(map[string]any)
	if r["requests"] != 8.0 || r["success"] != 0.5 || codes["500"] != 4.0 || codes["200"] != 4.0 ||
		first["requests"] != 4.0 || first["success"] != 0.0 || r["targetRate"] != 10.0 {
		t.Errorf("report: %v", r)
	}
	verdicts := r["thresholds"].([]any)
	if r["pass"] != false || len(verdicts) != 2 || verdicts[0].(map[string]any)["pass"] != true {
		t.Errorf("verdicts: %v pass %v", verdicts, r["pass"])
	}
	for path, field := range map[string]string{
		"/_mock/traffic?minSuccess=abc":            "minSuccess",
		"/_mock/traffic?maxP99=1s&maxP99=2s":       "maxP99",
		"/_mock/traffic.svg?threshold=p99%3C200ms": "threshold",
	} {
		v := h.must(t, 400, "GET", path, "")
		if d := v["details"].(map[string]any); d["parameter"] != field {
			t.Errorf("%s: details %v, want parameter %s", path, d, field)
		}
	}
	svg := h.send(t, "GET", "/_mock/traffic.svg", "", map[string]string{"Authorization": "Bearer tok"})
	if svg.status != 200 || svg.header.Get("Content-Type") != "image/svg+xml" || xml.Unmarshal(svg.body, new(struct{})) != nil ||
		!strings.Contains(string(svg.body), "8 requests") {
		t.Errorf("svg %d %s: %.300s", svg.status, svg.header.Get("Content-Type"), svg.body)
	}
	if got := h.send(t, "GET", "/_mock/traffic", "", nil); got.status != 401 {
		t.Errorf("without the admin token: %d", got.status)
	}
	h.must(t, 200, "POST", "/_mock/reset", "")
	if r := h.must(t, 200, "GET", "/_mock/traffic", ""); r["requests"] != 0.0 {
		t.Errorf("after reset: %v", r["requests"])
	}
}
