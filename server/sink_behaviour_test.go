package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// A sink fails a seeded share of requests with its failure status (a 429
// says when to come back), the same sequence run after run, and rejects a
// missing or invalid signature with 401 when asked to.
func TestSinkBehavesLikeAReceiver(t *testing.T) {
	seq := func() string {
		h := newHarness(t, nil)
		h.must(t, 200, "PUT", "/_mock/sink/flaky", `{"failureRate": 0.3, "failureStatus": 429, "retryAfter": 7, "seed": 42}`)
		var b strings.Builder
		for range 40 {
			r := h.send(t, "POST", "/_mock/sink/flaky", `{}`, nil)
			switch r.status {
			case 429:
				if r.header.Get("Retry-After") != "7" {
					t.Errorf("429 without Retry-After 7: %v", r.header)
				}
				b.WriteByte('x')
			case 200:
				b.WriteByte('.')
			default:
				t.Errorf("status %d", r.status)
			}
		}
		return b.String()
	}
	a, b := seq(), seq()
	if a != b {
		t.Errorf("one seed, two sequences:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "x"); n < 4 || n > 20 {
		t.Errorf("failure rate 0.3 failed %d of 40: %s", n, a)
	}

	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/careful", `{"secret": "s", "rejectInvalidSignatures": true, "statuses": [500, 200]}`)
	good := `{"a":1}`
	for _, c := range []struct {
		sig  string
		want int
	}{
		{"", 401}, {"deadbeef", 401}, {bullseye.Sign("s", []byte(good)), 500}, {bullseye.Sign("s", []byte(good)), 200},
	} {
		hdr := map[string]string{}
		if c.sig != "" {
			hdr["X-Bullseye-Signature"] = c.sig
		}
		if r := h.send(t, "POST", "/_mock/sink/careful", good, hdr); r.status != c.want {
			t.Errorf("signature %q: %d, want %d: %s", c.sig, r.status, c.want, r.body)
		}
	}
	got := h.must(t, 200, "GET", "/_mock/sink/careful/requests", "")["requests"].([]any)
	if fmt.Sprint(got[0].(map[string]any)["status"]) != "401" || got[0].(map[string]any)["signature"] != "missing" {
		t.Errorf("recorded %v", got[0])
	}
	for body, field := range map[string]string{
		`{"failureRate": 1.5}`: "failureRate", `{"failureStatus": 200}`: "failureStatus",
		`{"delay": "1s", "delayMax": "500ms"}`: "delayMax", `{"retryAfter": -1}`: "retryAfter",
	} {
		r := h.call(t, "PUT", "/_mock/sink/x", body)
		if r.status != 400 || r.obj(t)["details"].(map[string]any)["field"] != field {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}
