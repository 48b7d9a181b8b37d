package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// The control API is tested against the whole mock (real sender, real
// store, the built-in sink as the receiver) on a manual clock: these tests
// are about what a user sees end to end, and nothing in them sleeps.

var start = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

type harness struct {
	m     *mock.Mock
	clk   *clock.Manual
	url   string
	key   string
	token string
}

func newHarness(t *testing.T, mutate func(*mock.Config)) *harness {
	t.Helper()
	h := &harness{clk: clock.NewManual(start)}
	cfg := mock.Config{Clock: h.clk, Seed: 3, Organizations: 2, APIKeys: []string{"key-a", "key-b"}}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	})
	h.m, h.url, h.key, h.token = m, m.URL(), m.Partners()[0].Key, cfg.AdminToken
	return h
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) obj(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("not a JSON object (%v): %s", err, r.body)
	}
	return v
}

// call sends a request with the admin token (if any) and the partner key.
func (h *harness) call(t *testing.T, method, path, body string) reply {
	t.Helper()
	hdr := map[string]string{"X-Partner-API-Key": h.key}
	if h.token != "" {
		hdr["Authorization"] = "Bearer " + h.token
	}
	return h.send(t, method, path, body, hdr)
}

// send sends a request with these headers and reads the whole answer.
func (h *harness) send(t *testing.T, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (h *harness) must(t *testing.T, status int, method, path, body string) map[string]any {
	t.Helper()
	r := h.call(t, method, path, body)
	if r.status != status {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if r.status == http.StatusNoContent {
		return nil
	}
	return r.obj(t)
}

func wantError(t *testing.T, r reply, status int, code, msgPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	v := r.obj(t)
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

// webhookToSink points the first partner's identification webhook at a sink.
func (h *harness) webhookToSink(t *testing.T, sink, secret string) {
	t.Helper()
	h.must(t, 200, "PUT", "/api/v1/partner/webhooks/identification",
		`{"url": "`+h.url+`/_mock/sink/`+sink+`", "secret": "`+secret+`", "enabled": true}`)
}

// emit triggers events and returns the delivery ids.
func (h *harness) emit(t *testing.T, body string) []string {
	t.Helper()
	v := h.must(t, http.StatusAccepted, "POST", "/_mock/events", body)
	var ids []string
	for _, id := range v["deliveryIds"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

// settle waits until the sender has done what the current mock time allows.
func (h *harness) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.m.Ops().Idle(ctx); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) deliveryCount(t *testing.T) float64 {
	t.Helper()
	return h.must(t, 200, "GET", "/_mock/deliveries", "")["total"].(float64)
}

func TestControlEventDeliveredToSink(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/demo", `{"secret": "whsec_demo"}`)
	h.webhookToSink(t, "demo", "whsec_demo")
	ids := h.emit(t, `{"type": "visitor.identified", "count": 2}`)
	if len(ids) != 2 {
		t.Fatalf("ids = %v, want 2", ids)
	}
	v := h.must(t, 200, "GET", "/_mock/deliveries/"+ids[0]+"/wait?state=delivered&timeout=10s", "")
	if v["timedOut"] != false {
		t.Fatalf("wait timed out: %v", v)
	}
	d := v["delivery"].(map[string]any)
	if d["state"] != "delivered" || d["eventType"] != "visitor.identified" || d["type"] != "identification" {
		t.Fatalf("delivery = %v", d)
	}
	if p, ok := d["payload"].(map[string]any); !ok || p["event_type"] != "visitor.identified" {
		t.Errorf("payload = %v, want the parsed JSON payload", d["payload"])
	}
	if raw, _ := d["payloadRaw"].(string); !strings.HasPrefix(raw, "{") {
		t.Errorf("payloadRaw = %q", raw)
	}
	atts := d["attempts"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attempts = %v", atts)
	}
	a := atts[0].(map[string]any)
	if a["statusCode"] != 200.0 || !strings.HasSuffix(a["url"].(string), "/_mock/sink/demo") || a["requestHeaders"] == nil {
		t.Errorf("attempt = %v", a)
	}
	if _, ok := a["scheduledAt"]; ok {
		t.Errorf("first attempt has scheduledAt: %v", a)
	}

	reqs := h.must(t, 200, "GET", "/_mock/sink/demo/requests?atLeast=2&timeout=10s", "")
	if reqs["total"] != 2.0 || reqs["timedOut"] != false {
		t.Fatalf("sink got %v requests, want 2: %v", reqs["total"], reqs)
	}
	got := map[string]bool{}
	for _, r := range reqs["requests"].([]any) {
		r := r.(map[string]any)
		if r["signature"] != "valid" || r["status"] != 200.0 || r["attempt"] != 1.0 {
			t.Errorf("sink request = %v", r)
		}
		got[r["deliveryId"].(string)] = true
	}
	if !got[ids[0]] || !got[ids[1]] {
		t.Errorf("sink saw deliveries %v, want %v", got, ids)
	}
}

func TestControlRetriesOnManualClock(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/flaky", `{"secret": "s", "statuses": [500, 503, 200]}`)
	h.webhookToSink(t, "flaky", "s")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]

	v := h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?attempts=1&timeout=10s", "")
	if d := v["delivery"].(map[string]any); d["state"] != "retrying" {
		t.Fatalf("after attempt 1: %v", d)
	}
	c := h.must(t, 200, "GET", "/_mock/clock", "")
	if c["manual"] != true || c["nextDue"] != start.Add(time.Minute).Format(time.RFC3339) {
		t.Fatalf("clock = %v, want the retry due 1m after start", c)
	}
	adv := h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`)
	if adv["advancedBy"] != "1m0s" || adv["moved"] != true || adv["idle"] != true {
		t.Fatalf("advance = %v", adv)
	}
	// The advance waited for the attempt it made due: no wait needed here.
	d := h.must(t, 200, "GET", "/_mock/deliveries/"+id, "")
	if n := len(d["attempts"].([]any)); n != 2 {
		t.Fatalf("after one advance: %d attempts, want 2", n)
	}
	adv = h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "5m"}`)
	if adv["nextDue"] != nil {
		t.Fatalf("advance = %v, want nothing left due", adv)
	}
	d = h.must(t, 200, "GET", "/_mock/deliveries/"+id, "")
	atts := d["attempts"].([]any)
	if d["state"] != "delivered" || len(atts) != 3 {
		t.Fatalf("delivery = %v", d)
	}
	a3 := atts[2].(map[string]any)
	if a3["scheduledAt"] != start.Add(6*time.Minute).Format(time.RFC3339) || a3["statusCode"] != 200.0 {
		t.Errorf("third attempt = %v", a3)
	}
	// Nothing due: the clock stays where it is, and says so.
	adv = h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`)
	if adv["moved"] != false || adv["now"] != start.Add(6*time.Minute).Format(time.RFC3339) {
		t.Errorf("advance with nothing due = %v", adv)
	}
}

func TestControlWaitTimesOut(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/down", `{"statuses": [500]}`)
	h.webhookToSink(t, "down", "")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)

	// The clock is manual and nobody moves it: the wait must time out and
	// report the delivery as it stands.
	v := h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?state=delivered&timeout=20ms", "")
	d := v["delivery"].(map[string]any)
	if v["timedOut"] != true || d["state"] != "retrying" || len(d["attempts"].([]any)) != 1 {
		t.Fatalf("wait = %v", v)
	}
	all := h.must(t, 200, "GET", "/_mock/deliveries/wait?timeout=20ms", "")
	if all["timedOut"] != true || all["waitedFor"] != 1.0 || len(all["pending"].([]any)) != 1 {
		t.Fatalf("wait for all = %v", all)
	}
	// Moving past every retry settles it: failed after four attempts.
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "2h"}`)
	all = h.must(t, 200, "GET", "/_mock/deliveries/wait?timeout=10s", "")
	if all["timedOut"] != false || len(all["pending"].([]any)) != 0 {
		t.Fatalf("wait for all after advance = %v", all)
	}
	d = h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?state=final&timeout=10s", "")["delivery"].(map[string]any)
	if d["state"] != "failed" || len(d["attempts"].([]any)) != 4 {
		t.Fatalf("delivery = %v", d)
	}
}

func TestControlBadInputChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "x", "")
	org := h.m.Partners()[1].OrganizationIDs[0]
	cases := []struct {
		name, method, path, body, msg string
		status                        int
	}{
		{"no type", "POST", "/_mock/events", `{"count": 1}`, `type is required`, 400},
		{"unknown type", "POST", "/_mock/events", `{"type": "visitor.left"}`, "unknown event type", 400},
		{"count zero", "POST", "/_mock/events", `{"type": "visitor.identified", "count": 0}`, "count must be", 400},
		{"unknown field", "POST", "/_mock/events", `{"type": "visitor.identified", "cuont": 2}`, `unknown field "cuont"`, 400},
		{"bad key", "POST", "/_mock/events", `{"type": "visitor.identified", "apiKey": "nope"}`, "no partner has apiKey", 400},
		{"key and id", "POST", "/_mock/events", `{"type": "visitor.identified", "apiKey": "key-a", "partnerId": "p"}`, "exclude each other", 400},
		{"other partner's org", "POST", "/_mock/events", `{"type": "visitor.identified", "organizationId": "` + org + `"}`, "is not one of partner", 400},
		{"bad dialect", "POST", "/_mock/events", `{"type": "visitor.identified", "dialect": "klingon"}`, "klingon", 400},
		{"bad fault", "POST", "/_mock/events", `{"type": "visitor.identified", "faults": [{"signature": "fuzzy"}]}`, `unknown signature fault "fuzzy"`, 400},
		{"empty fault", "POST", "/_mock/events", `{"type": "visitor.identified", "faults": [{}]}`, "a fault needs signature, duplicate or replay", 400},
		{"fault beyond count", "POST", "/_mock/events", `{"type": "visitor.identified", "count": 2, "faults": [{"signature": "missing", "events": [3]}]}`, "", 400},
		{"bad delay", "POST", "/_mock/events", `{"type": "visitor.identified", "delay": "soon"}`, "delay must be", 400},
		{"bad policy", "POST", "/_mock/events", `{"type": "visitor.identified", "policy": {"timeout": "-1s"}}`, "timeout must not be negative", 400},
		{"overrides not object", "POST", "/_mock/events", `{"type": "visitor.identified", "overrides": [1]}`, "overrides must be", 400},
		{"not JSON", "POST", "/_mock/events", `type=visitor.identified`, "JSON object", 400},
		{"bad state filter", "GET", "/_mock/deliveries?state=lost", "", "state must be one of", 400},
		{"bad event type filter", "GET", "/_mock/deliveries?eventType=visitor.left", "", "unknown event type", 400},
		{"bad page", "GET", "/_mock/deliveries?page=0", "", "page must be", 400},
		{"unknown delivery", "GET", "/_mock/deliveries/nope", "", `no delivery "nope"`, 404},
		{"wait unknown delivery", "GET", "/_mock/deliveries/nope/wait", "", `no delivery "nope"`, 404},
		{"wait all with state", "GET", "/_mock/deliveries/wait?state=failed", "", "state is not a filter", 400},
		{"wait bad timeout", "GET", "/_mock/deliveries/wait?timeout=forever", "", "timeout must be", 400},
		{"redeliver unknown", "POST", "/_mock/deliveries/nope/redeliver", "", `no delivery "nope"`, 404},
		{"advance nothing", "POST", "/_mock/clock/advance", `{}`, "exactly one of", 400},
		{"advance two", "POST", "/_mock/clock/advance", `{"by": "1m", "toNextDue": true}`, "exactly one of", 400},
		{"advance negative", "POST", "/_mock/clock/advance", `{"by": "-1m"}`, "by must not be negative", 400},
		{"advance back", "POST", "/_mock/clock/advance", `{"to": "2000-01-01T00:00:00Z"}`, "never goes back", 400},
		{"sink bad status", "PUT", "/_mock/sink/x", `{"statuses": [200, 99]}`, "statuses[1]", 400},
		{"sink bad delay", "PUT", "/_mock/sink/x", `{"delay": "2h"}`, "delay must be", 400},
		{"sink bad capacity", "PUT", "/_mock/sink/x", `{"capacity": -1}`, "capacity must be", 400},
		{"sink bad name", "PUT", "/_mock/sink/a%20b", `{}`, "sink name", 400},
		{"sink unknown", "GET", "/_mock/sink/never/requests", "", `no sink "never"`, 404},
		{"sink bad atLeast", "GET", "/_mock/sink/x/requests?atLeast=0", "", "atLeast must be", 400},
		{"unknown control path", "GET", "/_mock/nothing", "", "no such endpoint", 404},
		{"wrong method", "DELETE", "/_mock/events", "", "not allowed", 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, h.call(t, c.method, c.path, c.body), c.status, map[int]string{400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}[c.status], c.msg)
		})
	}
	if n := h.deliveryCount(t); n != 0 {
		t.Errorf("bad requests created %v deliveries", n)
	}
	if c := h.must(t, 200, "GET", "/_mock/clock", ""); c["now"] != start.Format(time.RFC3339) {
		t.Errorf("bad requests moved the clock to %v", c["now"])
	}
	wantError(t, h.call(t, "GET", "/_mock/sink/x", ""), 404, "NotFound", `no sink "x"`)

	// A long-poll on a sink that never receives times out with nothing.
	v := h.must(t, 200, "GET", "/_mock/sink/quiet/requests?atLeast=1&timeout=20ms", "")
	if v["timedOut"] != true || v["total"] != 0.0 {
		t.Errorf("sink wait = %v", v)
	}
}

