package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// sseEvent is one event as a stream sent it; a heartbeat comment comes as
// an event named ":heartbeat".
type sseEvent struct {
	ID   string
	Name string
	Data string
}

func (e sseEvent) obj(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(e.Data), &v); err != nil {
		t.Fatalf("%s: data is not a JSON object (%v): %q", e.Name, err, e.Data)
	}
	return v
}

// sseReader reads a stream in a goroutine and hands its events over one
// by one; every wait for one is bounded.
type sseReader struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
	retry  string
	hello  sseEvent
}

// openStream opens GET /_mock/stream?query with the harness's token, plus
// hdr, and reads up to its hello event.
func (h *harness) openStream(t *testing.T, query string, hdr map[string]string) *sseReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/_mock/stream?"+query, nil)
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET /_mock/stream?%s = %d", query, resp.StatusCode)
	}
	r := &sseReader{resp: resp, events: make(chan sseEvent, 1024), cancel: cancel}
	t.Cleanup(r.close)
	go r.read()
	if r.hello = r.next(t); r.hello.Name != "hello" {
		t.Fatalf("first event %+v, want hello", r.hello)
	}
	return r
}

func (r *sseReader) close() {
	r.cancel()
	r.resp.Body.Close()
}

// read parses the SSE wire format: fields up to a blank line make an event.
func (r *sseReader) read() {
	defer close(r.events)
	sc := bufio.NewScanner(r.resp.Body)
	var e sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e.Name != "" {
				r.events <- e
			}
			e = sseEvent{}
		case strings.HasPrefix(line, ": heartbeat"):
			r.events <- sseEvent{Name: ":heartbeat"}
		case strings.HasPrefix(line, "id: "):
			e.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.Name = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.Data = line[6:]
		case strings.HasPrefix(line, "retry: "):
			r.retry = line[7:]
		}
	}
}

// next is the next event, heartbeats included.
func (r *sseReader) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case e, ok := <-r.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

// until skips to the first event named name (heartbeats skipped).
func (r *sseReader) until(t *testing.T, name string) sseEvent {
	t.Helper()
	for {
		if e := r.next(t); e.Name == name {
			return e
		}
	}
}

