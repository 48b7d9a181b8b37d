package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

const (
	keyA = "key-a"
	keyB = "key-b"
)

var epoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

// fakeEmitter records what the server asked for.
type fakeEmitter struct {
	mu   sync.Mutex
	reqs []ops.Send
}

func (f *fakeEmitter) Emit(r ops.Send) (ops.Emitted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	return ops.Emitted{PartnerID: r.PartnerID, DeliveryIDs: []string{"delivery-1"}}, nil
}

// fakeLogs records the query and answers with fixed entries.
type fakeLogs struct {
	mu      sync.Mutex
	last    sender.LogQuery
	entries []sender.Attempt
}

func (f *fakeLogs) Logs(q sender.LogQuery) ([]sender.Attempt, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = q
	var out []sender.Attempt
	for _, e := range f.entries {
		if e.PartnerID == q.PartnerID {
			out = append(out, e)
		}
	}
	return store.Page(out, q.Page, q.PageSize), len(out)
}

type fixture struct {
	handler *Server
	srv     *httptest.Server
	store   *store.Store
	emitter *fakeEmitter
	logs    *fakeLogs
	partner map[string]store.Partner
	now     *time.Time // the rate limiter's clock
}

func newFixture(t testing.TB, mutate func(*Config)) *fixture {
	t.Helper()
	st := store.New()
	gen := fixtures.New(7)
	f := &fixture{store: st, emitter: &fakeEmitter{}, logs: &fakeLogs{}, partner: map[string]store.Partner{}}
	now := epoch
	f.now = &now
	for _, key := range []string{keyA, keyB} {
		p, err := st.AddPartner(key)
		if err != nil {
			t.Fatal(err)
		}
		f.partner[key] = p
		for i := 0; i < 3; i++ {
			if _, err := st.AddOrganization(p.ID, gen.NewOrganization(epoch.Add(time.Duration(i)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk := clock.NewManual(epoch)
	cfg := Config{
		Ops:   ops.New(ops.Config{Store: st, Fixtures: gen, Clock: clk, Seed: 7}),
		Store: st, Emitter: f.emitter, Logs: f.logs, Fixtures: gen, Clock: clk,
		RateLimit: DefaultRateLimit, RealNow: func() time.Time { return *f.now },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.handler = New(cfg)
	f.srv = httptest.NewServer(f.handler)
	t.Cleanup(f.srv.Close)
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

func (f *fixture) do(t testing.TB, method, path, key, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Partner-API-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// assertError checks the vendor's error JSON: exactly code, message, details.
func assertError(t testing.TB, r response, status int, code, msgPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON", ct)
	}
	v := r.json(t)
	if len(v) != 3 {
		t.Errorf("error JSON has keys %v, want code, message, details", v)
	}
	if v["code"] != code {
		t.Errorf("code = %v, want %s", v["code"], code)
	}
	if msg, _ := v["message"].(string); !strings.Contains(msg, msgPart) {
		t.Errorf("message = %q, want it to contain %q", msg, msgPart)
	}
	if _, ok := v["details"].(map[string]any); !ok {
		t.Errorf("details = %v, want an object", v["details"])
	}
}

func TestHealthz(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(t, http.MethodGet, "/healthz", "", "")
	if r.status != http.StatusOK || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz = %d %s", r.status, r.body)
	}
}

func TestGetWebhooksDefaults(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(t, http.MethodGet, "/api/v1/partner/webhooks", keyA, "")
	want := `{"identification":{"url":"","enabled":false,"hasSecret":false},"billing":{"url":"","enabled":false,"hasSecret":false}}` + "\n"
	if r.status != 200 || string(r.body) != want {
		t.Fatalf("got %d %s, want %s", r.status, r.body, want)
	}
}

func TestPutWebhookPartialUpdates(t *testing.T) {
	f := newFixture(t, nil)
	steps := []struct {
		body string
		want string
	}{
		{`{"url": "https://example.com/webhooks/identify", "secret": "whsec_your_webhook_secret", "enabled": true}`,
			`{"identification":{"url":"https://example.com/webhooks/identify","enabled":true,"hasSecret":true}}`},
		{`{"enabled": false}`, `{"identification":{"url":"https://example.com/webhooks/identify","enabled":false,"hasSecret":true}}`},
		{`{}`, `{"identification":{"url":"https://example.com/webhooks/identify","enabled":false,"hasSecret":true}}`},
		{`{"url": null, "secret": null}`, `{"identification":{"url":"https://example.com/webhooks/identify","enabled":false,"hasSecret":true}}`},
		{`{"secret": ""}`, `{"identification":{"url":"https://example.com/webhooks/identify","enabled":false,"hasSecret":false}}`},
		{`{"url": "http://127.0.0.1:9000/hook"}`, `{"identification":{"url":"http://127.0.0.1:9000/hook","enabled":false,"hasSecret":false}}`},
		{`{"url": ""}`, `{"identification":{"url":"","enabled":false,"hasSecret":false}}`},
	}
	for _, s := range steps {
		r := f.do(t, http.MethodPut, "/api/v1/partner/webhooks/identification", keyA, s.body)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != s.want {
			t.Fatalf("PUT %s: got %d %s, want %s", s.body, r.status, r.body, s.want)
		}
		if strings.Contains(string(r.body), "secret\"") {
			t.Fatalf("the secret leaked: %s", r.body)
		}
	}
	// The billing webhook is its own.
	r := f.do(t, http.MethodPut, "/api/v1/partner/webhooks/billing", keyA, `{"url":"https://example.com/webhooks/billing","secret":"s","enabled":true}`)
	if want := `{"billing":{"url":"https://example.com/webhooks/billing","enabled":true,"hasSecret":true}}`; strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("billing: %s", r.body)
	}
	hook, err := f.store.Webhook(f.partner[keyA].ID, bullseye.KindBilling)
	if err != nil || hook.Secret != "s" {
		t.Fatalf("stored billing webhook = %+v, %v", hook, err)
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t, nil)
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/partner/webhooks"},
		{"PUT", "/api/v1/partner/webhooks/identification"},
		{"PUT", "/api/v1/partner/webhooks/billing"},
		{"POST", "/api/v1/partner/webhooks/test"},
		{"GET", "/api/v1/partner/webhooks/logs"},
		{"GET", "/api/v1/partner/organizations"},
		{"POST", "/api/v1/partner/organizations"},
		{"GET", "/api/v1/partner/organizations/x"},
		{"GET", "/api/v1/no/such/path"},
	}
	for _, p := range paths {
		assertError(t, f.do(t, p.method, p.path, "", ""), 401, CodeUnauthorized, "missing X-Partner-API-Key")
		assertError(t, f.do(t, p.method, p.path, "wrong", ""), 401, CodeUnauthorized, "invalid API key")
		assertError(t, f.do(t, p.method, p.path, keyA+"x", ""), 401, CodeUnauthorized, "invalid API key")
	}
}

func TestBadInput(t *testing.T) {
	big := `{"url": "https://example.com/` + strings.Repeat("a", DefaultMaxBody) + `"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"malformed", "PUT", "/api/v1/partner/webhooks/identification", `{"url": `, 400, CodeBadRequest, "malformed JSON"},
		{"syntax", "PUT", "/api/v1/partner/webhooks/identification", `{"url" "x"}`, 400, CodeBadRequest, "malformed JSON at byte"},
		{"wrong type bool", "PUT", "/api/v1/partner/webhooks/identification", `{"enabled": "yes"}`, 400, CodeBadRequest, `field "enabled" must be a boolean`},
		{"wrong type string", "PUT", "/api/v1/partner/webhooks/billing", `{"url": 42}`, 400, CodeBadRequest, `field "url" must be a string`},
		{"unknown field", "PUT", "/api/v1/partner/webhooks/identification", `{"enable": true}`, 400, CodeBadRequest, `unknown field "enable"`},
		{"empty body", "PUT", "/api/v1/partner/webhooks/identification", ``, 400, CodeBadRequest, "request body is empty"},
		{"blank body", "PUT", "/api/v1/partner/webhooks/identification", "  \n", 400, CodeBadRequest, "request body is empty"},
		{"array body", "PUT", "/api/v1/partner/webhooks/identification", `[]`, 400, CodeBadRequest, "must be a JSON object"},
		{"null body", "PUT", "/api/v1/partner/webhooks/identification", `null`, 400, CodeBadRequest, "must be a JSON object"},
		{"trailing data", "PUT", "/api/v1/partner/webhooks/identification", `{} {}`, 400, CodeBadRequest, "data after the JSON object"},
		{"too large", "PUT", "/api/v1/partner/webhooks/identification", big, 413, CodePayloadTooLarge, "larger than the limit of 1048576 bytes"},
		{"relative url", "PUT", "/api/v1/partner/webhooks/identification", `{"url": "/hook"}`, 400, CodeBadRequest, "absolute http or https URL"},
		{"ftp url", "PUT", "/api/v1/partner/webhooks/identification", `{"url": "ftp://example.com/x"}`, 400, CodeBadRequest, "absolute http or https URL"},
		{"no host", "PUT", "/api/v1/partner/webhooks/identification", `{"url": "https://"}`, 400, CodeBadRequest, "absolute http or https URL"},
		{"junk url", "PUT", "/api/v1/partner/webhooks/identification", `{"url": "http://[::1"}`, 400, CodeBadRequest, "absolute http or https URL"},
		{"unknown webhook type", "PUT", "/api/v1/partner/webhooks/sms", `{}`, 404, CodeNotFound, `unknown webhook type "sms"`},
		{"test without type", "POST", "/api/v1/partner/webhooks/test", `{}`, 400, CodeBadRequest, `"type" is required`},
		{"test unknown type", "POST", "/api/v1/partner/webhooks/test", `{"type": "sms"}`, 400, CodeBadRequest, `unknown webhook type "sms"`},
		{"test type not string", "POST", "/api/v1/partner/webhooks/test", `{"type": 1}`, 400, CodeBadRequest, `field "type" must be a string`},
		{"test unconfigured", "POST", "/api/v1/partner/webhooks/test", `{"type": "identification"}`, 400, CodeBadRequest, "has no url"},
		{"page zero", "GET", "/api/v1/partner/webhooks/logs?page=0", ``, 400, CodeBadRequest, "page must be an integer from 1"},
		{"page word", "GET", "/api/v1/partner/webhooks/logs?page=two", ``, 400, CodeBadRequest, `got "two"`},
		{"page size big", "GET", "/api/v1/partner/webhooks/logs?pageSize=101", ``, 400, CodeBadRequest, "pageSize must be an integer from 1 to 100"},
		{"page size negative", "GET", "/api/v1/partner/organizations?pageSize=-1", ``, 400, CodeBadRequest, "pageSize must be an integer"},
		{"log type", "GET", "/api/v1/partner/webhooks/logs?type=sms", ``, 400, CodeBadRequest, "type must be one of identification, billing"},
		{"log status", "GET", "/api/v1/partner/webhooks/logs?status=ok", ``, 400, CodeBadRequest, "status must be one of delivered, retrying, failed, canceled"},
		{"org status", "GET", "/api/v1/partner/organizations?status=gone", ``, 400, CodeBadRequest, "status must be one of active, canceled, suspended"},
		{"unknown path", "GET", "/api/v1/partner/nothing", ``, 404, CodeNotFound, "no such endpoint: GET /api/v1/partner/nothing"},
		{"unknown root path", "GET", "/nothing", ``, 404, CodeNotFound, "no such endpoint"},
		{"wrong method", "DELETE", "/api/v1/partner/webhooks", ``, 405, CodeMethodNotAllowed, "method DELETE is not allowed"},
		{"wrong method on type", "POST", "/api/v1/partner/webhooks/identification", `{}`, 405, CodeMethodNotAllowed, "method POST is not allowed"},
		{"put logs", "PUT", "/api/v1/partner/webhooks/logs", `{}`, 405, CodeMethodNotAllowed, "method PUT is not allowed"},
		{"unknown org", "GET", "/api/v1/partner/organizations/nope", ``, 404, CodeNotFound, `organization "nope" not found`},
		{"org without name", "POST", "/api/v1/partner/organizations", `{"externalId": "x"}`, 400, CodeBadRequest, `"name" is required`},
		{"org blank name", "POST", "/api/v1/partner/organizations", `{"name": "  "}`, 400, CodeBadRequest, `"name" is required`},
		{"org bad tier", "POST", "/api/v1/partner/organizations", `{"name": "X", "tier": "gold"}`, 400, CodeBadRequest, "tier must be one of trial, paid"},
		{"org negative credits", "POST", "/api/v1/partner/organizations", `{"name": "X", "credits": -1}`, 400, CodeBadRequest, "credits must not be negative"},
		{"org credits float", "POST", "/api/v1/partner/organizations", `{"name": "X", "credits": 1.5}`, 400, CodeBadRequest, `field "credits" must be a number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			before := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, "").body
			orgsBefore := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").body
			r := f.do(t, c.method, c.path, keyA, c.body)
			assertError(t, r, c.status, c.code, c.msg)
			if after := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, "").body; string(after) != string(before) {
				t.Errorf("webhooks changed: %s -> %s", before, after)
			}
			if after := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").body; string(after) != string(orgsBefore) {
				t.Errorf("organizations changed")
			}
			if len(f.emitter.reqs) != 0 {
				t.Errorf("a delivery was emitted: %+v", f.emitter.reqs)
			}
		})
	}
}