func TestControlClockNotManual(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.Clock = nil; c.TimeScale = 1 })
	wantError(t, h.call(t, "POST", "/_mock/clock/advance", `{"by": "1m"}`), 409, "Conflict", "--clock manual")
	if c := h.must(t, 200, "GET", "/_mock/clock", ""); c["manual"] != false {
		t.Errorf("clock = %v", c)
	}
}

// An event for a webhook the vendor would not deliver to is refused as the
// test webhook is, with nothing created, unless asked for on purpose: then
// the deliveries are made and canceled at their due time.
func TestControlEventsForAWebhookThatCannotDeliver(t *testing.T) {
	h := newHarness(t, nil)
	r := h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified", "count": 2}`)
	wantError(t, r, 400, "BadRequest", "the identification webhook has no url: configure it with PUT /api/v1/partner/webhooks/identification (or set evenIfDisabled")
	if d := r.obj(t)["details"].(map[string]any); d["field"] != "type" {
		t.Errorf("details = %v", d)
	}
	h.webhookToSink(t, "off", "")
	h.must(t, 200, "PUT", "/api/v1/partner/webhooks/identification", `{"enabled": false}`)
	wantError(t, h.call(t, "POST", "/_mock/events", `{"type": "visitor.identified"}`), 400, "BadRequest", "the identification webhook is disabled: enable it with PUT")
	if n := h.deliveryCount(t); n != 0 {
		t.Fatalf("refused requests created %v deliveries", n)
	}
	ids := h.emit(t, `{"type": "visitor.identified", "count": 2, "evenIfDisabled": true}`)
	h.settle(t)
	for _, id := range ids {
		d := h.must(t, 200, "GET", "/_mock/deliveries/"+id, "")
		if d["state"] != "canceled" {
			t.Errorf("%s: state %v, want canceled", id, d["state"])
		}
	}
	// The billing webhook was never configured either.
	wantError(t, h.call(t, "POST", "/_mock/events", `{"type": "credits.low"}`), 400, "BadRequest", "the billing webhook has no url")
}

