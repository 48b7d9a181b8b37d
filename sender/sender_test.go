package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/google/uuid"
)

func ptr(t time.Time) *time.Time { return &t }

// checkIDs verifies the generated ids and blanks them so that the rest of
// the entries can be compared exactly.
func checkIDs(t *testing.T, got []Attempt) {
	t.Helper()
	seen := map[string]bool{}
	for i := range got {
		u, err := uuid.Parse(got[i].ID)
		if err != nil || u.Version() != 4 || seen[got[i].ID] {
			t.Errorf("entry %d: id %q is not a fresh UUID v4", i, got[i].ID)
		}
		seen[got[i].ID] = true
		got[i].ID = ""
	}
}

func assertLog(t *testing.T, got, want []Attempt) {
	t.Helper()
	checkIDs(t, got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("log mismatch\n got: %s\nwant: %s", dump(got), dump(want))
	}
}

func dump(as []Attempt) string {
	var b strings.Builder
	for _, a := range as {
		next := "-"
		if a.NextAttemptAt != nil {
			next = a.NextAttemptAt.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "\n  #%d %s %d at=%s rt=%d next=%s url=%s err=%q", a.Attempt, a.Status, a.StatusCode,
			a.AttemptedAt.Format(time.RFC3339), a.ResponseTimeMs, next, a.URL, a.Error)
	}
	return b.String()
}

// entry builds an expected log entry of delivery id for partner p1.
func entry(id string, n int, status string, code int, at time.Duration, url, errText string, next *time.Time) Attempt {
	return Attempt{
		Type: bullseye.KindIdentification, OrganizationID: "org-1", Status: status, StatusCode: code,
		AttemptedAt: t0.Add(at), DeliveryID: id, Attempt: n, EventType: "visitor.identified",
		URL: url, Error: errText, NextAttemptAt: next, PartnerID: "p1",
	}
}

// TestAlwaysFailing pins the vendor's schedule: four attempts at +0, +1m,
// +6m, +36m of mock time, the same bytes and signature each time (even
// after the secret changed), and the log entry by entry.
func TestAlwaysFailing(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(500))
	url := rc.URL + "/hook"
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: url, Secret: testSecret, Enabled: true})
	body := []byte(`{"event_type":"visitor.identified","session_id":"s-1"}`)
	id := h.send(t, Delivery{OrganizationID: "org-1", Body: body})
	h.idle(t)
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: url, Secret: "whsec_rotated", Enabled: true})
	h.drive(t)

	got := rc.got()
	if len(got) != 4 {
		t.Fatalf("receiver got %d requests, want 4", len(got))
	}
	offsets := []time.Duration{0, time.Minute, 6 * time.Minute, 36 * time.Minute}
	for i, r := range got {
		if r.at != t0.Add(offsets[i]) {
			t.Errorf("attempt %d at %s, want +%s", i+1, r.at.Sub(t0), offsets[i])
		}
		if !bytes.Equal(r.body, body) || !pythonVerify(r.body, r.header.Get(bullseye.SignatureHeader), testSecret) {
			t.Errorf("attempt %d: body or signature differ from the first attempt's", i+1)
		}
		wantHeader := http.Header{
			"Content-Type": {"application/json"}, "User-Agent": {"bullseye-mock/test"},
			"X-Bullseye-Signature": {bullseye.Sign(testSecret, body)}, "Content-Length": {fmt.Sprint(len(body))},
			"X-Bullseye-Mock-Delivery": {id}, "X-Bullseye-Mock-Attempt": {fmt.Sprint(i + 1)},
		}
		if !reflect.DeepEqual(r.header, wantHeader) {
			t.Errorf("attempt %d headers %v, want %v", i+1, r.header, wantHeader)
		}
	}
	const e500 = "HTTP 500 is not 2xx"
	assertLog(t, h.logs("p1"), []Attempt{
		entry(id, 1, bullseye.StatusRetrying, 500, 0, url, e500, ptr(t0.Add(time.Minute))),
		entry(id, 2, bullseye.StatusRetrying, 500, time.Minute, url, e500, ptr(t0.Add(6*time.Minute))),
		entry(id, 3, bullseye.StatusRetrying, 500, 6*time.Minute, url, e500, ptr(t0.Add(36*time.Minute))),
		entry(id, 4, bullseye.StatusFailed, 500, 36*time.Minute, url, e500, nil),
	})
	info, _ := h.s.Delivery(id)
	if info.State != bullseye.StateFailed || len(info.Attempts) != 4 || info.NextAttemptAt != nil {
		t.Errorf("delivery info: %+v", info)
	}
	st := h.s.Stats()
	if st.Attempts != 4 || st.FailedAttempts != 4 || st.Failed != 1 || st.Pending != 0 || st.Sent != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFailTwiceThenOK(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.drive(t)
	const e503 = "HTTP 503 is not 2xx"
	assertLog(t, h.logs("p1"), []Attempt{
		entry(id, 1, bullseye.StatusRetrying, 503, 0, rc.URL, e503, ptr(t0.Add(time.Minute))),
		entry(id, 2, bullseye.StatusRetrying, 503, time.Minute, rc.URL, e503, ptr(t0.Add(6*time.Minute))),
		entry(id, 3, bullseye.StatusDelivered, 200, 6*time.Minute, rc.URL, "", nil),
	})
	info, _ := h.s.Delivery(id)
	if info.State != bullseye.StateDelivered || info.Attempts[2].ResponseExcerpt != `{"ok":true}` {
		t.Errorf("info %+v", info)
	}
	if got := info.Attempts[0].RequestHeaders.Get(bullseye.SignatureHeader); got != bullseye.Sign(testSecret, info.Body) {
		t.Errorf("info shows signature %q", got)
	}
}