func TestMethodNotAllowedListsAllowed(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(t, "DELETE", "/api/v1/partner/organizations", keyA, "")
	if got := r.header.Get("Allow"); got != "GET, POST" {
		t.Fatalf("Allow = %q", got)
	}
	if r.header.Get("X-RateLimit-Limit") == "" {
		t.Fatalf("a 405 carries no rate-limit headers")
	}
}

func TestStrictHTTPS(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.StrictHTTPS = true })
	assertError(t, f.do(t, "PUT", "/api/v1/partner/webhooks/identification", keyA, `{"url": "http://example.com/h"}`), 400, CodeBadRequest, "must use https")
	if r := f.do(t, "PUT", "/api/v1/partner/webhooks/identification", keyA, `{"url": "https://example.com/h"}`); r.status != 200 {
		t.Fatalf("https URL refused in strict mode: %d %s", r.status, r.body)
	}
}

func TestTestWebhook(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, "PUT", "/api/v1/partner/webhooks/billing", keyA, `{"url": "http://127.0.0.1:1/b"}`)
	assertError(t, f.do(t, "POST", "/api/v1/partner/webhooks/test", keyA, `{"type": "billing"}`), 400, CodeBadRequest, "is disabled")
	f.do(t, "PUT", "/api/v1/partner/webhooks/billing", keyA, `{"enabled": true}`)
	r := f.do(t, "POST", "/api/v1/partner/webhooks/test", keyA, `{"type": "billing"}`)
	if want := `{"deliveryId":"delivery-1","message":"Test webhook sent successfully","success":true}`; r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("test = %d %s", r.status, r.body)
	}
	f.do(t, "PUT", "/api/v1/partner/webhooks/identification", keyA, `{"url": "http://127.0.0.1:1/i", "enabled": true}`)
	f.do(t, "POST", "/api/v1/partner/webhooks/test", keyA, `{"type": "identification"}`)
	want := []ops.Send{
		{PartnerID: f.partner[keyA].ID, Type: bullseye.EventCreditsAllocated},
		{PartnerID: f.partner[keyA].ID, Type: bullseye.EventVisitorIdentified},
	}
	if len(f.emitter.reqs) != 2 || f.emitter.reqs[0].PartnerID != want[0].PartnerID || f.emitter.reqs[0].Type != want[0].Type || f.emitter.reqs[1].Type != want[1].Type {
		t.Fatalf("emitted %+v, want %+v", f.emitter.reqs, want)
	}
	// Partner B's webhooks are untouched by A's configuration.
	assertError(t, f.do(t, "POST", "/api/v1/partner/webhooks/test", keyB, `{"type": "billing"}`), 400, CodeBadRequest, "has no url")
}

