package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/journal"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// apiCall sends a Partner API request with key (none when empty).
func (h *harness) apiCall(t *testing.T, key, method, path, body string) reply {
	t.Helper()
	hdr := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		hdr["X-Partner-API-Key"] = key
	}
	return h.send(t, method, path, body, hdr)
}

func requestsOf(t *testing.T, v map[string]any) []map[string]any {
	t.Helper()
	list, ok := v["requests"].([]any)
	if !ok {
		t.Fatalf("no requests list: %v", v)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func TestJournalRecordsEveryPartnerAPIRequest(t *testing.T) {
	h := newHarness(t, nil)
	body := `{"url":"https://app.example/hooks","secret":"whsec_1","enabled":true}`
	h.apiCall(t, h.key, "PUT", "/api/v1/partner/webhooks/identification", body)
	h.apiCall(t, "", "GET", "/api/v1/partner/webhooks?x=1", "")
	h.apiCall(t, h.key, "GET", "/api/v1/nowhere", "")
	h.call(t, "GET", "/_mock/deliveries", "") // the control API is not journaled

	v := h.must(t, 200, "GET", "/_mock/requests", "")
	reqs := requestsOf(t, v)
	if len(reqs) != 3 || v["total"] != 3.0 {
		t.Fatalf("journal = %d entries (total %v), want 3: %v", len(reqs), v["total"], v)
	}
	newest, oldest := reqs[0], reqs[2]
	if newest["path"] != "/api/v1/nowhere" || newest["status"] != 404.0 {
		t.Errorf("newest = %v, want the 404 first", newest)
	}
	if reqs[1]["status"] != 401.0 || reqs[1]["query"] != "x=1" || reqs[1]["partnerId"] != nil {
		t.Errorf("unauthenticated entry = %v", reqs[1])
	}
	if oldest["method"] != "PUT" || oldest["body"] != body || oldest["status"] != 200.0 || oldest["id"] != 1.0 {
		t.Errorf("PUT entry = %v", oldest)
	}
	if oldest["partnerId"] != h.m.Partners()[0].ID {
		t.Errorf("partnerId = %v", oldest["partnerId"])
	}
	if !strings.Contains(oldest["response"].(string), `"url":"https://app.example/hooks"`) {
		t.Errorf("response = %v", oldest["response"])
	}
	hdr := oldest["headers"].(map[string]any)
	key := hdr["X-Partner-Api-Key"].([]any)[0].(string)
	if strings.Contains(key, h.key[:len(h.key)-4]) || !strings.HasPrefix(key, "*") {
		t.Errorf("API key not masked: %q", key)
	}
	for _, k := range []string{"time", "realTime", "latencyMs", "bodyBytes", "responseBytes"} {
		if _, ok := oldest[k]; !ok {
			t.Errorf("entry lacks %s: %v", k, oldest)
		}
	}

	// Filters.
	for q, want := range map[string]int{
		"method=PUT": 1, "status=4xx": 2, "status=401": 1, "path=/api/v1/partner/**": 2,
		"path=/api/v1/partner/webhooks/*": 1, "apiKey=" + h.key: 2, "partnerId=" + h.m.Partners()[0].ID: 2,
		"after=2": 1, "has=secret": 1, "has=nothing": 0, `body={"enabled":true}`: 1, `body={"enabled":false}`: 0,
		"since=2000-01-01T00:00:00Z": 3, "since=2999-01-01T00:00:00Z": 0,
	} {
		v := h.must(t, 200, "GET", "/_mock/requests?"+strings.ReplaceAll(q, "+", "%2B"), "")
		if v["total"] != float64(want) {
			t.Errorf("%s: total = %v, want %d", q, v["total"], want)
		}
	}
	v = h.must(t, 200, "GET", "/_mock/requests?pageSize=1&page=2", "")
	if r := requestsOf(t, v); len(r) != 1 || r[0]["id"] != 2.0 {
		t.Errorf("page 2 of 1 = %v", r)
	}
	for _, q := range []string{"status=6xx", "since=yesterday", "after=-1", "path=nope", "body={", "has=.a"} {
		r := h.call(t, "GET", "/_mock/requests?"+q, "")
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400: %s", q, r.status, r.body)
		}
	}

	h.must(t, 200, "POST", "/_mock/reset", "")
	if v := h.must(t, 200, "GET", "/_mock/requests", ""); v["total"] != 0.0 {
		t.Errorf("after reset total = %v", v["total"])
	}
}

func TestJournalBoundsBodiesAndEvicts(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.JournalCap = 3 })
	big := `{"name":"` + strings.Repeat("x", journal.MaxBody) + `"}`
	h.apiCall(t, h.key, "POST", "/api/v1/partner/organizations", big)
	e := requestsOf(t, h.must(t, 200, "GET", "/_mock/requests", ""))[0]
	if e["bodyTruncated"] != true || len(e["body"].(string)) != journal.MaxBody || e["bodyBytes"] != float64(len(big)) {
		t.Errorf("big body: truncated=%v len=%d bytes=%v", e["bodyTruncated"], len(e["body"].(string)), e["bodyBytes"])
	}
	h.apiCall(t, h.key, "POST", "/api/v1/partner/organizations", "\xff\xfe")
	e = requestsOf(t, h.must(t, 200, "GET", "/_mock/requests", ""))[0]
	if e["bodyEncoding"] != "base64" || e["body"] != "//4=" {
		t.Errorf("binary body = %v (%v)", e["body"], e["bodyEncoding"])
	}
	for range 3 {
		h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", "")
	}
	v := h.must(t, 200, "GET", "/_mock/requests", "")
	if v["total"] != 3.0 || v["evicted"] != 2.0 || v["cap"] != 3.0 {
		t.Errorf("after 5 requests with cap 3: total %v evicted %v cap %v", v["total"], v["evicted"], v["cap"])
	}
}