// TestTimeout: a receiver that never answers fails after 30 s of mock time,
// and only once the clock is moved there; the retry counts from the timeout.
func TestTimeout(t *testing.T) {
	h := newHarness(t, nil)
	var rc *receiver
	rc = newReceiver(t, h.clk, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			rc.hang(r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	<-rc.arrived
	h.clk.Advance(29 * time.Second)
	if info, _ := h.s.Delivery(id); info.State != bullseye.StateInFlight {
		t.Fatalf("timed out before 30 s of mock time: %s", info.State)
	}
	h.clk.Advance(time.Second)
	h.wait(t, id, HasAttempts(1))
	h.drive(t)
	timeout := "timeout: no complete response within 30s (mock time)"
	assertLog(t, h.logs("p1"), []Attempt{
		withRT(entry(id, 1, bullseye.StatusRetrying, 0, 0, rc.URL, timeout, ptr(t0.Add(90*time.Second))), 30000),
		entry(id, 2, bullseye.StatusDelivered, 204, 90*time.Second, rc.URL, "", nil),
	})
}

// TestTimeoutClockJump: moving a manual clock far past the deadline in one
// step still fails the attempt at the deadline, and the retry counts from it.
func TestTimeoutClockJump(t *testing.T) {
	h := newHarness(t, nil)
	var rc *receiver
	rc = newReceiver(t, h.clk, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			rc.hang(r)
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	<-rc.arrived
	h.clk.Advance(time.Hour) // the retry (due at +1m30s) is already due
	h.wait(t, id, IsFinal)
	timeout := "timeout: no complete response within 30s (mock time)"
	assertLog(t, h.logs("p1"), []Attempt{
		withRT(entry(id, 1, bullseye.StatusRetrying, 0, 0, rc.URL, timeout, ptr(t0.Add(90*time.Second))), 30000),
		entry(id, 2, bullseye.StatusDelivered, 200, time.Hour, rc.URL, "", nil),
	})
}

func withRT(a Attempt, ms int64) Attempt { a.ResponseTimeMs = ms; return a }

// TestSlowBody: headers in time but the body not complete within the
// timeout is a timeout too.
func TestSlowBody(t *testing.T) {
	headers := make(chan struct{}, 1)
	h := newHarness(t, func(c *Config) {
		c.Policy = bullseye.Policy{Attempts: 1}
		c.Transport = signalTransport{http.DefaultTransport, headers}
	})
	var rc *receiver
	rc = newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		rc.hang(r)
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	id := h.send(t, Delivery{})
	<-headers // the status line is in; the body is not
	h.clk.Advance(30 * time.Second)
	info := h.wait(t, id, IsFinal)
	if a := info.Attempts[0]; a.Status != bullseye.StatusFailed || !strings.HasPrefix(a.Error, "timeout") || a.StatusCode != 200 {
		t.Errorf("attempt %+v", a.Attempt)
	}
}

// signalTransport tells when a round trip has returned its headers.
type signalTransport struct {
	http.RoundTripper
	headers chan<- struct{}
}

func (s signalTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.RoundTripper.RoundTrip(r)
	s.headers <- struct{}{}
	return resp, err
}

func TestConnectionReset(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n > 1 {
			w.WriteHeader(200)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
		conn.Close()
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.drive(t)
	got := h.logs("p1")
	if len(got) != 2 || got[0].Status != bullseye.StatusRetrying || got[0].StatusCode != 0 || got[0].Error == "" ||
		got[1].Status != bullseye.StatusDelivered || got[1].AttemptedAt != t0.Add(time.Minute) || got[0].DeliveryID != id {
		t.Errorf("log %s", dump(got))
	}
	if strings.Contains(got[0].Error, "Post ") {
		t.Errorf("error text keeps the URL wrapper: %q", got[0].Error)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Policy = bullseye.Policy{Attempts: 2} })
	rc := newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			w.WriteHeader(200)
			return
		}
		http.Redirect(w, r, "/moved", http.StatusFound)
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL + "/hook", Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.drive(t)
	for _, r := range rc.got() {
		if r.path != "/hook" {
			t.Errorf("redirect followed to %s", r.path)
		}
	}
	e302 := "HTTP 302 is not 2xx"
	assertLog(t, h.logs("p1"), []Attempt{
		entry(id, 1, bullseye.StatusRetrying, 302, 0, rc.URL+"/hook", e302, ptr(t0.Add(time.Minute))),
		entry(id, 2, bullseye.StatusFailed, 302, time.Minute, rc.URL+"/hook", e302, nil),
	})
}

func TestNoContentIsSuccessAndNoSecretNoHeader(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(http.StatusNoContent))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.drive(t)
	assertLog(t, h.logs("p1"), []Attempt{entry(id, 1, bullseye.StatusDelivered, 204, 0, rc.URL, "", nil)})
	if _, present := rc.got()[0].header[bullseye.SignatureHeader]; present {
		t.Error("signature header sent without a secret")
	}
}

// TestDisableMidRetry: disabling the webhook stops its pending retries.
func TestDisableMidRetry(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(500))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.idle(t)
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: false})
	h.drive(t)
	if n := len(rc.got()); n != 1 {
		t.Errorf("%d requests after disabling, want 1", n)
	}
	assertLog(t, h.logs("p1"), []Attempt{
		entry(id, 1, bullseye.StatusRetrying, 500, 0, rc.URL, "HTTP 500 is not 2xx", ptr(t0.Add(time.Minute))),
		entry(id, 2, bullseye.StatusCanceled, 0, time.Minute, rc.URL, "canceled: webhook disabled", nil),
	})
	if _, ok := h.s.NextDue(); ok {
		t.Error("retries still scheduled")
	}
	if st := h.s.Stats(); st.Canceled != 1 || st.Attempts != 1 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}

	// A webhook without URL, or none at all, cancels the same way.
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{Secret: testSecret, Enabled: true})
	id2 := h.send(t, Delivery{OrganizationID: "org-1"})
	id3 := h.send(t, Delivery{OrganizationID: "org-1", PartnerID: "nobody"})
	for id, want := range map[string]string{id2: "canceled: webhook has no URL", id3: "canceled: no webhook configured"} {
		info := h.wait(t, id, IsFinal)
		if info.State != bullseye.StateCanceled || info.Attempts[0].Error != want || info.Attempts[0].RequestHeaders != nil {
			t.Errorf("%s: %+v", want, info.Attempts)
		}
	}
}