// A delivery's life on the stream, on the manual clock: created, each
// attempt as the attempt log has it, the retry's schedule, the sink's
// verdict, the clock's moves; ids increase; data is one JSON line.
func TestStreamTellsADeliverysLife(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/life", `{"statuses": [503, 200], "secret": "whsec_x"}`)
	h.webhookToSink(t, "life", "whsec_x")
	s := h.openStream(t, "coalesce=0s&events=delivery,attempt,sink,clock", nil)
	if s.retry != "2000" {
		t.Errorf("retry = %q", s.retry)
	}
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)

	// read gathers events up to one for which stop holds, checking each.
	var prev int
	read := func(stop func(name string, v map[string]any) bool) []string {
		t.Helper()
		var seen []string
		for {
			e := s.next(t)
			if e.Name == ":heartbeat" {
				continue
			}
			n, err := strconv.Atoi(e.ID)
			if err != nil || n <= prev {
				t.Fatalf("event %+v: id not increasing from %d", e, prev)
			}
			prev = n
			v := e.obj(t)
			switch e.Name {
			case "delivery":
				if v["id"] != id || v["eventType"] != "visitor.identified" || v["type"] != "identification" {
					t.Errorf("delivery event %v", v)
				}
				seen = append(seen, "delivery:"+v["state"].(string))
			case "attempt":
				if v["deliveryId"] != id {
					t.Errorf("attempt event %v", v)
				}
				seen = append(seen, "attempt:"+v["status"].(string))
			case "sink":
				if v["sink"] != "life" || v["signature"] != "valid" || v["deliveryId"] != id {
					t.Errorf("sink event %v", v)
				}
				seen = append(seen, "sink:"+strconv.Itoa(int(v["status"].(float64))))
			case "clock":
				if v["manual"] != true || v["now"] != start.Add(time.Minute).Format(time.RFC3339) {
					t.Errorf("clock event %v", v)
				}
				seen = append(seen, "clock")
			}
			if stop(e.Name, v) {
				return seen
			}
		}
	}
	// The changes of one instant may come merged into the latest (created
	// and in_flight here); what follows one another in time is in order.
	inOrder := func(got []string, want ...string) {
		t.Helper()
		rest := strings.Join(got, " ")
		for _, w := range want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Fatalf("events %q lack %q (in order)", got, w)
			}
			rest = rest[i+len(w):]
		}
	}
	retrying := read(func(name string, v map[string]any) bool {
		if name == "delivery" && v["state"] == "retrying" {
			if v["nextAttemptAt"] != start.Add(time.Minute).Format(time.RFC3339) || v["attemptCount"] != 1.0 {
				t.Errorf("retrying: %v", v)
			}
			return true
		}
		return false
	})
	inOrder(retrying, "sink:503", "attempt:retrying", "delivery:retrying")
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "1m"}`)
	inOrder(read(func(name string, _ map[string]any) bool { return name == "clock" }), "sink:200", "attempt:delivered", "delivery:delivered", "clock")
}

// Filters: events chooses the kinds; an event comes when it carries every
// filtered field with the filter's value, so a filter chooses kinds too.
func TestStreamFilters(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "f", "")
	h.must(t, 200, "PUT", "/api/v1/partner/webhooks/billing", `{"url": "`+h.url+`/_mock/sink/f", "enabled": true}`)
	kinds := h.openStream(t, "coalesce=0s&events=delivery&type=billing", nil)
	requests := h.openStream(t, "partnerId="+h.m.Partners()[1].ID, nil) // the first partner's deliveries, the sinks' requests: not carried
	h.emit(t, `{"type": "visitor.identified"}`)
	billing := h.emit(t, `{"type": "credits.low"}`)[0]
	h.must(t, 200, "PUT", "/_mock/sink/f", `{}`) // a control request is not journaled
	other := h.m.Partners()[1].Key
	h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", "")
	h.apiCall(t, other, "GET", "/api/v1/partner/webhooks", "")

	e := kinds.next(t)
	if v := e.obj(t); e.Name != "delivery" || v["id"] != billing || v["type"] != "billing" {
		t.Errorf("first event of a billing-only stream: %s %v", e.Name, v)
	}
	e = requests.next(t)
	if v := e.obj(t); e.Name != "request" || v["partnerId"] != h.m.Partners()[1].ID || v["path"] != "/api/v1/partner/webhooks" {
		t.Errorf("first event of the second partner's request stream: %s %v", e.Name, v)
	}

	for _, c := range []struct{ query, param, msg string }{
		{"events=delivery,nope", "events", `unknown event "nope", expected some of delivery, attempt, sink, request, clock, reset`},
		{"type=nope", "type", "type must be one of identification, billing"},
		{"state=done", "state", "state must be one of"},
		{"apiKey=nope", "apiKey", "no partner has apiKey"},
		{"heartbeat=1ms", "heartbeat", "heartbeat must be from 50ms to 5m0s, got 1ms"},
		{"coalesce=1m", "coalesce", "coalesce must be from 0s to 10s, got 1m0s"},
		{"lastEventId=x", "lastEventId", "lastEventId must be the id of an event the stream sent"},
	} {
		r := h.call(t, "GET", "/_mock/stream?"+c.query, "")
		wantError(t, r, 400, "BadRequest", c.msg)
		if d := r.obj(t)["details"].(map[string]any); d["parameter"] != c.param {
			t.Errorf("%s: details %v, want parameter %s", c.query, d, c.param)
		}
	}
}

// Resumption: a reader that gives the last id it saw (Last-Event-ID, or
// lastEventId on a first connection) gets every event after it, once; an
// id the mock never gave gets a lost event (reason unknown); one older than
// the buffer gets lost (reason behind) with the count it missed.
func TestStreamResumes(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "r", "")
	s := h.openStream(t, "coalesce=0s&events=delivery", nil)
	first := h.emit(t, `{"type": "visitor.identified", "delay": "1h"}`)[0]
	e := s.next(t)
	s.close()
	later := h.emit(t, `{"type": "visitor.identified", "count": 2, "delay": "1h"}`)

	for _, hdr := range []map[string]string{{"Last-Event-ID": e.ID}, nil} {
		q := "coalesce=0s&events=delivery"
		if hdr == nil {
			q += "&lastEventId=" + e.ID
		}
		r := h.openStream(t, q, hdr)
		for _, want := range later {
			if v := r.next(t).obj(t); v["id"] != want || v["created"] != true {
				t.Errorf("resumed after %s (%v): got %v, want %s", e.ID, hdr, v, want)
			}
		}
		r.close()
	}
	if v := e.obj(t); v["id"] != first {
		t.Errorf("first event %v", v)
	}

	r := h.openStream(t, "lastEventId=999999", nil)
	lost := r.next(t)
	if v := lost.obj(t); lost.Name != "lost" || v["reason"] != "unknown" || v["missed"] != 0.0 {
		t.Errorf("an unknown id: %s %v", lost.Name, v)
	}
}

// The buffer is bounded: a reader that resumes from further back than it
// holds is told how many events it missed.
func TestStreamLostBehind(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.StreamBuffer = 8 })
	h.webhookToSink(t, "b", "")
	s := h.openStream(t, "coalesce=0s&events=delivery", nil)
	h.emit(t, `{"type": "visitor.identified", "delay": "1h"}`)
	e := s.next(t)
	s.close()
	h.emit(t, `{"type": "visitor.identified", "count": 10, "delay": "1h"}`) // 10 events, 8 kept
	r := h.openStream(t, "coalesce=0s&events=delivery", map[string]string{"Last-Event-ID": e.ID})
	lost := r.next(t)
	if v := lost.obj(t); lost.Name != "lost" || v["reason"] != "behind" || v["missed"] != 2.0 {
		t.Fatalf("resuming past the buffer: %s %v", lost.Name, v)
	}
	for range 8 {
		if e := r.next(t); e.Name != "delivery" {
			t.Fatalf("after lost: %+v", e)
		}
	}
}

// A burst larger than a batch may carry is not sent event by event: the
// reader is told to reload (lost, reason flood), once.
func TestStreamFlood(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "fl", "")
	s := h.openStream(t, "coalesce=3s&events=delivery", nil) // one window, however slow the machine
	h.emit(t, `{"type": "visitor.identified", "count": 1500, "delay": "1h"}`)
	e := s.next(t)
	if v := e.obj(t); e.Name != "lost" || v["reason"] != "flood" || v["missed"].(float64) < ops.MaxBatch {
		t.Fatalf("a burst of 1500: %s %v", e.Name, v)
	}
}

// A quiet stream sends heartbeats; the admin token guards it like every
// control route; past the most streams, 429; on shutdown a stopping event.
func TestStreamHeartbeatTokenBusyAndStopping(t *testing.T) {
	h := newHarness(t, func(c *mock.Config) { c.AdminToken = "tok" })
	s := h.openStream(t, "heartbeat=50ms", nil)
	if e := s.next(t); e.Name != ":heartbeat" {
		t.Errorf("a quiet stream sent %+v, want a heartbeat", e)
	}
	if ct := s.resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	wantError(t, h.send(t, "GET", "/_mock/stream", "", nil), 401, "Unauthorized", "missing admin token")

	var open []*ops.Stream
	defer func() {
		for _, st := range open {
			st.Close()
		}
	}()
	for len(open) < ops.MaxStreams-1 {
		st, err := h.m.Ops().OpenStream(ops.Watch{})
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, st)
	}
	r := h.call(t, "GET", "/_mock/stream", "")
	wantError(t, r, 429, "TooManyRequests", "64 streams are open, the most the mock serves at once")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	open[0].Close()
	open = open[1:]

	go func() { _, _ = h.m.Close(context.Background()) }()
	if e := s.until(t, "stopping"); e.obj(t)["lastEventId"] == nil {
		t.Errorf("stopping event %+v", e)
	}
}

// Every event the stream sends has the data the document's x-events gives
// its name: a field added, renamed or dropped fails here.
func TestStreamEventsMatchTheDocument(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp := doc.Paths.Find("/_mock/stream").Get.Responses.Status(200).Value
	if ct := resp.Content.Get("text/event-stream"); ct == nil {
		t.Fatal("the stream's 200 does not declare text/event-stream")
	}
	schemas := map[string]*openapi3.Schema{}
	for name, raw := range resp.Extensions["x-events"].(map[string]any) {
		m := raw.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			schemas[name] = doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Value
			continue
		}
		b, _ := json.Marshal(m)
		var s openapi3.Schema
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		schemas[name] = &s
	}
	for _, n := range append(feed.Names(), feed.Hello, feed.Lost, feed.Stopping, feed.End) {
		if schemas[n] == nil {
			t.Errorf("x-events does not give event %q", n)
		}
	}

	h := newHarness(t, nil)
	h.webhookToSink(t, "doc", "")
	h.must(t, 200, "PUT", "/_mock/sink/doc", `{"statuses": [500, 200]}`)
	s := h.openStream(t, "coalesce=0s", nil)
	h.emit(t, `{"type": "visitor.identified", "faults": [{"signature": "wrong_secret"}, {"duplicate": "concurrent"}]}`)
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "1m"}`)
	h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks", "")
	h.must(t, 200, "POST", "/_mock/reset", "")
	lost := h.openStream(t, "lastEventId=999999", nil).next(t)
	end := h.openStream(t, "timeout=1ms", nil).until(t, "end")
	go func() { _, _ = h.m.Close(context.Background()) }()

	check := func(e sseEvent) {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(e.Data), &v); err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		sc := schemas[e.Name]
		if sc == nil {
			t.Fatalf("event %q is not in the document", e.Name)
		}
		if err := sc.VisitJSON(v); err != nil {
			t.Errorf("event %s does not match its schema: %v\n%s", e.Name, err, e.Data)
		}
	}
	check(lost)
	check(end)
	check(s.hello)
	seen := map[string]bool{"lost": true}
	for !seen["stopping"] {
		e := s.next(t)
		if e.Name != ":heartbeat" {
			check(e)
			seen[e.Name] = true
		}
	}
	for _, n := range feed.Names() {
		if !seen[n] {
			t.Errorf("the exercise sent no %s event", n)
		}
	}
}

