package server

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/bullseye-mock/bullseye-mock/apifault"
	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// partnerAPI serves the vendor-faithful Partner API under APIPrefix:
// webhooks, logs, organizations and billing, each request authenticated
// and rate limited per partner.
type partnerAPI struct {
	ops      *ops.Ops
	store    *store.Store
	emitter  Emitter
	logs     LogReader
	fixtures *fixtures.Generator
	clock    clock.Clock
	limiter  *rateLimiter
	strict   bool
	maxBody  int64
	log      *slog.Logger
	// notAllowed answers 405 with the methods the router knows for a path.
	notAllowed func(http.ResponseWriter, *http.Request)
	// webhooksBody is GET /partner/webhooks' last answer, which apps poll.
	webhooksBody memo[webhooksJSON]
}

// Rate-limit header keys, in canonical form so that setting them skips
// canonicalisation.
const (
	hdrAPIKey    = "X-Partner-Api-Key" // X-Partner-API-Key, canonical
	hdrLimit     = "X-Ratelimit-Limit"
	hdrRemaining = "X-Ratelimit-Remaining"
	hdrReset     = "X-Ratelimit-Reset"
)

// guard checks X-Partner-API-Key and applies the rate limit, then any
// Partner API fault, then the key's scopes, writing the answer when the
// request may not go on. The limit counts unauthenticated requests per
// client address, so guessing keys is limited too; its headers go on every
// response, faulted ones included. A fault answers before the key is
// judged, as an outage would.
func (s *partnerAPI) guard(w http.ResponseWriter, r *http.Request) (store.Partner, bool) {
	var key string
	if v := r.Header[hdrAPIKey]; len(v) > 0 { // indexed directly: Get would canonicalise the name each time
		key = v[0]
	}
	p, k, ok := s.ops.Authenticate(key)
	rec, _ := w.(*recorder)
	if rec != nil {
		rec.partnerID = p.ID
	}
	if s.limiter != nil {
		bucket := p.ID // a UUID, so it never looks like an "addr:" bucket
		if !ok {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			bucket = "addr:" + host
		}
		st := s.limiter.take(bucket)
		h := w.Header()
		h[hdrLimit] = st.LimitHdr
		h[hdrRemaining] = []string{strconv.Itoa(st.Remaining)}
		h[hdrReset] = st.ResetHdr
		if !st.Allowed {
			wait := max(int(math.Ceil(st.Reset.Sub(s.limiter.now()).Seconds())), 1)
			h.Set("Retry-After", strconv.Itoa(wait))
			writeError(w, Errorf(CodeTooManyRequests, "rate limit of %d requests per minute exceeded; retry after %d s", st.Limit, wait).
				With("limit", st.Limit).With("retryAfter", wait))
			return store.Partner{}, false
		}
	}
	if f, fired := s.ops.FireAPIFault(r.Method, r.URL.Path, p.ID); fired {
		if rec != nil {
			rec.fault = f.ID
		}
		if answered := applyFault(w, r, f); answered {
			return store.Partner{}, false
		}
	}
	if !ok {
		msg := "missing X-Partner-API-Key header"
		if key != "" {
			msg = "invalid API key"
		}
		writeError(w, Errorf(CodeUnauthorized, "%s", msg))
		return store.Partner{}, false
	}
	if !bullseye.ScopesAllow(k.Scopes, r.Method) {
		need := bullseye.RequiredScope(r.Method)
		writeError(w, Errorf(CodeForbidden, "this API key lacks the %s scope that %s requests need", need, r.Method).
			With("requiredScope", need).With("scopes", k.Scopes))
		return store.Partner{}, false
	}
	return p, true
}

// applyFault waits out a fault's latency, then answers its status or
// closes the connection; false means the request goes on as normal.
func applyFault(w http.ResponseWriter, r *http.Request, f apifault.Fault) bool {
	if f.Latency > 0 {
		// The server's read and write timeouts count from the request's
		// start: push them past the wait, so that the answer (or the body
		// still to read) is not cut by a latency the test asked for.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(f.Latency + writeSlack))
		_ = rc.SetWriteDeadline(time.Now().Add(f.Latency + writeSlack))
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			panic(http.ErrAbortHandler) // the client left: nobody reads an answer
		}
	}
	switch {
	case f.Close:
		// HTTP/1 hands the connection over to be closed; where it cannot
		// (HTTP/2), aborting resets the stream. Either way the journal
		// records status 0 and net/http lets the abort go.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		panic(http.ErrAbortHandler)
	case f.Status != 0:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		msg := f.Message
		if msg == "" {
			msg = fmt.Sprintf("%d %s (the mock's fault %s)", f.Status, http.StatusText(f.Status), f.ID)
		}
		writeJSON(w, f.Status, &Error{Code: codeOf(f.Status), Message: msg, Details: map[string]any{"fault": f.ID}})
		return true
	}
	return false
}