func TestRequestsWait(t *testing.T) {
	h := newHarness(t, nil)
	done := make(chan []byte, 1)
	go func() {
		resp, err := http.Get(h.url + "/_mock/requests/wait?method=PUT&count=2&timeout=20s")
		if err != nil {
			done <- []byte(err.Error())
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- b
	}()
	// Whether the wait starts before or after the PUTs, it is met by them.
	for range 2 {
		h.apiCall(t, h.key, "PUT", "/api/v1/partner/webhooks/identification", `{"enabled":false}`)
	}
	v := reply{status: 200, body: <-done}.obj(t)
	if v["timedOut"] != false || v["count"] != 2.0 || len(requestsOf(t, v)) != 2 {
		t.Errorf("wait = %v", v)
	}
	v = h.must(t, 200, "GET", "/_mock/requests/wait?method=DELETE&timeout=1ms", "")
	if v["timedOut"] != true || v["count"] != 0.0 {
		t.Errorf("timed-out wait = %v", v)
	}
	for _, q := range []string{"count=0", "timeout=10m", "timeout=x", "status=abc"} {
		if r := h.call(t, "GET", "/_mock/requests/wait?"+q, ""); r.status != 400 {
			t.Errorf("%s: %d, want 400", q, r.status)
		}
	}
}

func TestFaultsFireAsScriptedThenStop(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.RateLimit = 1000 })
	v := h.must(t, 201, "POST", "/_mock/faults", `{"method":"GET","path":"/api/v1/partner/webhooks","status":503,"times":2}`)
	id := v["id"].(string)
	for i, want := range []int{503, 503, 200, 200} {
		r := h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", "")
		if r.status != want {
			t.Fatalf("request %d = %d, want %d", i+1, r.status, want)
		}
		if r.header.Get("X-RateLimit-Limit") == "" {
			t.Errorf("request %d has no rate-limit headers", i+1)
		}
		if want == 503 {
			e := r.obj(t)
			if e["code"] != "ServiceUnavailable" || e["details"].(map[string]any)["fault"] != id {
				t.Errorf("faulted answer = %s", r.body)
			}
		}
	}
	// Another path or method is not faulted.
	if r := h.apiCall(t, h.key, "GET", "/api/v1/partner/billing", ""); r.status != 200 {
		t.Errorf("billing = %d", r.status)
	}
	metrics := string(h.call(t, "GET", "/metrics", "").body)
	for _, l := range []string{"bullseye_mock_partner_api_faults 1", "bullseye_mock_partner_api_fault_firings_total 2", "bullseye_mock_journal_entries 5", "bullseye_mock_journal_evictions_total 0"} {
		if !strings.Contains(metrics, "\n"+l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
	f := h.must(t, 200, "GET", "/_mock/faults/"+id, "")
	if f["fired"] != 2.0 || f["spent"] != true || f["matched"] != 2.0 {
		t.Errorf("fault after = %v", f)
	}
	faulted := h.must(t, 200, "GET", "/_mock/requests?status=503", "")
	for _, e := range requestsOf(t, faulted) {
		if e["fault"] != id {
			t.Errorf("journal entry without its fault: %v", e)
		}
	}
	if len(requestsOf(t, faulted)) != 2 {
		t.Errorf("journal has %v faulted requests", faulted["total"])
	}

	// A status without a name still gets a code.
	h.must(t, 201, "POST", "/_mock/faults", `{"path":"/api/v1/partner/billing","status":499,"times":1}`)
	if r := h.apiCall(t, h.key, "GET", "/api/v1/partner/billing", ""); r.status != 499 || r.obj(t)["code"] != "Status499" {
		t.Errorf("499 fault = %d %s", r.status, r.body)
	}

	// 429 with Retry-After, for every method under a pattern.
	h.must(t, 201, "POST", "/_mock/faults", `{"path":"/api/v1/partner/organizations/**","status":429,"retryAfter":7,"times":1}`)
	r := h.apiCall(t, h.key, "GET", "/api/v1/partner/organizations", "")
	if r.status != 429 || r.header.Get("Retry-After") != "7" || r.obj(t)["code"] != "TooManyRequests" {
		t.Errorf("429 fault = %d %v %s", r.status, r.header, r.body)
	}

	// Listing, removing, clearing.
	list := h.must(t, 200, "GET", "/_mock/faults", "")["faults"].([]any)
	if len(list) != 3 {
		t.Fatalf("faults = %v", list)
	}
	h.must(t, 200, "DELETE", "/_mock/faults/"+id, "")
	wantError(t, h.call(t, "DELETE", "/_mock/faults/"+id, ""), 404, "NotFound", id)
	if v := h.must(t, 200, "DELETE", "/_mock/faults", ""); v["removed"] != 2.0 {
		t.Errorf("clear = %v", v)
	}
	h.must(t, 201, "POST", "/_mock/faults", `{"path":"/api/v1/**","status":500}`)
	h.must(t, 200, "POST", "/_mock/reset", "")
	if list := h.must(t, 200, "GET", "/_mock/faults", "")["faults"].([]any); len(list) != 0 {
		t.Errorf("reset kept faults: %v", list)
	}
	if r := h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", ""); r.status != 200 {
		t.Errorf("after reset = %d", r.status)
	}
}

