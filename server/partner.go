package server

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// partnerAPI serves the vendor-faithful Partner API under APIPrefix:
// webhooks, logs, organizations and billing, each request authenticated
// and rate limited per partner.
type partnerAPI struct {
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
}

// Rate-limit header keys, in canonical form so that setting them skips
// canonicalisation.
const (
	hdrAPIKey    = "X-Partner-Api-Key" // X-Partner-API-Key, canonical
	hdrLimit     = "X-Ratelimit-Limit"
	hdrRemaining = "X-Ratelimit-Remaining"
	hdrReset     = "X-Ratelimit-Reset"
)

// guard checks X-Partner-API-Key and applies the rate limit, writing the
// error when the request may not go on. The limit counts unauthenticated
// requests per client address, so guessing keys is limited too; the
// headers go on every response either way.
func (s *partnerAPI) guard(w http.ResponseWriter, r *http.Request) (store.Partner, bool) {
	var key string
	if v := r.Header[hdrAPIKey]; len(v) > 0 { // indexed directly: Get would canonicalise the name each time
		key = v[0]
	}
	p, ok := s.store.Authenticate(key)
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
		h[hdrLimit] = []string{st.LimitText}
		h[hdrRemaining] = []string{strconv.Itoa(st.Remaining)}
		h[hdrReset] = []string{st.ResetText}
		if !st.Allowed {
			wait := max(int(math.Ceil(st.Reset.Sub(s.limiter.now()).Seconds())), 1)
			h.Set("Retry-After", strconv.Itoa(wait))
			writeError(w, Errorf(CodeTooManyRequests, "rate limit of %d requests per minute exceeded; retry after %d s", st.Limit, wait).
				With("limit", st.Limit).With("retryAfter", wait))
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
	return p, true
}