// GET /_mock/logs is the vendor's attempt log, for one partner or all,
// and calls no Partner API (the journal stays the app's).
func TestControlLogs(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "logs", "")
	h.emit(t, `{"type": "visitor.identified", "count": 2}`)
	h.emit(t, `{"type": "visitor.identified", "apiKey": "key-b", "evenIfDisabled": true}`)
	h.settle(t)
	before := h.must(t, 200, "GET", "/_mock/requests", "")["total"]
	all := h.must(t, 200, "GET", "/_mock/logs", "")
	if all["total"] != 3.0 || all["pageSize"] != 20.0 {
		t.Fatalf("all partners: %v", all)
	}
	mine := h.must(t, 200, "GET", "/_mock/logs?apiKey=key-a&status=delivered", "")
	vendor := h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks/logs?status=delivered", "").obj(t)
	if mine["total"] != 2.0 || fmt.Sprint(mine) != fmt.Sprint(vendor) {
		t.Errorf("the control API's log of key-a\n%v\ndiffers from the vendor's\n%v", mine, vendor)
	}
	if after := h.must(t, 200, "GET", "/_mock/requests", "")["total"]; after != before.(float64)+1 {
		t.Errorf("journal %v -> %v: only the one Partner API call may be journaled", before, after)
	}
	// A bad filter: the Partner API names the parameter as the vendor does.
	if d := h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks/logs?status=ok", "").obj(t)["details"]; fmt.Sprint(d) != "map[parameter:status]" {
		t.Errorf("the Partner API's details: %v", d)
	}
}

