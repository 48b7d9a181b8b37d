package sender

import (
	"bytes"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// countingPayload is a Payload that counts its builds.
type countingPayload struct {
	body   []byte
	builds atomic.Int32
}

func (p *countingPayload) Build() []byte {
	p.builds.Add(1)
	return bytes.Clone(p.body)
}
func (p *countingPayload) Size() int64 { return 1000 }

// TestPayloadBuiltAtEachAttempt: a delivery given a Payload holds no bytes
// while it waits. Each attempt builds it, outside the lock; every attempt
// carries the same bytes and signature; a replay and a redelivery share the
// recipe; and the pending-bytes count takes the payload's Size.
func TestPayloadBuiltAtEachAttempt(t *testing.T) {
	h := newHarness(t, nil)
	rx := newReceiver(t, h.clk, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rx.URL, Secret: testSecret, Enabled: true})
	p := &countingPayload{body: []byte(`{"event_type":"visitor.identified","session_id":"s-built"}`)}

	id := h.send(t, Delivery{Payload: p, At: t0.Add(bullseye.DefaultPolicy().Delays[0]), ReplayAfter: bullseye.DefaultPolicy().Delays[0]})
	if n := p.builds.Load(); n != 0 {
		t.Fatalf("built %d times before any attempt, want 0", n)
	}
	if st := h.s.Stats(); st.PendingBytes != 1000 {
		t.Errorf("pending bytes %d, want the payload's Size, 1000", st.PendingBytes)
	}
	h.drive(t)

	got := rx.got()
	if len(got) != 3 { // a 503, the retry, the replay
		t.Fatalf("%d requests, want 3", len(got))
	}
	sig := got[0].header.Get(bullseye.SignatureHeader)
	for i, r := range got {
		if !bytes.Equal(r.body, p.body) {
			t.Errorf("request %d sent %s", i+1, r.body)
		}
		if s := r.header.Get(bullseye.SignatureHeader); s != sig || s != bullseye.Sign(testSecret, p.body) {
			t.Errorf("request %d signed %s, want %s", i+1, s, sig)
		}
	}
	if n := p.builds.Load(); n != 3 {
		t.Errorf("built %d times for 3 attempts, want 3", n)
	}
	if st := h.s.Stats(); st.PendingBytes != 0 {
		t.Errorf("pending bytes %d once all are final, want 0", st.PendingBytes)
	}

	info, ok := h.s.Delivery(id)
	if !ok || !bytes.Equal(info.Body, p.body) || info.SentBody != nil {
		t.Errorf("Delivery: body %q sent %q", info.Body, info.SentBody)
	}
	list, _ := h.s.Deliveries(DeliveryQuery{})
	for _, l := range list {
		if l.Body != nil {
			t.Errorf("a list built the payload of %s", l.ID)
		}
	}
	before := p.builds.Load()
	re, err := h.s.Redeliver(id)
	if err != nil {
		t.Fatal(err)
	}
	h.drive(t)
	if n := p.builds.Load(); n != before+1 {
		t.Errorf("the redelivery built %d times, want once, from the same payload", n-before)
	}
	if info, _ := h.s.Delivery(re); info.State != bullseye.StateDelivered || !bytes.Equal(info.Body, p.body) {
		t.Errorf("redelivery %s: %s %q", re, info.State, info.Body)
	}
}

// TestPayloadOtherBytes: the one fault that changes the bytes keeps the
// changed bytes, the same on every attempt, and reports them.
func TestPayloadOtherBytes(t *testing.T) {
	h := newHarness(t, nil)
	rx := newReceiver(t, h.clk, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rx.URL, Secret: testSecret, Enabled: true})
	p := &countingPayload{body: []byte(`{"event_type":"visitor.identified","session_id":"s-other"}`)}
	id := h.send(t, Delivery{Payload: p, Fault: bullseye.FaultOtherBytes})
	h.drive(t)
	got := rx.got()
	if len(got) != 2 || !bytes.Equal(got[0].body, got[1].body) || bytes.Equal(got[0].body, p.body) {
		t.Fatalf("other_bytes sent %d requests, want 2 with the same changed bytes", len(got))
	}
	if n := p.builds.Load(); n != 1 {
		t.Errorf("built %d times for 2 attempts, want once: the retry sends the changed bytes it holds", n)
	}
	if info, _ := h.s.Delivery(id); !bytes.Equal(info.SentBody, got[0].body) || !bytes.Equal(info.Body, p.body) {
		t.Errorf("SentBody %q, Body %q", info.SentBody, info.Body)
	}
}

// TestPayloadNotBuiltForState: what reads or waits on a delivery's state
// builds nothing (a manual clock's settle waits on every open delivery at
// each step), nor does a first attempt that is canceled; Delivery and Wait
// build the payload once each.
func TestPayloadNotBuiltForState(t *testing.T) {
	h := newHarness(t, nil)
	p := &countingPayload{body: []byte(`{"event_type":"visitor.identified","session_id":"s-state"}`)}
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{Secret: testSecret, Enabled: true}) // no URL
	id := h.send(t, Delivery{Payload: p})

	info, err := h.s.WaitInfo(h.ctx, id, IsFinal)
	if err != nil || info.State != bullseye.StateCanceled || info.Body != nil {
		t.Fatalf("WaitInfo: %v, state %s, body %q; want canceled and no body", err, info.State, info.Body)
	}
	if info, ok := h.s.Info(id); !ok || info.Body != nil || info.Size != 1000 {
		t.Errorf("Info: found %t, body %q, size %d; want no body and the payload's Size", ok, info.Body, info.Size)
	}
	if n := p.builds.Load(); n != 0 {
		t.Fatalf("built %d times for a canceled delivery read by state, want 0", n)
	}
	if info := h.wait(t, id, IsFinal); !bytes.Equal(info.Body, p.body) {
		t.Errorf("Wait: body %q", info.Body)
	}
	if info, _ := h.s.Delivery(id); !bytes.Equal(info.Body, p.body) {
		t.Errorf("Delivery: body %q", info.Body)
	}
	if n := p.builds.Load(); n != 2 {
		t.Errorf("built %d times, want 2 (Wait and Delivery)", n)
	}
}

func TestSendBodyOrPayload(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: []byte(`{}`), Payload: &countingPayload{body: []byte(`{}`)}})
	if err == nil {
		t.Error("a delivery with both a Body and a Payload was accepted")
	}
	if _, err := h.s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification}); !errors.Is(err, ErrEmptyBody) {
		t.Errorf("no body: %v", err)
	}
}
