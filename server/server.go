// Package server serves the mock over HTTP: the vendor-faithful Partner API
// under /api/v1 and the mock's own endpoints. Handlers only translate
// between HTTP and the store, the event emitter and the sender's log.
package server

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// APIPrefix is where the Partner API lives, as on the real service.
const APIPrefix = "/api/v1"

// DefaultRateLimit is the vendor's limit: requests per minute per partner.
const DefaultRateLimit = 1000

// Emitter creates deliveries; *events.Emitter implements it.
type Emitter interface {
	Emit(events.Request) ([]string, error)
}

// LogReader reads the attempt log; *sender.Sender implements it.
type LogReader interface {
	Logs(sender.LogQuery) ([]sender.Attempt, int)
}

// Config is what the server needs. Store, Events, Logs, Fixtures and Clock
// are required.
type Config struct {
	Store    *store.Store
	Events   Emitter
	Logs     LogReader
	Fixtures *fixtures.Generator
	Clock    clock.Clock // mock time, for timestamps the API creates

	RateLimit   int              // requests per minute per partner; 0 turns the limit off
	RealNow     func() time.Time // the rate limit's clock; time.Now by default
	StrictHTTPS bool             // webhook URLs must be https, as on the real service
	MaxBody     int64            // request body limit; DefaultMaxBody by default
	Logger      *slog.Logger

	// Deliveries turns on the control API under ControlPrefix (and the
	// sinks); nil serves the Partner API alone.
	Deliveries Deliveries
	// AdminToken, when set, guards the control API: Authorization: Bearer.
	AdminToken string
	// Scenarios turns on uploading and running scenario files through the
	// control API; nil leaves those routes out.
	Scenarios ScenarioRunner
}

// Server is the mock's HTTP handler.
type Server struct {
	store    *store.Store
	events   Emitter
	logs     LogReader
	fixtures *fixtures.Generator
	clock    clock.Clock
	limiter  *rateLimiter
	strict   bool
	maxBody  int64
	log      *slog.Logger
	router   *mux.Router
	// static maps path -> method -> handler for the API routes without
	// path variables: an exact match skips mux, which copies the request
	// twice (route and vars) on every call.
	static map[string]map[string]http.Handler

	deliveries Deliveries
	adminToken string
	sinks      *sinkSet
	scenarios  ScenarioRunner
	runs       *scenarioRuns
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	s := &Server{
		store:    cfg.Store,
		events:   cfg.Events,
		logs:     cfg.Logs,
		fixtures: cfg.Fixtures,
		clock:    cfg.Clock,
		strict:   cfg.StrictHTTPS,
		maxBody:  cfg.MaxBody,
		log:      cfg.Logger,

		deliveries: cfg.Deliveries,
		adminToken: cfg.AdminToken,
		scenarios:  cfg.Scenarios,
		runs:       newScenarioRuns(),
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimit > 0 {
		now := cfg.RealNow
		if now == nil {
			now = time.Now
		}
		s.limiter = newRateLimiter(cfg.RateLimit, now)
	}
	s.sinks = newSinkSet(s.clock, s.maxBody)
	s.routes()
	return s
}

// Router exposes the router so that other surfaces (the control API) can
// register their routes on the same server.
func (s *Server) Router() *mux.Router { return s.router }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.static[r.URL.Path][r.Method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

// routes is the one place where every route of the server is declared.
func (s *Server) routes() {
	// Unclean paths get a JSON 404, not mux's bare 301 to the cleaned path.
	r := mux.NewRouter().SkipClean(true)
	// mux runs middleware only for matched routes; an API 404 or 405 must
	// still be authenticated and rate limited, so the fallbacks add it.
	r.NotFoundHandler = s.fallback(http.HandlerFunc(notFound))
	r.MethodNotAllowedHandler = s.fallback(http.HandlerFunc(s.methodNotAllowed))
	r.Handle("/healthz", handle(s.healthz)).Methods(http.MethodGet, http.MethodHead)

	s.static = map[string]map[string]http.Handler{}
	api := apiRouter{s: s, r: r}
	s.registerWebhookRoutes(api)
	s.registerOrganizationRoutes(api)
	s.registerBillingRoutes(api)
	if s.deliveries != nil {
		s.registerControlRoutes(r)
	}
	s.router = r
}

// apiHandler serves an authenticated Partner API request of partner p.
// The partner is an argument rather than a context value, which would cost
// a copy of the request on every call.
type apiHandler func(w http.ResponseWriter, r *http.Request, p store.Partner) error

// apiRouter registers Partner API routes under APIPrefix, each behind
// authentication and the rate limit. (A mux subrouter would do this, but
// it answers 404 where a path exists with another method.)
type apiRouter struct {
	s *Server
	r *mux.Router
}

func (a apiRouter) handle(method, path string, h apiHandler) {
	s := a.s
	handler := recoverer(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.guard(w, r)
		if !ok {
			return
		}
		if err := h(w, r, p); err != nil {
			writeError(w, err)
		}
	}))
	a.r.Handle(APIPrefix+path, handler).Methods(method)
	if !strings.Contains(path, "{") {
		if s.static[APIPrefix+path] == nil {
			s.static[APIPrefix+path] = map[string]http.Handler{}
		}
		s.static[APIPrefix+path][method] = handler
	}
}

// fallback wraps the 404 and 405 handlers: under the API prefix they are
// authenticated like every API route.
func (s *Server) fallback(h http.Handler) http.Handler {
	return recoverer(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == APIPrefix || strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
			if _, ok := s.guard(w, r); !ok {
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// handle adapts a handler that returns an error to http.Handler, writing
// the error in the vendor's format.
func handle(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeError(w, err)
		}
	})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, Errorf(CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path).With("path", r.URL.Path))
}

// methodNotAllowed answers 405 with the methods the path does accept.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allowed := allowedMethods(s.router, r)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, Errorf(CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path).
		With("allowed", allowed))
}

func allowedMethods(root *mux.Router, r *http.Request) []string {
	out := []string{}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if root.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// recoverer turns a panic in a handler into a 500 with the vendor's JSON,
// and logs it with its stack, so one bad request never takes the mock down.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, Errorf(CodeInternalError, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
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
func (s *Server) guard(w http.ResponseWriter, r *http.Request) (store.Partner, bool) {
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