func TestFaultShareIsSeeded(t *testing.T) {
	run := func() string {
		h := newHarness(t, nil)
		h.must(t, 201, "POST", "/_mock/faults", `{"path":"/api/v1/partner/billing","status":500,"share":"50%"}`)
		var b strings.Builder
		for range 40 {
			b.WriteString(fmt.Sprint(h.apiCall(t, h.key, "GET", "/api/v1/partner/billing", "").status / 100))
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("one seed, two sequences:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "5"); n < 8 || n > 32 {
		t.Errorf("a share of 50%% faulted %d of 40: %s", n, a)
	}
}

func TestFaultLatencyAndClose(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 201, "POST", "/_mock/faults", `{"method":"GET","path":"/api/v1/partner/billing","latency":"50ms","times":1}`)
	r := h.apiCall(t, h.key, "GET", "/api/v1/partner/billing", "")
	if r.status != 200 {
		t.Errorf("latency-only fault = %d, want the normal answer", r.status)
	}
	e := requestsOf(t, h.must(t, 200, "GET", "/_mock/requests?path=/api/v1/partner/billing", ""))[0]
	// Latency is measured, not asserted against the wall clock: the fault
	// must be on the entry, and the wait at least the asked latency.
	if e["fault"] == nil || e["latencyMs"].(float64) < 50 {
		t.Errorf("entry = %v", e)
	}

	h.must(t, 201, "POST", "/_mock/faults", `{"path":"/api/v1/partner/webhooks","close":true,"times":1}`)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/partner/webhooks HTTP/1.1\r\nHost: x\r\nX-Partner-API-Key: %s\r\n\r\n", h.key)
	if _, err := bufio.NewReader(conn).ReadByte(); err == nil {
		t.Error("a close fault answered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := h.m.Ops().WaitRequests(ctx, matchPath("/api/v1/partner/webhooks"), 1, 1)
	if err != nil || !got.Satisfied || got.Requests[0].Status != 0 || got.Requests[0].Fault == "" {
		t.Errorf("closed request journaled as %+v (%v)", got, err)
	}
	if r := h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", ""); r.status != 200 {
		t.Errorf("after the close fault = %d", r.status)
	}
}

func TestFaultRequestsRefused(t *testing.T) {
	h := newHarness(t, nil)
	for body, field := range map[string]string{
		`{"status":503}`: "path",
		`{"path":"/partner/webhooks","status":503}`:          "path",
		`{"path":"/api/v1/[","status":503}`:                  "path",
		`{"path":"/api/v1/x","status":200}`:                  "status",
		`{"path":"/api/v1/x"}`:                               "",
		`{"path":"/api/v1/x","status":503,"close":true}`:     "close",
		`{"path":"/api/v1/x","method":"FETCH","status":503}`: "method",
		`{"path":"/api/v1/x","status":503,"times":0}`:        "times",
		`{"path":"/api/v1/x","status":503,"share":0}`:        "share",
		`{"path":"/api/v1/x","latency":"2m"}`:                "latency",
		`{"path":"/api/v1/x","close":true,"retryAfter":3}`:   "retryAfter",
		`{"path":"/api/v1/x","status":503,"partnerId":"p"}`:  "partnerId",
		`{"path":"/api/v1/x","status":503,"bogus":1}`:        "bogus",
	} {
		r := h.call(t, "POST", "/_mock/faults", body)
		if r.status != 400 {
			t.Errorf("%s: %d, want 400", body, r.status)
			continue
		}
		if d := r.obj(t)["details"].(map[string]any); field != "" && d["field"] != field {
			t.Errorf("%s: field %v, want %s (%s)", body, d["field"], field, r.body)
		}
	}
	if list := h.must(t, 200, "GET", "/_mock/faults", "")["faults"].([]any); len(list) != 0 {
		t.Errorf("refused faults were kept: %v", list)
	}
}

func TestScopedAndRevokedKeys(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.RateLimit = 1000 })
	owner := h.m.Partners()[0].ID
	read := h.must(t, 201, "POST", "/_mock/keys", `{"partnerId":"`+owner+`","scopes":["read"]}`)
	readKey := read["apiKey"].(string)
	if read["partnerId"] != owner || !strings.HasPrefix(readKey, "bm_key_") {
		t.Fatalf("new key = %v", read)
	}
	write := h.must(t, 201, "POST", "/_mock/keys", `{"apiKey":"my-write-key","scopes":["write"]}`)["apiKey"].(string)
	admin := h.must(t, 201, "POST", "/_mock/keys", `{"apiKey":"my-admin-key","scopes":["admin"]}`)["apiKey"].(string)

	for _, rt := range apiRoutes(t, h) {
		for key, allowed := range map[string]bool{readKey: rt.method == "GET", write: rt.method != "GET", admin: true, h.key: true} {
			r := h.apiCall(t, key, rt.method, rt.path, rt.body)
			if allowed && (r.status == 403 || r.status == 401) {
				t.Errorf("%s %s with %s = %d: %s", rt.method, rt.path, key, r.status, r.body)
			}
			if !allowed {
				if r.status != 403 {
					t.Errorf("%s %s with %s = %d, want 403", rt.method, rt.path, key, r.status)
					continue
				}
				e := r.obj(t)
				if e["code"] != "Forbidden" || r.header.Get("X-RateLimit-Limit") == "" {
					t.Errorf("403 = %s", r.body)
				}
			}
		}
	}
	keys := h.must(t, 200, "GET", "/_mock/keys", "")["keys"].([]any)
	if len(keys) != 5 { // key-a, key-b and three new ones
		t.Errorf("keys = %v", keys)
	}

	h.must(t, 200, "DELETE", "/_mock/keys/"+readKey, "")
	r := h.apiCall(t, readKey, "GET", "/api/v1/partner/webhooks", "")
	wantError(t, r, 401, "Unauthorized", "invalid API key")
	wantError(t, h.call(t, "DELETE", "/_mock/keys/"+readKey, ""), 404, "NotFound", "")
	// Revoking the primary key works too; reset does not bring it back.
	h.must(t, 200, "DELETE", "/_mock/keys/key-b", "")
	h.must(t, 200, "POST", "/_mock/reset", "")
	wantError(t, h.apiCall(t, "key-b", "GET", "/api/v1/partner/webhooks", ""), 401, "Unauthorized", "")

	for body, field := range map[string]string{
		`{"scopes":["root"]}`:  "scopes[0]",
		`{"partnerId":"nope"}`: "partnerId",
		`{"apiKey":"key-a"}`:   "",
		`{"apiKey":"my-write-key","partnerId":"` + h.m.Partners()[1].ID + `"}`: "",
	} {
		r := h.call(t, "POST", "/_mock/keys", body)
		if r.status != 400 && r.status != 409 {
			t.Errorf("%s = %d: %s", body, r.status, r.body)
		}
		if field != "" && r.obj(t)["details"].(map[string]any)["field"] != field {
			t.Errorf("%s: %s", body, r.body)
		}
	}
}

