package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// sinkReceive is the receiving end: it records the request, verifies its
// signature, and answers the configured status after the configured delay.
func (s *sinkAPI) sinkReceive(w http.ResponseWriter, r *http.Request) error {
	name, err := sinkNameOf(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.sinks.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(CodePayloadTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit)
		}
		return Errorf(CodeBadRequest, "could not read the request body: %v", err)
	}
	// Read before the sinks' lock: the sender and the store have locks of
	// their own, and a sink need not wait on them.
	deliveryID := r.Header.Get(bullseye.DeliveryHeader)
	hookSecret := s.secretOf(deliveryID)
	ss := s.sinks
	ss.mu.Lock()
	sk, ok := ss.sinks[name]
	if !ok {
		if len(ss.sinks) >= MaxSinks {
			ss.mu.Unlock()
			return Errorf(CodeConflict, "there are already %d sinks; delete one first", MaxSinks)
		}
		sk = defaultSink(name)
		ss.sinks[name] = sk
	}
	sk.received++
	rec := SinkRequest{
		Seq: sk.received, ReceivedAt: ss.clock.Now().UTC(), Method: r.Method, Headers: r.Header.Clone(),
		BodyRaw: string(body), DeliveryID: deliveryID,
	}
	rec.Attempt, _ = strconv.Atoi(r.Header.Get(bullseye.AttemptHeader))
	if json.Valid(body) {
		rec.Body = body
	}
	secret, from := sk.cfg.Secret, "sink"
	if secret == "" {
		secret, from = hookSecret, "webhook"
	}
	rec.Signature, rec.SignatureError = verify(secret, r.Header, body)
	if secret != "" {
		rec.SecretFrom = from
	}
	// One draw each per request, in order, so the seed fixes the sequence.
	failed := sk.cfg.FailureRate > 0 && sk.cfg.rng.Float64() < sk.cfg.FailureRate
	delay := sk.cfg.delay
	if sk.cfg.delayMax > sk.cfg.delay {
		delay += time.Duration(sk.cfg.rng.Int64N(int64(sk.cfg.delayMax - sk.cfg.delay + 1)))
	}
	status := http.StatusOK
	switch {
	case sk.cfg.RejectInvalidSignatures && (rec.Signature == "missing" || rec.Signature == "invalid"):
		// A careful receiver checks first: a rejected request takes no
		// place in the scripted statuses.
		status = http.StatusUnauthorized
	case failed:
		status = sk.cfg.FailureStatus
	default:
		sk.accepted++
		if n := len(sk.cfg.Statuses); n > 0 {
			status = sk.cfg.Statuses[min(sk.accepted, n)-1]
		}
	}
	rec.Status = status
	retryAfter := 0
	if status == http.StatusTooManyRequests {
		retryAfter = max(sk.cfg.RetryAfter, 1)
	}
	ss.keep(sk, rec)
	s.tell(name, rec)
	close(ss.changed)
	ss.changed = make(chan struct{})
	ss.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil // the sender gave up; nobody reads the answer
		}
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	writeJSON(w, status, map[string]any{"received": true, "seq": rec.Seq, "signature": rec.Signature})
	return nil
}

// verify checks the vendor's signature the way a careful receiver does:
// lowercase hex HMAC-SHA256 of the exact bytes, compared in constant time.
func verify(secret string, h http.Header, body []byte) (result, why string) {
	vals, present := h[http.CanonicalHeaderKey(bullseye.SignatureHeader)]
	switch {
	case secret == "" && !present:
		return "unchecked", ""
	case secret == "":
		return "unchecked", "no secret to verify with: set one on the sink (PUT) or on the webhook"
	case !present:
		return "missing", "no " + bullseye.SignatureHeader + " header"
	}
	if err := bullseye.Verify(secret, body, vals[0]); err != nil {
		return "invalid", err.Error()
	}
	return "valid", ""
}