func TestControlListFilterAndPaging(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "list", "")
	h.emit(t, `{"type": "visitor.identified", "count": 3}`)
	h.emit(t, `{"type": "visitor.identified", "apiKey": "key-b", "evenIfDisabled": true}`) // no webhook: canceled
	h.settle(t)
	v := h.must(t, 200, "GET", "/_mock/deliveries?pageSize=2", "")
	if v["total"] != 4.0 || len(v["deliveries"].([]any)) != 2 || v["pageSize"] != 2.0 {
		t.Fatalf("list = %v", v)
	}
	v = h.must(t, 200, "GET", "/_mock/deliveries?apiKey=key-b", "")
	if v["total"] != 1.0 || v["deliveries"].([]any)[0].(map[string]any)["state"] != "canceled" {
		t.Fatalf("key-b's deliveries = %v", v)
	}
	if v = h.must(t, 200, "GET", "/_mock/deliveries?state=delivered&type=identification", ""); v["total"] != 3.0 {
		t.Fatalf("delivered = %v", v)
	}
	if v = h.must(t, 200, "GET", "/_mock/deliveries?type=billing", ""); v["total"] != 0.0 {
		t.Fatalf("billing = %v", v)
	}
	if v = h.must(t, 200, "GET", "/_mock/deliveries?eventType=visitor.identified", ""); v["total"] != 4.0 {
		t.Fatalf("visitor.identified = %v", v)
	}
	if v = h.must(t, 200, "GET", "/_mock/deliveries?eventType=credits.low", ""); v["total"] != 0.0 {
		t.Fatalf("credits.low = %v", v)
	}
	// Events go round the partner's organizations; the filter finds each one's.
	perOrg := map[string]float64{}
	for _, d := range h.must(t, 200, "GET", "/_mock/deliveries", "")["deliveries"].([]any) {
		perOrg[d.(map[string]any)["organizationId"].(string)]++
	}
	if len(perOrg) < 2 {
		t.Fatalf("deliveries name %d organizations, want several", len(perOrg))
	}
	for org, n := range perOrg {
		if v = h.must(t, 200, "GET", "/_mock/deliveries?organizationId="+org, ""); v["total"] != n {
			t.Fatalf("organization %s: total %v, want %v", org, v["total"], n)
		}
	}
	p := h.must(t, 200, "GET", "/_mock/partners", "")["partners"].([]any)
	if len(p) != 2 || p[1].(map[string]any)["apiKey"] != "key-b" {
		t.Errorf("partners = %v", p)
	}
}

