package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/mock"
)

// Every operation of the document, on its success and its error paths,
// against the running mock, through the independent validator: an answer
// the document does not declare (status, body shape) fails the test. The
// steps run in order and build on each other (a webhook, then a delivery,
// then its redelivery...).
func TestOpenAPITellsTheWholeTruth(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.RateLimit = 1000; c.MaxBody = 4096; c.AdminToken = "tok" })
	v := newValidating(t, h.url)
	client := &http.Client{Transport: v}
	org := h.m.Partners()[0].OrganizationIDs[0]
	var last []byte
	do := func(key, method, path, body string, want int) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, h.url+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
			if !strings.HasPrefix(body, "{") {
				req.Header.Set("Content-Type", "application/yaml")
			}
		}
		switch key {
		case "admin":
			req.Header.Set("Authorization", "Bearer tok")
		case "":
		default:
			req.Header.Set("X-Partner-API-Key", key)
			req.Header.Set("Authorization", "Bearer tok")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		last, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, last)
		}
	}
	field := func(name string) string {
		var m map[string]any
		_ = json.Unmarshal(last, &m)
		for _, part := range strings.Split(name, ".") {
			switch x := m[part].(type) {
			case map[string]any:
				m = x
			case []any:
				if len(x) > 0 {
					m, _ = x[0].(map[string]any)
				}
			default:
				return fmt.Sprint(x)
			}
		}
		return ""
	}
	k := h.key
	big := `{"name": "` + strings.Repeat("x", 5000) + `"}`

	// The Partner API.
	do(k, "GET", "/api/v1/partner/webhooks", "", 200)
	do("", "GET", "/api/v1/partner/webhooks", "", 401)
	do("nope", "GET", "/api/v1/partner/webhooks", "", 401)
	do(k, "PUT", "/api/v1/partner/webhooks/identification", `{"url": "`+h.url+`/_mock/sink/t", "secret": "s", "enabled": true}`, 200)
	do(k, "PUT", "/api/v1/partner/webhooks/identification", `{"url": null, "enabled": null}`, 200)
	do(k, "PUT", "/api/v1/partner/webhooks/billing", `{"enabled": false}`, 200)
	do(k, "PUT", "/api/v1/partner/webhooks/identification", `{"url": "ftp://x"}`, 400)
	do(k, "PUT", "/api/v1/partner/webhooks/identification", big, 413)
	do(k, "PUT", "/api/v1/partner/webhooks/nope", `{"enabled": true}`, 404)
	do(k, "POST", "/api/v1/partner/webhooks/test", `{"type": "identification"}`, 200)
	do(k, "POST", "/api/v1/partner/webhooks/test", `{"type": "nope"}`, 400)
	do(k, "PUT", "/api/v1/partner/webhooks/test", `{}`, 405)
	do(k, "GET", "/api/v1/partner/webhooks/logs?pageSize=5&status=delivered", "", 200)
	do(k, "GET", "/api/v1/partner/webhooks/logs?pageSize=500", "", 400)
	do(k, "GET", "/api/v1/partner/organizations?status=active&search=a", "", 200)
	do(k, "GET", "/api/v1/partner/organizations?status=gone", "", 400)
	do(k, "POST", "/api/v1/partner/organizations", `{"name": "Globex", "externalId": "g1", "tier": "paid", "credits": 10, "metadata": {"a": "b"}}`, 201)
	do(k, "POST", "/api/v1/partner/organizations", `{"name": "Again", "externalId": "g1"}`, 409)
	do(k, "POST", "/api/v1/partner/organizations", `{"externalId": "g2"}`, 400)
	do(k, "GET", "/api/v1/partner/organizations/"+org, "", 200)
	do(k, "GET", "/api/v1/partner/organizations/nope", "", 404)
	do(k, "PUT", "/api/v1/partner/organizations/"+org+"/credits", `{"credits": 5, "notes": "n"}`, 200)
	do(k, "PUT", "/api/v1/partner/organizations/"+org+"/credits", `{"credits": 100000000}`, 422)
	do(k, "PUT", "/api/v1/partner/organizations/nope/credits", `{"credits": 5}`, 404)
	do(k, "GET", "/api/v1/partner/billing", "", 200)
	do(k, "GET", "/api/v1/partner/nowhere", "", 404)

	// The control API.
	do("admin", "GET", "/_mock/partners", "", 200)
	do("", "GET", "/_mock/partners", "", 401)
	do("admin", "POST", "/_mock/events", `{"type": "visitor.identified", "count": 2, "delay": "1m"}`, 202)
	do("admin", "POST", "/_mock/events", `{"type": "nope"}`, 400)
	do("admin", "POST", "/_mock/events", `{"type": "visitor.identified", "overrides": {"x": "`+strings.Repeat("y", 5000)+`"}}`, 413)
	do("admin", "GET", "/_mock/deliveries?pageSize=1", "", 200)
	id := field("deliveries.id")
	do("admin", "GET", "/_mock/deliveries?state=nope", "", 400)
	do("admin", "GET", "/_mock/deliveries/"+id, "", 200)
	do("admin", "GET", "/_mock/deliveries/nope", "", 404)
	do("admin", "GET", "/_mock/deliveries/"+id+"/wait?timeout=1ms", "", 200)
	do("admin", "GET", "/_mock/deliveries/"+id+"/wait?timeout=1h", "", 400)
	do("admin", "GET", "/_mock/deliveries/wait?timeout=1ms", "", 200)
	do("admin", "POST", "/_mock/deliveries/"+id+"/redeliver", "", 202)
	do("admin", "POST", "/_mock/deliveries/nope/redeliver", "", 404)
	do("admin", "GET", "/_mock/clock", "", 200)
	do("admin", "POST", "/_mock/clock/advance", `{"by": "1m"}`, 200)
	do("admin", "POST", "/_mock/clock/advance", `{"by": "-1m"}`, 400)
	do("admin", "GET", "/_mock/logs?pageSize=5&status=delivered&type=identification", "", 200)
	do("admin", "GET", "/_mock/logs?apiKey="+k, "", 200)
	do("admin", "GET", "/_mock/logs?apiKey=nope", "", 400)
	do("admin", "GET", "/_mock/logs?status=ok", "", 400)
	do("admin", "GET", "/_mock/stream?heartbeat=1ms", "", 400)
	do("", "GET", "/_mock/stream", "", 401)
	do("admin", "GET", "/_mock/traffic", "", 200)
	do("admin", "GET", "/_mock/traffic?maxP99=1s&minSuccess=0.5&maxLate=0&minRate=0.9&maxP50=1s&maxP90=1s&maxP95=1s&maxLatency=1s", "", 200)
	do("admin", "GET", "/_mock/traffic?minSuccess=2", "", 400)
	do("admin", "GET", "/_mock/traffic?sideways=1", "", 400)
	do("admin", "GET", "/_mock/traffic.svg?maxP99=1s", "", 200)
	do("admin", "GET", "/_mock/traffic.svg?maxP99=soon", "", 400)
	do("", "GET", "/_mock/traffic", "", 401)
	do("admin", "PUT", "/_mock/sink/t", `{"statuses": [500, 200], "secret": "s"}`, 200)
	do("admin", "PUT", "/_mock/sink/t", `{"statuses": [99]}`, 400)
	do("admin", "GET", "/_mock/sink", "", 200)
	do("admin", "GET", "/_mock/sink/t", "", 200)
	do("admin", "GET", "/_mock/sink/none", "", 404)
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		do("admin", m, "/_mock/sink/bad!name", `{}`, 400)
	}
	do("admin", "GET", "/_mock/sink/bad!name/requests", "", 400)
	do("", "POST", "/_mock/sink/bad!name", `{}`, 400)
	do("", "POST", "/_mock/sink/t", `{"event_type": "x"}`, 500)
	do("", "POST", "/_mock/sink/t", `{"event_type": "x"}`, 200)
	do("admin", "GET", "/_mock/sink/t/requests?atLeast=1&timeout=1s", "", 200)
	do("admin", "PUT", "/_mock/sink/careful", `{"secret": "s", "rejectInvalidSignatures": true, "failureRate": 0.5, "failureStatus": 429, "retryAfter": 2, "delay": "0s", "delayMax": "1ms", "seed": 3}`, 200)
	do("", "POST", "/_mock/sink/careful", `{"event_type": "x"}`, 401)
	do("admin", "DELETE", "/_mock/sink/t", "", 204)
	do("admin", "DELETE", "/_mock/sink/t", "", 404)
	do("admin", "POST", "/_mock/scenarios/runs", "steps:\n  - send: {type: credits.low}\n", 202)
	run := field("id")
	do("admin", "POST", "/_mock/scenarios/runs", "steps: 3\n", 400)
	do("admin", "GET", "/_mock/scenarios/runs", "", 200)
	do("admin", "GET", "/_mock/scenarios/runs/"+run+"/wait?timeout=10s", "", 200)
	do("admin", "GET", "/_mock/scenarios/runs/"+run, "", 200)
	do("admin", "GET", "/_mock/scenarios/runs/nope", "", 404)
	// The app's side: keys with scopes, faults, the journal.
	do("admin", "POST", "/_mock/keys", `{"apiKey":"reader-key","scopes":["read"]}`, 201)
	do("admin", "GET", "/_mock/keys", "", 200)
	do("reader-key", "PUT", "/api/v1/partner/webhooks/identification", `{"enabled":true}`, 403)
	do("reader-key", "GET", "/api/v1/partner/webhooks", "", 200)
	do("admin", "POST", "/_mock/faults", `{"method":"GET","path":"/api/v1/partner/webhooks","status":503,"times":1}`, 201)
	fault := field("id")
	do("admin", "POST", "/_mock/faults", `{"path":"/api/v1/partner/billing","status":429,"retryAfter":2,"times":1}`, 201)
	do("admin", "POST", "/_mock/faults", `{"path":"/nope","status":503}`, 400)
	do(k, "GET", "/api/v1/partner/webhooks", "", 503)
	do(k, "GET", "/api/v1/partner/billing", "", 429)
	do("admin", "GET", "/_mock/faults", "", 200)
	do("admin", "GET", "/_mock/faults/"+fault, "", 200)
	do("admin", "GET", "/_mock/requests?method=GET&status=5xx", "", 200)
	do("admin", "GET", "/_mock/requests/wait?path=/api/v1/**&count=2&timeout=1s", "", 200)
	do("admin", "GET", "/_mock/requests?status=6xx", "", 400)
	do("admin", "DELETE", "/_mock/faults/"+fault, "", 200)
	do("admin", "DELETE", "/_mock/faults/flt_99", "", 404)
	do("admin", "DELETE", "/_mock/faults", "", 200)
	do("admin", "DELETE", "/_mock/keys/reader-key", "", 200)
	do("admin", "DELETE", "/_mock/keys/reader-key", "", 404)
	do("admin", "POST", "/_mock/reset", "", 200)
	do("admin", "GET", "/_mock/openapi.json", "", 200)
	do("", "GET", "/healthz", "", 200)
}