// TestURLChange: a URL change applies to the next attempt, and the log shows
// which URL each attempt used.
func TestURLChange(t *testing.T) {
	h := newHarness(t, nil)
	a := newReceiver(t, h.clk, status(500))
	b := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: a.URL + "/a", Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{OrganizationID: "org-1"})
	h.idle(t)
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: b.URL + "/b", Secret: "whsec_new", Enabled: true})
	h.drive(t)
	assertLog(t, h.logs("p1"), []Attempt{
		entry(id, 1, bullseye.StatusRetrying, 500, 0, a.URL+"/a", "HTTP 500 is not 2xx", ptr(t0.Add(time.Minute))),
		entry(id, 2, bullseye.StatusDelivered, 200, time.Minute, b.URL+"/b", "", nil),
	})
	ra, rb := a.got(), b.got()
	if len(ra) != 1 || len(rb) != 1 || ra[0].header.Get(bullseye.SignatureHeader) != rb[0].header.Get(bullseye.SignatureHeader) {
		t.Errorf("signature changed with the URL/secret change")
	}
}

// TestFaultsOnTheWire checks each fault by what the receiver gets.
func TestFaultsOnTheWire(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	body := []byte(`{"event_type":"visitor.identified","session_id":"s-1"}`)
	ids := map[string]bullseye.Fault{}
	for _, f := range append(bullseye.Faults(), bullseye.FaultNone) {
		ids[h.send(t, Delivery{Body: body, Fault: f})] = f
	}
	h.drive(t)
	for _, r := range rc.got() {
		f := ids[r.header.Get(bullseye.DeliveryHeader)]
		sig, present := r.header[bullseye.SignatureHeader]
		verified := present && pythonVerify(r.body, sig[0], testSecret)
		if verified != (f == bullseye.FaultNone) {
			t.Errorf("fault %q: receiver verification = %v", f, verified)
		}
		want, wantOK, wantBody := bullseye.ApplyFault(f, testSecret, body)
		if present != wantOK || (present && sig[0] != want) || !bytes.Equal(r.body, wantBody) {
			t.Errorf("fault %q: receiver saw header %v %q and body %s", f, present, sig, r.body)
		}
	}
	if len(rc.got()) != len(ids) {
		t.Errorf("%d requests for %d deliveries", len(rc.got()), len(ids))
	}
}