func matchPath(p string) ops.RequestMatch { return ops.RequestMatch{Path: p} }

type apiRoute struct{ method, path, body string }

// apiRoutes lists every Partner API operation of the OpenAPI document (a
// test keeps the document equal to the router), with its path variables
// filled in, so a check over them covers every route.
func apiRoutes(t *testing.T, h *harness) []apiRoute {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	org := h.m.Partners()[0].OrganizationIDs[0]
	fill := strings.NewReplacer("{type}", "identification", "{id}", org, "{organizationId}", org)
	var out []apiRoute
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range ops {
			m := strings.ToUpper(method)
			if m != "GET" && m != "PUT" && m != "POST" && m != "DELETE" {
				continue
			}
			body := ""
			if m != "GET" {
				body = "{}"
			}
			out = append(out, apiRoute{m, fill.Replace(path), body})
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d Partner API operations in the document: %v", len(out), out)
	}
	return out
}

// replay: a copy of a delivery an hour after it was delivered (not after it
// was created): the same bytes and signature, marked as a copy.
func TestReplayAfterDelivery(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/r", `{"statuses": [500, 200]}`)
	h.webhookToSink(t, "r", "whsec_r")
	ids := h.emit(t, `{"type": "visitor.identified", "faults": [{"replay": "1h"}]}`)
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`) // the retry, 1m later: delivered
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`) // the replay, 1h after that
	reqs := h.must(t, 200, "GET", "/_mock/sink/r/requests", "")["requests"].([]any)
	if len(reqs) != 3 {
		t.Fatalf("sink got %d requests, want the attempt, the retry and the replay", len(reqs))
	}
	first, replay := reqs[1].(map[string]any), reqs[2].(map[string]any)
	if first["bodyRaw"] != replay["bodyRaw"] || replay["signature"] != "valid" {
		t.Errorf("the replay differs: %v", replay)
	}
	t1, _ := time.Parse(time.RFC3339Nano, first["receivedAt"].(string))
	t2, _ := time.Parse(time.RFC3339Nano, replay["receivedAt"].(string))
	if t2.Sub(t1) != time.Hour {
		t.Errorf("replayed %s after the delivery, want 1h", t2.Sub(t1))
	}
	d := h.must(t, 200, "GET", "/_mock/deliveries/"+replay["deliveryId"].(string), "")
	if d["duplicateOf"] != ids[0] {
		t.Errorf("the replay is not marked as a copy of %s: %v", ids[0], d["duplicateOf"])
	}
	if v := h.must(t, 200, "GET", "/_mock/clock", ""); v["nextDue"] != nil {
		t.Errorf("a replay was replayed: next due %v", v["nextDue"])
	}
}