func TestControlRedeliverAndReset(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "r", "sec")
	id := h.emit(t, `{"type": "visitor.identified", "faults": [{"signature": "wrong_secret"}]}`)[0]
	h.settle(t)
	v := h.must(t, http.StatusAccepted, "POST", "/_mock/deliveries/"+id+"/redeliver", "")
	newID := v["deliveryId"].(string)
	if newID == id || v["redeliveryOf"] != id {
		t.Fatalf("redeliver = %v", v)
	}
	d := h.must(t, 200, "GET", "/_mock/deliveries/"+newID+"/wait?timeout=10s", "")["delivery"].(map[string]any)
	if d["duplicateOf"] != id || d["fault"] != "wrong_secret" || d["state"] != "delivered" {
		t.Fatalf("redelivery = %v", d)
	}
	h.must(t, 200, "PUT", "/_mock/sink/r", `{"secret": "sec"}`) // clears what it recorded
	h.must(t, http.StatusAccepted, "POST", "/_mock/deliveries/"+id+"/redeliver", "")
	h.must(t, 200, "GET", "/_mock/deliveries/wait?timeout=10s", "")
	reqs := h.must(t, 200, "GET", "/_mock/sink/r/requests", "")["requests"].([]any)
	if len(reqs) != 1 || reqs[0].(map[string]any)["signature"] != "invalid" {
		t.Fatalf("sink saw %v, want one request with an invalid signature", reqs)
	}

	h.must(t, 200, "POST", "/_mock/reset", "")
	if n := h.deliveryCount(t); n != 0 {
		t.Errorf("after reset: %v deliveries", n)
	}
	s := h.must(t, 200, "GET", "/_mock/sink/r", "")
	if s["kept"] != 0.0 || s["hasSecret"] != true {
		t.Errorf("sink after reset = %v, want its settings kept and its requests gone", s)
	}
	wantError(t, h.call(t, "GET", "/_mock/deliveries/"+id, ""), 404, "NotFound", "no delivery")
}