// TestConcurrentDuplicates: the same delivery sent twice for the same
// instant reaches the receiver at the same time, not one after the other.
func TestConcurrentDuplicates(t *testing.T) {
	h := newHarness(t, nil)
	both := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	arrived := 0
	var rc *receiver
	rc = newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		if arrived == 2 {
			once.Do(func() { close(both) })
		}
		mu.Unlock()
		select {
		case <-both: // the other copy is in flight too
			w.WriteHeader(200)
		case <-rc.done:
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	at := t0.Add(time.Minute)
	first := h.send(t, Delivery{At: at})
	second := h.send(t, Delivery{At: at, DuplicateOf: first})
	h.clk.Set(at)
	for _, id := range []string{first, second} {
		if info := h.wait(t, id, IsFinal); info.State != bullseye.StateDelivered || info.Attempts[0].AttemptedAt != at {
			t.Errorf("%s: %+v", id, info)
		}
	}
	if info, _ := h.s.Delivery(second); info.DuplicateOf != first {
		t.Errorf("duplicateOf = %q", info.DuplicateOf)
	}
	r := rc.got()
	if len(r) != 2 || !bytes.Equal(r[0].body, r[1].body) || r[0].header.Get(bullseye.SignatureHeader) != r[1].header.Get(bullseye.SignatureHeader) {
		t.Errorf("duplicates differ")
	}
}

func TestLogCapEviction(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LogCap = 3 })
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	var ids []string
	for range 5 {
		ids = append(ids, h.send(t, Delivery{}))
		h.idle(t) // one at a time, so the log order is known
	}
	got, total := h.s.Logs(LogQuery{PartnerID: "p1"})
	if total != 3 || len(got) != 3 || got[0].DeliveryID != ids[4] || got[2].DeliveryID != ids[2] {
		t.Errorf("log after eviction: total %d %s", total, dump(got))
	}
	st := h.s.Stats()
	if st.LogEvicted != 2 || st.LogEntries != 3 || st.Retained != 3 {
		t.Errorf("stats %+v", st)
	}
	if _, ok := h.s.Delivery(ids[0]); ok {
		t.Error("details of an evicted delivery kept")
	}
	if _, ok := h.s.Delivery(ids[4]); !ok {
		t.Error("details of a recent delivery lost")
	}
	if _, err := h.s.Redeliver(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("redeliver evicted: %v", err)
	}
}