// The delivery faults through the control API, on the manual clock: a
// reversed burst of one visitor's sessions.
func TestDeliveryFaultsThroughTheControlAPI(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "faults", "")
	ids := h.emit(t, `{"type": "visitor.identified", "count": 4, "rate": "1/s", "burst": 2, "order": "reversed", "sameVisitor": true, "delay": "1m"}`)
	var due []string
	emails := map[any]bool{}
	for _, id := range ids {
		d := h.must(t, 200, "GET", "/_mock/deliveries/"+id, "")
		due = append(due, d["nextAttemptAt"].(string))
		emails[d["payload"].(map[string]any)["visitor"].(map[string]any)["email"]] = true
	}
	// Slots: events 1-2 at +60s, 3-4 at +62s; reversed, event 1 takes slot 4.
	start := start.Add(time.Minute)
	want := []string{start.Add(2 * time.Second).Format(time.RFC3339), start.Add(2 * time.Second).Format(time.RFC3339), start.Format(time.RFC3339), start.Format(time.RFC3339)}
	for i := range want {
		got, _ := time.Parse(time.RFC3339Nano, due[i])
		if got.UTC().Format(time.RFC3339) != want[i] {
			t.Errorf("event %d due %s, want %s", i+1, due[i], want[i])
		}
	}
	if len(emails) != 1 {
		t.Errorf("sameVisitor gave %d visitors", len(emails))
	}
	r := h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified", "order": "sideways"}`)
	wantError(t, r, 400, "BadRequest", "order must be one of creation, reversed, shuffled")
}