// limit and timeout end a stream with an end event, so one request from a
// shell script can wait for the next delivered delivery; the events past
// the limit are left for the next stream.
func TestStreamLimitAndTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "lt", "")
	s := h.openStream(t, "coalesce=0s&events=delivery&state=scheduled&limit=2", nil)
	ids := h.emit(t, `{"type": "visitor.identified", "count": 3, "delay": "1h"}`)
	var got []string
	for _, want := range ids[:2] {
		e := s.next(t)
		if v := e.obj(t); e.Name != "delivery" || v["id"] != want {
			t.Fatalf("got %s %v, want delivery %s", e.Name, v, want)
		}
		got = append(got, e.ID)
	}
	end := s.next(t)
	if v := end.obj(t); end.Name != "end" || v["reason"] != "limit" || strconv.Itoa(int(v["lastEventId"].(float64))) != got[1] {
		t.Errorf("after the limit: %s %v", end.Name, v)
	}
	select {
	case e, more := <-s.events:
		if more {
			t.Errorf("the stream went on after its end event: %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Error("the stream did not end after its end event")
	}
	rest := h.openStream(t, "coalesce=0s&events=delivery&lastEventId="+got[1], nil)
	if v := rest.next(t).obj(t); v["id"] != ids[2] {
		t.Errorf("the next stream resumed with %v, want %s", v, ids[2])
	}
	quiet := h.openStream(t, "timeout=50ms", nil)
	if e := quiet.until(t, "end"); e.obj(t)["reason"] != "timeout" {
		t.Errorf("a timed-out stream ended with %v", e.Data)
	}
	for q, msg := range map[string]string{"limit=0": "limit must be an integer from 1 to 100000", "timeout=25h": "timeout must be from 1ns to 24h0m0s (0 or none: never), got 25h0m0s", "timeout=soon": "timeout must be a Go duration such as 15s"} {
		wantError(t, h.call(t, "GET", "/_mock/stream?"+q, ""), 400, "BadRequest", msg)
	}
}

// The delivery list's url filter keeps the deliveries with an attempt sent
// to a URL containing it; one never attempted has none.
func TestControlDeliveriesByURL(t *testing.T) {
	h := newHarness(t, nil)
	h.webhookToSink(t, "one", "")
	first := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	h.webhookToSink(t, "two", "")
	second := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	h.emit(t, `{"type": "visitor.identified", "delay": "1h"}`)
	for q, want := range map[string][]string{"url=/_mock/sink/one": {first}, "url=sink/t": {second}, "url=/_mock/sink/": {second, first}, "url=nowhere": nil} {
		var got []string
		for _, d := range h.must(t, 200, "GET", "/_mock/deliveries?"+q, "")["deliveries"].([]any) {
			got = append(got, d.(map[string]any)["id"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
}