func TestTenantIsolationAndFilters(t *testing.T) {
	h := newHarness(t, nil)
	ok := newReceiver(t, h.clk, status(200))
	bad := newReceiver(t, h.clk, status(500))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: ok.URL, Enabled: true})
	h.tg.set("p1", bullseye.KindBilling, bullseye.Target{URL: bad.URL, Enabled: true})
	h.tg.set("p2", bullseye.KindIdentification, bullseye.Target{URL: ok.URL, Enabled: true})
	for i := range 3 {
		h.send(t, Delivery{PartnerID: "p1", OrganizationID: fmt.Sprint("org-", i%2)})
		h.send(t, Delivery{PartnerID: "p1", Kind: bullseye.KindBilling, OrganizationID: "org-0", EventType: "credits.low"})
		h.send(t, Delivery{PartnerID: "p2", OrganizationID: "org-0"})
	}
	h.idle(t)
	for _, tc := range []struct {
		q    LogQuery
		want int
	}{
		{LogQuery{PartnerID: "p1"}, 6},
		{LogQuery{PartnerID: "p2"}, 3},
		{LogQuery{PartnerID: "p3"}, 0},
		{LogQuery{}, 0}, // no partner: nothing, never everyone's
		{LogQuery{AllPartners: true}, 9},
		{LogQuery{PartnerID: "p1", Type: bullseye.KindBilling}, 3},
		{LogQuery{PartnerID: "p1", Status: bullseye.StatusRetrying}, 3},
		{LogQuery{PartnerID: "p1", Status: bullseye.StatusDelivered, OrganizationID: "org-0"}, 2},
		{LogQuery{PartnerID: "p2", OrganizationID: "org-1"}, 0},
		{LogQuery{PartnerID: "p1", Status: "bogus"}, 0},
		{LogQuery{PartnerID: "p1", Type: "bogus"}, 0},
	} {
		got, total := h.s.Logs(tc.q)
		if total != tc.want || len(got) != min(tc.want, 20) {
			t.Errorf("%+v: %d entries, total %d; want %d", tc.q, len(got), total, tc.want)
		}
		for _, a := range got {
			if !tc.q.AllPartners && a.PartnerID != tc.q.PartnerID {
				t.Errorf("%+v: entry of partner %s", tc.q, a.PartnerID)
			}
		}
	}
	all, _ := h.s.Logs(LogQuery{PartnerID: "p1", PageSize: 100})
	for page := 1; page <= 3; page++ {
		got, total := h.s.Logs(LogQuery{PartnerID: "p1", Page: page, PageSize: 4})
		want := all[min((page-1)*4, 6):min(page*4, 6)]
		if total != 6 || !reflect.DeepEqual(got, want) {
			t.Errorf("page %d: %d entries", page, len(got))
		}
	}
	if got, total := h.s.Logs(LogQuery{PartnerID: "p1", Page: 1 << 62, PageSize: 1 << 62}); len(got) != 0 || total != 6 {
		t.Errorf("huge page: %d, %d", len(got), total)
	}
}

// TestConcurrentSend races many senders (run with -race).
func TestConcurrentSend(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	const goroutines, each = 8, 25
	start := make(chan struct{})
	var wg sync.WaitGroup
	ids := make([][]string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for i := range each {
				id, err := h.s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: fmt.Appendf(nil, `{"g":%d,"i":%d}`, g, i)})
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
				h.s.Logs(LogQuery{PartnerID: "p1"})
				h.s.Stats()
			}
		})
	}
	close(start)
	wg.Wait()
	if err := h.s.Settled(h.ctx); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(ids...)
	slices.Sort(all)
	if len(slices.Compact(all)) != goroutines*each {
		t.Error("duplicate ids")
	}
	if st := h.s.Stats(); st.Delivered != goroutines*each || st.Attempts != goroutines*each {
		t.Errorf("stats %+v", st)
	}
	if n := len(rc.got()); n != goroutines*each {
		t.Errorf("receiver got %d", n)
	}
}

func TestSendErrors(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		d    Delivery
		want error
	}{
		{Delivery{Kind: "sms", Body: []byte("{}")}, ErrUnknownKind},
		{Delivery{Kind: bullseye.KindBilling}, ErrEmptyBody},
		{Delivery{Kind: bullseye.KindBilling, Body: []byte("{}"), Fault: "nope"}, nil},
		{Delivery{Kind: bullseye.KindBilling, Body: []byte("{}"), Policy: &bullseye.Policy{Attempts: -1}}, nil},
	} {
		_, err := h.s.Send(tc.d)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Send(%+v) = %v, want %v", tc.d, err, tc.want)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without targets accepted")
	}
	if _, err := New(Config{Targets: h.tg, Policy: bullseye.Policy{Delays: []time.Duration{-1}}}); err == nil {
		t.Error("New with a bad policy accepted")
	}
	if _, err := New(Config{Targets: h.tg, CACertFile: "/nonexistent.pem"}); err == nil {
		t.Error("New with a missing CA file accepted")
	}
}