func TestLogsQueryAndShape(t *testing.T) {
	f := newFixture(t, nil)
	next := epoch.Add(time.Minute)
	f.logs.entries = []sender.Attempt{
		{ID: "a2", Type: "identification", OrganizationID: "o1", Status: "retrying", StatusCode: 500, AttemptedAt: epoch.Add(123456789), ResponseTimeMs: 3,
			DeliveryID: "d1", Attempt: 1, EventType: "visitor.identified", URL: "http://x/h", Error: "receiver answered 500", NextAttemptAt: &next, PartnerID: f.partner[keyA].ID},
		{ID: "b1", PartnerID: f.partner[keyB].ID},
	}
	r := f.do(t, "GET", "/api/v1/partner/webhooks/logs", keyA, "")
	want := `{"logs":[{"id":"a2","type":"identification","organizationId":"o1","status":"retrying","statusCode":500,"attemptedAt":"2025-01-15T10:30:00Z","responseTimeMs":3,"deliveryId":"d1","attempt":1,"eventType":"visitor.identified","url":"http://x/h","error":"receiver answered 500","nextAttemptAt":"2025-01-15T10:31:00Z"}],"page":1,"pageSize":20,"total":1}`
	if got := strings.TrimSpace(string(r.body)); r.status != 200 || got != want {
		t.Fatalf("logs:\n got %s\nwant %s", got, want)
	}
	if q := f.logs.last; q.PartnerID != f.partner[keyA].ID || q.Page != 1 || q.PageSize != 20 {
		t.Fatalf("query = %+v", q)
	}
	f.do(t, "GET", "/api/v1/partner/webhooks/logs?page=3&pageSize=5&type=billing&status=failed&organizationId=o9", keyB, "")
	want2 := sender.LogQuery{PartnerID: f.partner[keyB].ID, Type: "billing", Status: "failed", OrganizationID: "o9", Page: 3, PageSize: 5}
	if f.logs.last != want2 {
		t.Fatalf("query = %+v, want %+v", f.logs.last, want2)
	}
	r = f.do(t, "GET", "/api/v1/partner/webhooks/logs?page=9", keyA, "")
	if got := strings.TrimSpace(string(r.body)); got != `{"logs":[],"page":9,"pageSize":20,"total":1}` {
		t.Fatalf("past the end: %s", got)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RateLimit = 3 })
	reset := epoch.Truncate(time.Minute).Add(time.Minute).Unix()
	for i := 0; i < 3; i++ {
		r := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, "")
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got, want := r.header.Get("X-RateLimit-Remaining"), string(rune('0'+2-i)); got != want {
			t.Fatalf("remaining = %s, want %s", got, want)
		}
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(reset, 10) {
			t.Fatalf("headers %v", r.header)
		}
	}
	r := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, "")
	assertError(t, r, 429, CodeTooManyRequests, "rate limit of 3 requests per minute exceeded")
	if r.header.Get("Retry-After") != "60" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429 headers %v", r.header)
	}
	// Other partners have their own budget.
	if r := f.do(t, "GET", "/api/v1/partner/webhooks", keyB, ""); r.status != 200 {
		t.Fatalf("partner B limited by A's use: %d", r.status)
	}
	// A new window starts on the minute.
	*f.now = epoch.Add(time.Minute)
	if r := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, ""); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("after reset: %d %v", r.status, r.header)
	}
}

