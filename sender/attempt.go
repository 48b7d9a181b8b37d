package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unique"
	"unsafe"

	"github.com/google/uuid"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

const (
	// excerptMax is how much of each response body is kept for inspection.
	excerptMax = 1024
	// BodyMax bounds how much of a response body is read. A longer body
	// fails the attempt and the connection is dropped, so an endless body
	// cannot hold a worker forever on a manual clock, whose timeout only
	// fires when the clock moves.
	BodyMax = 1 << 20
	// HeaderMax bounds a response's headers, at what a browser or a proxy
	// would take; past it the attempt fails.
	HeaderMax = 64 << 10
)

// worker runs attempts until shutdown.
func (s *Sender) worker() {
	defer s.wg.Done()
	var sc scratch
	for {
		select {
		case <-s.stop:
			return
		case d := <-s.work:
			if s.handoff != nil {
				s.handoff(d)
				continue
			}
			s.run(d, &sc)
		}
	}
}

// scratch is a worker's reusable state.
type scratch struct {
	buf    [excerptMax]byte
	signer bullseye.Signer
}

// run makes d's due attempt, or parks it when its endpoint is at its
// concurrency bound; the worker that frees a slot runs the parked ones.
func (s *Sender) run(d *delivery, sc *scratch) {
	if s.perHost == 0 {
		s.attempt(d, sc)
		return
	}
	m := d.meta.Value()
	t, _ := s.cfg.Targets.Target(m.PartnerID, m.Kind)
	host := hostOf(t.URL)
	if !s.hosts.acquire(host, d, s.perHost) {
		return // parked
	}
	for d != nil {
		s.attempt(d, sc)
		d = s.hosts.release(host)
	}
}

// hostOf returns the authority of a URL, cheaply: it only keys the
// per-endpoint bound, and a malformed URL fails later in the request anyway.
func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	return u
}

// hostLimiter bounds the attempts in flight per endpoint host. Deliveries
// over the bound wait in a FIFO per host instead of blocking a worker, so a
// slow receiver delays only its own deliveries.
type hostLimiter struct {
	mu sync.Mutex
	m  map[string]*hostSlots
}

type hostSlots struct {
	inFlight int
	parked   []*delivery
}

func (h *hostLimiter) acquire(host string, d *delivery, limit int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.m[host]
	if hs == nil {
		hs = &hostSlots{}
		h.m[host] = hs
	}
	if hs.inFlight < limit {
		hs.inFlight++
		return true
	}
	hs.parked = append(hs.parked, d)
	return false
}

// release hands the slot to the next parked delivery, if any.
func (h *hostLimiter) release(host string) *delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.m[host]
	if len(hs.parked) > 0 {
		d := hs.parked[0]
		hs.parked[0] = nil
		hs.parked = hs.parked[1:]
		return d
	}
	hs.inFlight--
	if hs.inFlight == 0 {
		delete(h.m, host) // keeps the map as small as the set of busy hosts
	}
	return nil
}