func TestPerDeliveryPolicy(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(500))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	p := &bullseye.Policy{Attempts: 3, Delays: []time.Duration{10 * time.Second}}
	a := h.send(t, Delivery{Policy: p})
	b := h.send(t, Delivery{Policy: p})
	h.drive(t)
	for _, id := range []string{a, b} {
		info, _ := h.s.Delivery(id)
		var at []time.Duration
		for _, x := range info.Attempts {
			at = append(at, x.AttemptedAt.Sub(t0))
		}
		if info.State != bullseye.StateFailed || !slices.Equal(at, []time.Duration{0, 10 * time.Second, 20 * time.Second}) {
			t.Errorf("%s: %s at %v", id, info.State, at)
		}
		if info.Policy.Timeout != bullseye.DefaultTimeout || info.Policy.Attempts != 3 {
			t.Errorf("policy %+v", info.Policy)
		}
	}
}

func TestWaitRedeliverReset(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	id := h.send(t, Delivery{At: t0.Add(time.Hour), Fault: bullseye.FaultUppercase})
	info, _ := h.s.Delivery(id)
	if info.State != bullseye.StateScheduled || *info.NextAttemptAt != t0.Add(time.Hour) {
		t.Fatalf("before: %+v", info)
	}
	if next, ok := h.s.NextDue(); !ok || next != t0.Add(time.Hour) {
		t.Errorf("NextDue = %v %v", next, ok)
	}
	// A waiter parked before the clock moves is woken by the delivery.
	done := make(chan DeliveryInfo)
	go func() {
		info, _ := h.s.Wait(h.ctx, id, IsFinal)
		done <- info
	}()
	h.clk.Set(t0.Add(time.Hour))
	if info := <-done; info.State != bullseye.StateDelivered {
		t.Fatalf("waiter got %s", info.State)
	}

	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: "whsec_new", Enabled: true})
	again, err := h.s.Redeliver(id)
	if err != nil {
		t.Fatal(err)
	}
	info = h.wait(t, again, IsFinal)
	if info.DuplicateOf != id || info.Fault != bullseye.FaultUppercase || info.State != bullseye.StateDelivered {
		t.Errorf("redelivery %+v", info)
	}
	r := rc.got()
	if !bytes.Equal(r[0].body, r[1].body) || r[1].header.Get(bullseye.SignatureHeader) != strings.ToUpper(bullseye.Sign("whsec_new", r[1].body)) {
		t.Error("redelivery is not the same payload signed with the current secret")
	}

	pending := h.send(t, Delivery{At: t0.Add(48 * time.Hour)})
	h.s.Reset()
	if _, ok := h.s.Delivery(pending); ok {
		t.Error("Reset kept a pending delivery")
	}
	if got, total := h.s.Logs(LogQuery{PartnerID: "p1"}); total != 0 || len(got) != 0 {
		t.Error("Reset kept the log")
	}
	if _, ok := h.s.NextDue(); ok {
		t.Error("Reset kept the schedule")
	}
	st := h.s.Stats()
	if st.Latency.Count != 0 || st.Latency.Sum != 0 {
		t.Errorf("latency after reset %+v", st.Latency)
	}
	if st.Latency = (Latency{}); !reflect.DeepEqual(st, Stats{}) {
		t.Errorf("stats after reset %+v", st)
	}
	if _, err := h.s.Wait(h.ctx, "not-an-id", IsFinal); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait on unknown id: %v", err)
	}
	// Still usable after Reset.
	if info := h.wait(t, h.send(t, Delivery{}), IsFinal); info.State != bullseye.StateDelivered {
		t.Errorf("after reset: %s", info.State)
	}
	list, total := h.s.Deliveries(DeliveryQuery{PartnerID: "p1"})
	if total != 1 || len(list) != 1 {
		t.Errorf("Deliveries after reset: %d", total)
	}
}

func TestDeliveriesListing(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(500))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	var ids []string
	for range 5 {
		ids = append(ids, h.send(t, Delivery{}))
	}
	future := h.send(t, Delivery{PartnerID: "p2", At: t0.Add(time.Hour)})
	h.idle(t)
	got, total := h.s.Deliveries(DeliveryQuery{PartnerID: "p1", State: bullseye.StateRetrying, PageSize: 2, Page: 2})
	if total != 5 || len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Errorf("page 2: total %d, %v", total, got)
	}
	got, total = h.s.Deliveries(DeliveryQuery{State: bullseye.StateScheduled})
	if total != 1 || got[0].ID != future {
		t.Errorf("scheduled: %d", total)
	}
	if st := h.s.Stats(); st.Retrying != 5 || st.Scheduled != 1 || st.Pending != 6 {
		t.Errorf("stats %+v", st)
	}
}