func TestRateLimitOff(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RateLimit = 0 })
	for i := 0; i < 5; i++ {
		r := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, "")
		if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("limit off: %d %v", r.status, r.header)
		}
	}
}

func TestRateLimitCountsUnauthenticated(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RateLimit = 2 })
	for i := 0; i < 2; i++ {
		assertError(t, f.do(t, "GET", "/api/v1/partner/webhooks", "guess", ""), 401, CodeUnauthorized, "invalid")
	}
	assertError(t, f.do(t, "GET", "/api/v1/partner/webhooks", "guess", ""), 429, CodeTooManyRequests, "rate limit")
}

// TestRateLimiterSweepsStaleWindows: finished windows of one-off keys go,
// at most once a minute, and live windows stay.
func TestRateLimiterSweepsStaleWindows(t *testing.T) {
	now := epoch
	l := newRateLimiter(10, func() time.Time { return now })
	for i := 0; i < 2000; i++ {
		l.take(strconv.Itoa(i))
	}
	now = now.Add(time.Minute)
	l.take("live")
	if n := len(l.windows); n != 1 {
		t.Fatalf("%d windows after the sweep, want only the live one", n)
	}
	for i := 0; i < 2000; i++ {
		l.take("new" + strconv.Itoa(i))
	}
	if n := len(l.windows); n != 2001 {
		t.Fatalf("%d windows: a second sweep ran within the minute", n)
	}
}