// attempt reads the target, then either cancels d (webhook disabled or
// without URL) or makes one HTTP attempt and records its outcome.
func (s *Sender) attempt(d *delivery, sc *scratch) {
	m := d.meta.Value()
	t, found := s.cfg.Targets.Target(m.PartnerID, m.Kind)
	reason := cancelReason(t, found)
	w := d.wire // only the worker holding d writes it
	var body string
	switch {
	case reason != "":
		// Canceled without a request: nothing to build or sign.
		if w == nil {
			w = &wire{}
		}
	case w != nil && w.other != "":
		body = w.other // FaultOtherBytes: the changed bytes are held, not rebuilt
	default:
		body = payloadString(d.body)
		if w == nil {
			sig, ok, sent := sc.signer.Apply(m.Fault, m.Secret, body)
			w = &wire{sig: sig, hasSig: ok}
			if sent != body {
				w.other = sent
				body = sent
			}
		}
	}

	s.mu.Lock()
	if d.state != stReady || s.stopping {
		// Dropped by Reset, or shutting down: the delivery stays pending.
		s.mu.Unlock()
		return
	}
	d.wire = w
	s.st.ready--
	start := s.clock.Now()
	if reason != "" {
		s.observe(traffic.Attempt{Due: time.Unix(0, d.due), Start: start, Number: int(d.attempts) + 1, Canceled: true, Final: true})
		s.cancelLocked(d, &m, t.URL, start, reason)
		s.mu.Unlock()
		return
	}
	d.state = stInFlight
	d.attempts++
	n := int(d.attempts)
	s.st.inFlight++
	s.st.attempts++
	s.tellLocked(d, false)
	s.notifyLocked()
	s.mu.Unlock()

	pol := s.policyOf(&m)
	ctx, cancel := clock.WithDeadline(s.ctx, s.clock, start.Add(pol.Timeout))
	code, excerpt, err := s.post(ctx, t.URL, body, d, w, n, sc.buf[:])
	end := s.clock.Now()
	// A deadline that passes after the response was complete changes
	// nothing: only a failed read is a timeout.
	timedOut := err != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded)
	cancel()
	aborted := err != nil && !timedOut && s.ctx.Err() != nil
	if deadline := start.Add(pol.Timeout); timedOut && end.After(deadline) {
		// The vendor gives up at the deadline, even when a manual clock
		// was moved far past it in one step.
		end = deadline
	}

	s.mu.Lock()
	s.st.inFlight--
	s.notifyLocked()
	if d.state == stDropped {
		s.mu.Unlock()
		return
	}
	if aborted {
		// Shutdown cut the attempt short: it does not count, and the
		// delivery is left pending.
		d.attempts--
		s.st.attempts--
		d.state = stReady
		s.st.ready++
		s.tellLocked(d, false)
		s.mu.Unlock()
		return
	}
	e := logEntry{
		delivery: d.id, meta: d.meta, partner: m.Partner, kind: kindCode(m.Kind),
		url: t.URL, at: start.UnixNano(), elapsed: end.Sub(start), code: int32(code), attempt: d.attempts,
	}
	s.st.observe(e.elapsed)
	seen := traffic.Attempt{Due: time.Unix(0, d.due), Start: start, Took: e.elapsed, Number: n, StatusCode: code,
		Error: traffic.ErrorKind(err, timedOut)}
	if timedOut {
		err = fmt.Errorf("timeout: no complete response within %s (mock time)", pol.Timeout)
	}
	if err != nil {
		e.err = errorText(err)
	}
	switch {
	case !bullseye.Failed(code, err):
		e.status = logDelivered
		d.state = stDelivered
		s.st.delivered++
		if m.ReplayAfter > 0 {
			s.replayLocked(d, m, end.Add(m.ReplayAfter))
		}
	default:
		s.st.failedAttempts++
		if code != 0 && err == nil {
			e.err = "HTTP " + strconv.Itoa(code) + " is not 2xx"
		}
		if delay, ok := pol.NextDelay(n); ok {
			// Counted from when the failure was known (the end of the
			// attempt; for a timeout, 30 s after it started), as the
			// vendor can only schedule a retry once it has given up.
			next := end.Add(delay).UnixNano()
			e.status, e.next = logRetrying, next
			s.scheduleLocked(d, next)
		} else {
			e.status = logFailed
			d.state = stFailed
			s.st.failed++
		}
	}
	seen.OK, seen.Final = e.status == logDelivered, e.status != logRetrying
	s.observe(seen)
	s.recordLocked(d, w, e, excerpt)
	s.mu.Unlock()
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("webhook attempt", "delivery", uuid.UUID(d.id).String(), "attempt", n, "url", t.URL,
			"status", statusWords[e.status], "code", code, "error", e.err)
	}
}

// observe reports an attempt to Config.Observe. It runs under s.mu, before
// the attempt is recorded and waiters are woken, so a report read once the
// sender is idle has every attempt in it.
func (s *Sender) observe(a traffic.Attempt) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(a)
	}
}

// replayLocked sends d again at due, after it was delivered: the same
// bytes and signature, as a copy (DuplicateOf d) that is not replayed
// itself.
func (s *Sender) replayLocked(d *delivery, m meta, due time.Time) {
	m.DuplicateOf, m.ReplayAfter = uuid.UUID(d.id).String(), 0
	if !s.closed {
		_, _ = s.addLocked(unique.Make(m), d.body, due) // fails only when the id source runs dry
	}
}