// TestPerEndpointBound: with one slot per endpoint, a hanging receiver
// holds one worker; the next delivery to it waits, others go on.
func TestPerEndpointBound(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Workers, c.PerEndpoint = 4, 1 })
	release := make(chan struct{})
	var slow *receiver
	slow = newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-slow.done:
		}
	})
	fast := newReceiver(t, h.clk, status(200))
	h.tg.set("slow", bullseye.KindIdentification, bullseye.Target{URL: slow.URL, Enabled: true})
	h.tg.set("fast", bullseye.KindIdentification, bullseye.Target{URL: fast.URL, Enabled: true})
	s1 := h.send(t, Delivery{PartnerID: "slow"})
	h.wait(t, s1, InState(bullseye.StateInFlight))
	s2 := h.send(t, Delivery{PartnerID: "slow"})
	f := h.send(t, Delivery{PartnerID: "fast"})
	h.wait(t, f, IsFinal)
	if info, _ := h.s.Delivery(s2); info.State != bullseye.StateReady {
		t.Errorf("second delivery to a busy endpoint is %s, want %s", info.State, bullseye.StateReady)
	}
	if st := h.s.Stats(); st.InFlight != 1 || st.Ready != 1 {
		t.Errorf("stats %+v", st)
	}
	close(release)
	h.wait(t, s2, IsFinal)
	if n := len(slow.got()); n != 2 {
		t.Errorf("slow receiver got %d", n)
	}
}

// TestShutdown: in-flight attempts may finish; what is left is reported.
func TestShutdown(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	var rc *receiver
	rc = newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-rc.done:
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	inflight := h.send(t, Delivery{})
	h.send(t, Delivery{At: t0.Add(time.Hour)})
	h.wait(t, inflight, InState(bullseye.StateInFlight))

	result := make(chan int)
	go func() {
		n, err := h.s.Shutdown(h.ctx)
		if err != nil {
			t.Error(err)
		}
		result <- n
	}()
	// Intake closes at once, while the attempt in flight goes on. (The
	// predicate runs under the sender's lock, so it may read its fields.)
	h.s.Wait(h.ctx, inflight, func(DeliveryInfo) bool { return h.s.closed })
	if _, err := h.s.Send(Delivery{Kind: bullseye.KindIdentification, Body: []byte("{}")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send during shutdown: %v", err)
	}
	if info, _ := h.s.Delivery(inflight); info.State != bullseye.StateInFlight {
		t.Errorf("in-flight attempt is %s during shutdown", info.State)
	}
	close(release)
	if n := <-result; n != 1 {
		t.Errorf("pending after shutdown = %d, want 1 (the one due in an hour)", n)
	}
	if info, _ := h.s.Delivery(inflight); info.State != bullseye.StateDelivered {
		t.Errorf("in-flight attempt did not finish: %s", info.State)
	}
}

// TestShutdownDeadline: when ctx ends first, in-flight attempts are aborted
// and stay pending.
func TestShutdownDeadline(t *testing.T) {
	h := newHarness(t, nil)
	var rc *receiver
	rc = newReceiver(t, h.clk, func(_ int, w http.ResponseWriter, r *http.Request) { rc.hang(r) })
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	id := h.send(t, Delivery{})
	h.wait(t, id, InState(bullseye.StateInFlight))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := h.s.Shutdown(ctx)
	if n != 1 || !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %d, %v", n, err)
	}
	info, _ := h.s.Delivery(id)
	if info.State != bullseye.StateReady || len(info.Attempts) != 0 {
		t.Errorf("aborted attempt: %s, %d logged", info.State, len(info.Attempts))
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	s, err := New(Config{Targets: &fakeTargets{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(Delivery{Kind: bullseye.KindBilling, Body: []byte("{}"), At: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Shutdown(context.Background()); n != 1 || err != nil {
		t.Errorf("Shutdown = %d, %v", n, err)
	}
	s.Start() // no-op after shutdown
	if n, err := s.Shutdown(context.Background()); n != 1 || err != nil {
		t.Errorf("second Shutdown = %d, %v", n, err)
	}
}