func TestControlAdminToken(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.AdminToken = "s3cret" })
	h.webhookToSink(t, "tok", "")
	h.emit(t, `{"type": "visitor.identified"}`) // with the token
	h.settle(t)
	h.token = ""
	wantError(t, h.call(t, "GET", "/_mock/deliveries", ""), 401, "Unauthorized", "missing admin token")
	h.token = "wrong"
	wantError(t, h.call(t, "POST", "/_mock/reset", ""), 401, "Unauthorized", "invalid admin token")
	h.token = "s3cret"
	// The sink received the delivery without any token.
	if v := h.must(t, 200, "GET", "/_mock/sink/tok", ""); v["received"] != 1.0 {
		t.Fatalf("sink = %v", v)
	}
}

func TestSinkStatusesDelayAndCapacity(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/seq", `{"statuses": [500, 202], "capacity": 2}`)
	var got []int
	for range 4 {
		got = append(got, h.call(t, "POST", "/_mock/sink/seq", `{"n": 1}`).status)
	}
	if want := []int{500, 202, 202, 202}; !equalInts(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	v := h.must(t, 200, "GET", "/_mock/sink/seq/requests", "")
	if v["total"] != 2.0 || v["received"] != 4.0 || v["evicted"] != 2.0 {
		t.Errorf("requests = %v, want the last 2 of 4 kept", v)
	}
	if first := v["requests"].([]any)[0].(map[string]any); first["seq"] != 3.0 || first["signature"] != "unchecked" {
		t.Errorf("oldest kept = %v", first)
	}

	// A delay outlasting the sender's timeout: the attempt times out in
	// mock time (the clock moves 30 s) and the sink stops waiting at once.
	h.must(t, 200, "PUT", "/_mock/sink/slow", `{"delay": "1m"}`)
	h.webhookToSink(t, "slow", "")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, timedOut, err := h.m.Ops().Wait(ctx, id, ops.Condition{States: []string{"in_flight"}}); err != nil || timedOut {
		t.Fatal(err, timedOut)
	}
	// The attempt's deadline is its start plus 30 s, fixed before it went
	// in flight, so moving the clock now times it out wherever it is.
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "30s"}`)
	d := h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?attempts=1&timeout=10s", "")["delivery"].(map[string]any)
	a := d["attempts"].([]any)[0].(map[string]any)
	if d["state"] != "retrying" || a["statusCode"] != 0.0 || a["error"] == "" {
		t.Errorf("timed-out attempt = %v", a)
	}
	h.must(t, 204, "DELETE", "/_mock/sink/seq", "")
	for _, sk := range h.must(t, 200, "GET", "/_mock/sink", "")["sinks"].([]any) {
		if sk.(map[string]any)["name"] == "seq" {
			t.Errorf("sink seq still listed after delete: %v", sk)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSinkVerifiesWithWebhookSecret(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "auto", "whsec_w") // the sink itself is not configured
	h.emit(t, `{"type": "visitor.identified", "count": 2, "faults": [{"signature": "uppercase", "events": [2]}]}`)
	h.must(t, 200, "GET", "/_mock/deliveries/wait?timeout=10s", "")
	reqs := h.must(t, 200, "GET", "/_mock/sink/auto/requests", "")["requests"].([]any)
	if len(reqs) != 2 {
		t.Fatalf("sink got %d requests", len(reqs))
	}
	byAttempt := map[string]map[string]any{}
	for _, r := range reqs {
		r := r.(map[string]any)
		d := h.must(t, 200, "GET", "/_mock/deliveries/"+r["deliveryId"].(string), "")
		f, _ := d["fault"].(string) // omitted when none
		byAttempt[f] = r
	}
	if r := byAttempt[""]; r["signature"] != "valid" || r["secretFrom"] != "webhook" {
		t.Errorf("clean delivery = %v", r)
	}
	if r := byAttempt["uppercase"]; r["signature"] != "invalid" || !strings.Contains(r["signatureError"].(string), "uppercase") {
		t.Errorf("uppercase fault = %v", r)
	}
}

// TestSinkVerifiesRetriesWithTheCapturedSecret: the sender signs every
// attempt with the secret of the moment the delivery was made, so after the
// webhook's secret changes the sink must still call its retries valid.
func TestSinkVerifiesRetriesWithTheCapturedSecret(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/rotate", `{"statuses": [500, 200]}`)
	h.webhookToSink(t, "rotate", "whsec_old")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?attempts=1&timeout=5s", "")
	h.must(t, 200, "PUT", "/api/v1/partner/webhooks/identification", `{"secret": "whsec_new"}`)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"toNextDue": true}`)
	h.must(t, 200, "GET", "/_mock/deliveries/"+id+"/wait?state=final&timeout=5s", "")
	reqs := h.must(t, 200, "GET", "/_mock/sink/rotate/requests", "")["requests"].([]any)
	if len(reqs) != 2 {
		t.Fatalf("sink got %d requests", len(reqs))
	}
	for i, r := range reqs {
		if sig := r.(map[string]any)["signature"]; sig != "valid" {
			t.Errorf("request %d: signature %v, want valid", i+1, sig)
		}
	}
}

func TestSinkRefusesInformationalStatuses(t *testing.T) {
	h := newHarness(t, nil)
	wantError(t, h.call(t, "PUT", "/_mock/sink/x", `{"statuses": [100]}`), 400, "BadRequest", "from 200 to 599")
}