// payloadString is the body an attempt sends. It is built here, outside the
// sender's lock, at every attempt: a pending delivery holds its payload's
// recipe, not its bytes. Build's slice is new and nothing writes it, so it
// is read as a string without a copy; a literal is one already.
func payloadString(p Payload) string {
	if l, ok := p.(literal); ok {
		return string(l)
	}
	b := p.Build()
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func cancelReason(t bullseye.Target, found bool) string {
	switch {
	case !found:
		return "canceled: no webhook configured"
	case !t.Enabled:
		return "canceled: webhook disabled"
	case t.URL == "":
		return "canceled: webhook has no URL"
	}
	return ""
}

// cancelLocked logs a canceled entry for d's due attempt, without any HTTP,
// and drops its remaining retries.
func (s *Sender) cancelLocked(d *delivery, m *meta, url string, now time.Time, reason string) {
	d.state = stCanceled
	s.st.canc++
	e := logEntry{
		delivery: d.id, meta: d.meta, partner: m.Partner, kind: kindCode(m.Kind),
		url: url, at: now.UnixNano(), attempt: d.attempts + 1, status: logCanceled, err: reason,
	}
	s.recordLocked(d, d.wire, e, "")
}

// recordLocked appends an attempt to the log and to the delivery's details,
// and retires a finished delivery into the bounded retention ring.
func (s *Sender) recordLocked(d *delivery, w *wire, e logEntry, excerpt string) {
	id, err := s.newIDLocked()
	if err != nil {
		// The id source failed (a test's finite reader ran dry). The entry
		// is still worth logging; give it the delivery's id with the
		// attempt number in the last byte so it stays unique per delivery.
		id = d.id
		id[15] ^= e.attempt
	}
	e.id = id
	s.st.ended++
	s.logs.add(e)
	w.attempts = append(w.attempts, attemptRecord{entry: e, excerpt: excerpt})
	s.tellAttemptLocked(&e)
	s.tellLocked(d, false)
	s.notifyLocked()
	if !d.final() {
		return
	}
	s.st.pendingBytes -= d.body.Size()
	if old, evicted := s.retained.push(d); evicted && old.final() {
		s.forgetLocked(old)
	}
}

// forgetLocked removes a finished delivery from the index and the order.
func (s *Sender) forgetLocked(d *delivery) {
	s.byID.del(idKey(d.id))
	d.gone = true
	if s.holes++; s.holes > 1024 && s.holes*2 > len(s.order) {
		live := s.order[:0]
		for _, x := range s.order {
			if !x.gone {
				live = append(live, x)
			}
		}
		clear(s.order[len(live):])
		s.order, s.holes = live, 0
	}
}

// post sends one attempt and reads the response, all within ctx.
func (s *Sender) post(ctx context.Context, target, body string, d *delivery, w *wire, n int, buf []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = s.requestHeaders(d, w, n)
	resp, err := s.client.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "response headers exceeded") { // net/http's only sign of it
			err = tagged{err, traffic.ErrTooLarge}
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	// The response counts only once the whole body is in: a receiver that
	// sends headers and then stalls, or dies mid-body, has not answered.
	k, err := readFull(resp.Body, buf)
	excerpt, read := string(buf[:k]), int64(k)
	if err == nil { // more than the excerpt: read the rest, up to BodyMax
		var n int64
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, BodyMax-read+1))
		read += n
		switch {
		case err == nil && read > BodyMax:
			return resp.StatusCode, excerpt, tagged{fmt.Errorf("response body is over %d bytes: the mock reads no more, so the answer is not complete", BodyMax), traffic.ErrTooLarge}
		case err == nil:
			err = io.EOF
		}
	}
	if err != io.EOF {
		return resp.StatusCode, excerpt, tagged{fmt.Errorf("response body cut off after %d bytes: %w", read, err), traffic.ErrCutOff}
	}
	return resp.StatusCode, excerpt, nil
}

// tagged marks an error with the kind the traffic report counts it as,
// keeping its text.
type tagged struct{ err, kind error }

func (t tagged) Error() string        { return t.err.Error() }
func (t tagged) Unwrap() error        { return t.err }
func (t tagged) Is(target error) bool { return target == t.kind }

// readFull reads into buf until it is full (nil) or the body ends (io.EOF,
// a complete answer) or fails (any other error, such as io.ErrUnexpectedEOF
// from a body shorter than its Content-Length). io.ReadFull would report a
// short complete body and a cut one alike.
func readFull(r io.Reader, buf []byte) (int, error) {
	k := 0
	for k < len(buf) {
		n, err := r.Read(buf[k:])
		k += n
		if err != nil {
			return k, err
		}
	}
	return k, nil
}

// requestHeaders builds an attempt's headers. DeliveryInfo uses it too, so
// what the control API shows is what was sent.
func (s *Sender) requestHeaders(d *delivery, w *wire, n int) http.Header {
	h := make(http.Header, 5)
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{s.ua}
	if w.hasSig {
		h[bullseye.SignatureHeader] = []string{w.sig}
	}
	h[bullseye.DeliveryHeader] = []string{uuid.UUID(d.id).String()}
	h[bullseye.AttemptHeader] = []string{strconv.Itoa(n)}
	return h
}

// errorText is the log's error text: the cause, without the "Post <url>:"
// wrapper, since the URL has its own field.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