// A key given twice and invalid UTF-8 are refused, naming the field, on the
// Partner API as on the control API (both decode with ops.Decode), and the
// webhook keeps its value.
func TestPartnerAPIStrictJSON(t *testing.T) {
	f := newFixture(t, nil)
	for body, want := range map[string]string{
		`{"url":"https://a.example/1","url":"https://b.example/2"}`: `"details":{"field":"url"}`,
		"{\"secret\":\"s\xff\"}":                                    `"details":{"field":"secret"}`,
	} {
		r := f.do(t, "PUT", "/api/v1/partner/webhooks/identification", keyA, body)
		if r.status != 400 || !strings.Contains(string(r.body), want) {
			t.Errorf("%q = %d %s, want 400 with %s", body, r.status, r.body, want)
		}
	}
	if r := f.do(t, "GET", "/api/v1/partner/webhooks", keyA, ""); strings.Contains(string(r.body), "example") {
		t.Errorf("a refused update changed the webhook: %s", r.body)
	}
}

// A fixed path that also fits a pattern route lists only its own methods
// in Allow: PUT /webhooks/test is a 405, so Allow must not offer PUT.
func TestAllowOnFixedPaths(t *testing.T) {
	f := newFixture(t, nil)
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/api/v1/partner/webhooks/test", "POST"},
		{"DELETE", "/api/v1/partner/webhooks/logs", "GET"},
		{"DELETE", "/api/v1/partner/webhooks/identification", "PUT"},
		{"POST", "/api/v1/partner/webhooks", "GET"},
	} {
		r := f.do(t, c.method, c.path, keyA, "{}")
		if r.status != 405 || r.header.Get("Allow") != c.allow {
			t.Errorf("%s %s = %d, Allow %q; want 405, Allow %q", c.method, c.path, r.status, r.header.Get("Allow"), c.allow)
		}
	}
}
