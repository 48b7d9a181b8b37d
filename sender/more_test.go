package sender

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
)

func TestHTTPSReceivers(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := New(Config{Targets: &fakeTargets{}, CACertFile: notPEM}); err == nil {
		t.Error("a CA file without certificates was accepted")
	}

	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"system roots only":    {nil, bullseye.StatusFailed},
		"extra CA file":        {func(c *Config) { c.CACertFile = caFile }, bullseye.StatusDelivered},
		"insecure skip verify": {func(c *Config) { c.InsecureSkipVerify = true }, bullseye.StatusDelivered},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Policy = bullseye.Policy{Attempts: 1}
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: srv.URL, Secret: testSecret, Enabled: true})
			info := h.wait(t, h.send(t, Delivery{}), IsFinal)
			a := info.Attempts[0]
			if a.Status != tc.want {
				t.Errorf("status %s (%s), want %s", a.Status, a.Error, tc.want)
			}
			if tc.want == bullseye.StatusFailed && !strings.Contains(a.Error, "certificate") {
				t.Errorf("error %q does not name the certificate problem", a.Error)
			}
		})
	}
}

// TestScaledClock runs the schedule on a clock 1000 times faster than real
// time: a 5-minute timeout takes 300 ms. Only outcomes and mock-time lower
// bounds are asserted, never real-time durations.
func TestScaledClock(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Clock = clock.Scaled(1000)
		c.Policy = bullseye.Policy{Attempts: 2, Delays: []time.Duration{time.Second}, Timeout: 5 * time.Minute}
	})
	var rc *receiver
	rc = newReceiver(t, h.clk, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			rc.hang(r)
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	info := h.wait(t, h.send(t, Delivery{}), IsFinal)
	if info.State != bullseye.StateDelivered || len(info.Attempts) != 2 {
		t.Fatalf("%s after %d attempts", info.State, len(info.Attempts))
	}
	first, second := info.Attempts[0], info.Attempts[1]
	if !strings.HasPrefix(first.Error, "timeout") || first.ResponseTimeMs < 300_000 {
		t.Errorf("first attempt: %q after %d ms", first.Error, first.ResponseTimeMs)
	}
	if gap := second.AttemptedAt.Sub(first.AttemptedAt); gap < 5*time.Minute+time.Second {
		t.Errorf("retry after %s of mock time, want ≥ 5m1s", gap)
	}
}

// okTransport answers 200 at once without a network: the sender's own
// machinery is all that is measured or tested with it.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// TestMemoryBounded: after many deliveries the sender holds no more than
// the log cap of entries and the delivery cap of finished deliveries.
func TestMemoryBounded(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Transport = okTransport{}
		c.LogCap, c.DeliveryCap = 100, 50
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: "http://receiver.invalid/hook", Secret: testSecret, Enabled: true})
	for range 10 {
		for range 200 {
			h.send(t, Delivery{})
		}
		h.idle(t)
	}
	st := h.s.Stats()
	if st.Delivered != 2000 || st.LogEntries != 100 || st.LogEvicted != 1900 || st.Retained != 50 {
		t.Errorf("stats %+v", st)
	}
	h.s.mu.Lock()
	indexed := h.s.byID.n
	h.s.mu.Unlock()
	if indexed != 50 {
		t.Errorf("index holds %d deliveries, want the 50 retained", indexed)
	}
}

// TestIndexShrinks: after a burst of pending deliveries drains, the index
// shrinks back, and so does the heap.
func TestIndexShrinks(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Transport = okTransport{}
		c.LogCap, c.DeliveryCap = 10, 10
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: "http://receiver.invalid/hook", Enabled: true})
	const burst = 8000
	body := []byte("{}")
	for range burst {
		if _, err := h.s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: body, At: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	h.clk.Set(t0.Add(time.Hour))
	if err := h.s.Settled(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.s.mu.Lock()
	n, slots, heapCap := h.s.byID.n, len(h.s.byID.slots), cap(h.s.heap)
	h.s.mu.Unlock()
	if n != 10 || slots > indexMinSlots || heapCap > 4096*4 {
		t.Errorf("after the burst: %d indexed in %d slots, heap cap %d", n, slots, heapCap)
	}
}

func TestDeliveryInfoForUnknownIDs(t *testing.T) {
	h := newHarness(t, nil)
	for _, id := range []string{"", "x", "00000000-0000-4000-8000-000000000000"} {
		if _, ok := h.s.Delivery(id); ok {
			t.Errorf("Delivery(%q) found", id)
		}
		if _, err := h.s.Redeliver(id); err == nil {
			t.Errorf("Redeliver(%q) accepted", id)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	id := h.send(t, Delivery{At: t0.Add(time.Hour)})
	if _, err := h.s.Wait(ctx, id, IsFinal); err == nil {
		t.Error("Wait ignored its context")
	}
	if err := h.s.Settled(ctx); err == nil {
		t.Error("Settled ignored its context")
	}
}

// TestSendCanonicalFault: a fault spelt as a flag would ("Wrong-Secret") is
// stored and applied as the canonical fault.
func TestSendCanonicalFault(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Secret: testSecret, Enabled: true})
	info := h.wait(t, h.send(t, Delivery{Fault: "Wrong-Secret"}), IsFinal)
	r := rc.got()[0]
	if info.Fault != bullseye.FaultWrongSecret || r.header.Get(bullseye.SignatureHeader) != bullseye.Sign(bullseye.WrongSecretPrefix+testSecret, r.body) {
		t.Errorf("fault %q, header %q", info.Fault, r.header.Get(bullseye.SignatureHeader))
	}
}

// WaitFinal waits for the deliveries it knows, skips ids it does not, and
// gives up with its context.
func TestWaitFinal(t *testing.T) {
	h := newHarness(t, nil)
	rc := newReceiver(t, h.clk, status(200))
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	now := h.send(t, Delivery{})
	later := h.send(t, Delivery{At: t0.Add(time.Hour)})
	if err := h.s.WaitFinal(h.ctx, []string{now, "no-such-delivery"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if err := h.s.WaitFinal(ctx, []string{now, later}); err == nil {
		t.Error("WaitFinal returned nil for a delivery due in an hour on a clock that stands still")
	}
	h.drive(t)
	if err := h.s.WaitFinal(h.ctx, []string{now, later}); err != nil {
		t.Fatal(err)
	}
}
