// Package server serves the mock over HTTP, one type per surface: the
// vendor-faithful Partner API under /api/v1 (partnerAPI), the mock's own
// control API under /_mock (controlAPI) and the built-in receivers
// (sinkAPI), composed in one routes function. Handlers only translate
// between HTTP and the operations layer (package ops); errors become
// statuses in one table (errors.go).
package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// APIPrefix is where the Partner API lives, as on the real service.
const APIPrefix = bullseye.APIPrefix

// DefaultRateLimit is the vendor's limit: requests per minute per partner.
const DefaultRateLimit = 1000

// Emitter creates deliveries; *ops.Ops implements it.
type Emitter interface {
	Emit(ops.Send) (ops.Emitted, error)
}

// LogReader reads the attempt log; *sender.Sender implements it.
type LogReader interface {
	Logs(sender.LogQuery) ([]sender.Attempt, int)
}

// Config is what the server needs. Ops, Store, Logs, Fixtures and Clock
// are required.
type Config struct {
	Ops      *ops.Ops
	Emitter  Emitter // what the Partner API emits through; Ops by default
	Store    *store.Store
	Logs     LogReader
	Fixtures *fixtures.Generator
	Clock    clock.Clock // mock time, for timestamps the API creates

	RateLimit   int              // requests per minute per partner; 0 turns the limit off
	RealNow     func() time.Time // the rate limit's clock; time.Now by default
	StrictHTTPS bool             // webhook URLs must be https, as on the real service
	MaxBody     int64            // request body limit; DefaultMaxBody by default
	Logger      *slog.Logger

	// Control turns on the control API under ControlPrefix (and the
	// sinks); false serves the Partner API alone.
	Control bool
	// AdminToken, when set, guards the control API: Authorization: Bearer.
	AdminToken string
	// Scenarios turns on uploading and running scenario files through the
	// control API; nil leaves those routes out.
	Scenarios *scenarios.Runs
}

// Server is the mock's HTTP handler: the three surfaces on one router.
type Server struct {
	partner *partnerAPI
	control *controlAPI // nil without Config.Control
	sink    *sinkAPI
	router  *mux.Router
	// static maps path -> method -> handler for the API routes without
	// path variables: an exact match skips mux, which copies the request
	// twice (route and vars) on every call.
	static map[string]map[string]http.Handler
	routed http.Handler // route as a handler, made once
	log    *slog.Logger
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: cfg.Logger}
	s.partner = &partnerAPI{
		ops: cfg.Ops, store: cfg.Store, emitter: cfg.Emitter, logs: cfg.Logs, fixtures: cfg.Fixtures, clock: cfg.Clock,
		strict: cfg.StrictHTTPS, maxBody: cfg.MaxBody, log: cfg.Logger, notAllowed: s.methodNotAllowed,
	}
	if s.partner.emitter == nil {
		s.partner.emitter = cfg.Ops
	}
	if cfg.RateLimit > 0 {
		now := cfg.RealNow
		if now == nil {
			now = time.Now
		}
		s.partner.limiter = newRateLimiter(cfg.RateLimit, now)
	}
	if cfg.Control {
		sinks := newSinkSet(cfg.Clock, cfg.MaxBody)
		s.sink = &sinkAPI{sinks: sinks, stopped: cfg.Ops.Stopped(), feed: cfg.Ops.Feed(), secretOf: func(id string) string {
			secret, _ := cfg.Ops.SigningSecret(id)
			return secret
		}}
		cfg.Ops.OnReset(sinks.clearRequests)
		s.control = &controlAPI{
			ops: cfg.Ops, clock: cfg.Clock, runs: cfg.Scenarios, adminToken: cfg.AdminToken,
			maxBody: cfg.MaxBody, log: cfg.Logger,
		}
	}
	s.routes()
	s.routed = http.HandlerFunc(s.route)
	return s
}

// Router exposes the router so that other surfaces can register their
// routes on the same server.
func (s *Server) Router() *mux.Router { return s.router }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isAPIPath(r.URL.Path) {
		s.partner.journaled(w, r, s.routed)
		return
	}
	s.route(w, r)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
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
	r.Handle("/healthz", handle(healthz)).Methods(http.MethodGet, http.MethodHead)

	s.static = map[string]map[string]http.Handler{}
	api := apiRouter{s: s.partner, r: r, static: s.static}
	s.partner.registerWebhookRoutes(api)
	s.partner.registerOrganizationRoutes(api)
	s.partner.registerBillingRoutes(api)
	if s.control != nil {
		c := s.control.router(r)
		s.control.registerRoutes(r, c)
		s.sink.registerRoutes(r, c, s.log)
	}
	s.router = r
}

// ConfigureSink sets up the built-in receiver name, as PUT /_mock/sink/{name}.
func (s *Server) ConfigureSink(name string, cfg SinkConfig) (SinkInfo, error) {
	if s.sink == nil {
		return SinkInfo{}, Errorf(CodeNotFound, "this server has no control API, so no sinks")
	}
	return s.sink.ConfigureSink(name, cfg)
}

// SinkRequests returns what the sink name recorded, oldest first, and
// whether it exists: the in-process test server reads it without HTTP.
func (s *Server) SinkRequests(name string) ([]SinkRequest, bool) {
	if s.sink == nil {
		return nil, false
	}
	return s.sink.SinkRequests(name)
}

// apiHandler serves an authenticated Partner API request of partner p.
// The partner is an argument rather than a context value, which would cost
// a copy of the request on every call.
type apiHandler func(w http.ResponseWriter, r *http.Request, p store.Partner) error

// apiRouter registers Partner API routes under APIPrefix, each behind
// authentication and the rate limit. (A mux subrouter would do this, but
// it answers 404 where a path exists with another method.)
type apiRouter struct {
	s      *partnerAPI
	r      *mux.Router
	static map[string]map[string]http.Handler
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
		if a.static[APIPrefix+path] == nil {
			a.static[APIPrefix+path] = map[string]http.Handler{}
		}
		a.static[APIPrefix+path][method] = handler
	}
}

// fallback wraps the 404 and 405 handlers: under the API prefix they are
// authenticated like every API route.
func (s *Server) fallback(h http.Handler) http.Handler {
	return recoverer(s.log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) {
			if _, ok := s.partner.guard(w, r); !ok {
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
}

func healthz(w http.ResponseWriter, r *http.Request) error {
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
	allowed := s.allowedMethods(r)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, Errorf(CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path).
		With("allowed", allowed))
}

func (s *Server) allowedMethods(r *http.Request) []string {
	out := []string{}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	if static, ok := s.static[r.URL.Path]; ok {
		// A fixed path (/webhooks/test) also fits a pattern route
		// (/webhooks/{type}) that refuses it: only its own methods count.
		for _, m := range methods {
			if static[m] != nil {
				out = append(out, m)
			}
		}
		return out
	}
	root := s.router
	for _, m := range methods {
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
