package sender

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the manual clock's start in every test.
var t0 = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

const testSecret = "whsec_your_webhook_secret"

// fakeTargets is the store's side of the contract.
type fakeTargets struct {
	mu sync.Mutex
	m  map[[2]string]bullseye.Target
}

func (f *fakeTargets) Target(partnerID, kind string) (bullseye.Target, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.m[[2]string{partnerID, kind}]
	return t, ok
}

func (f *fakeTargets) set(partnerID, kind string, t bullseye.Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[[2]string]bullseye.Target{}
	}
	f.m[[2]string{partnerID, kind}] = t
}

type harness struct {
	s   *Sender
	clk *clock.Manual
	tg  *fakeTargets
	ctx context.Context // bounds every wait, so a bug fails the test instead of hanging it
}

func newHarness(tb testing.TB, mod func(*Config)) *harness {
	tb.Helper()
	h := &harness{clk: clock.NewManual(t0), tg: &fakeTargets{}}
	cfg := Config{
		Clock: h.clk, Targets: h.tg, Workers: 8, PerEndpoint: 8,
		IDs: rand.NewChaCha8([32]byte{42}), UserAgent: "bullseye-mock/test",
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.s = s
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	h.ctx = ctx
	s.Start()
	tb.Cleanup(func() {
		defer cancel()
		if _, err := s.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	})
	return h
}

// idle waits until everything due at the current mock time has happened.
func (h *harness) idle(tb testing.TB) {
	tb.Helper()
	if err := h.s.Idle(h.ctx); err != nil {
		list, _ := h.s.Deliveries(DeliveryQuery{})
		tb.Fatalf("idle: %v; stats %+v; deliveries %+v", err, h.s.Stats(), list)
	}
}

// drive moves the manual clock to each next due attempt until none is left.
func (h *harness) drive(tb testing.TB) {
	tb.Helper()
	for {
		h.idle(tb)
		next, ok := h.s.NextDue()
		if !ok {
			return
		}
		h.clk.Set(next)
	}
}

func (h *harness) send(tb testing.TB, d Delivery) string {
	tb.Helper()
	if d.PartnerID == "" {
		d.PartnerID = "p1"
	}
	if d.Kind == "" {
		d.Kind = bullseye.KindIdentification
	}
	if d.Body == nil && d.Payload == nil {
		d.Body = []byte(`{"event_type":"visitor.identified","session_id":"s-1"}`)
	}
	if d.EventType == "" {
		d.EventType = "visitor.identified"
	}
	id, err := h.s.Send(d)
	if err != nil {
		tb.Fatalf("send: %v", err)
	}
	return id
}

// wait waits for a delivery to satisfy pred.
func (h *harness) wait(tb testing.TB, id string, pred func(DeliveryInfo) bool) DeliveryInfo {
	tb.Helper()
	info, err := h.s.Wait(h.ctx, id, pred)
	if err != nil {
		tb.Fatalf("wait %s: %v (last state %s, %d attempts)", id, err, info.State, len(info.Attempts))
	}
	return info
}

// logs reads a partner's whole log, oldest first.
func (h *harness) logs(partner string) []Attempt {
	got, _ := h.s.Logs(LogQuery{PartnerID: partner, PageSize: 1000})
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	return got
}

type received struct {
	n      int
	path   string
	header http.Header
	body   []byte
	at     time.Time // mock time the receiver saw it
}

// receiver is a programmable webhook endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	done chan struct{} // closed at cleanup: hanging handlers must return then
	// arrived gets each request's number as it reaches the handler, so a
	// test can move the clock only once a request is really at the receiver.
	arrived chan int
	mu      sync.Mutex
	reqs    []received
}

// newReceiver serves handle for every request; n counts from 1.
func newReceiver(tb testing.TB, clk clock.Clock, handle func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	tb.Helper()
	rc := &receiver{done: make(chan struct{}), arrived: make(chan int, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.reqs) + 1
		rc.reqs = append(rc.reqs, received{n: n, path: r.URL.Path, header: r.Header.Clone(), body: body, at: clk.Now()})
		rc.mu.Unlock()
		rc.arrived <- n
		handle(n, w, r)
	}))
	tb.Cleanup(func() {
		close(rc.done)
		rc.Close()
	})
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// hang waits until the client gives up (or the test ends).
func (rc *receiver) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-rc.done:
	}
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// pythonVerify is the seed docs' Python verification, written against
// crypto/hmac directly so that it is an oracle independent of the signer.
func pythonVerify(payload []byte, signature, secret string) bool {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(payload)
	return hmac.Equal([]byte(hex.EncodeToString(h.Sum(nil))), []byte(signature))
}
