// Package mock assembles the whole mock (store, fixtures, sender, the
// operations layer and the HTTP server) from one Config, checked by one
// Validate. The serve command runs it; Go tests run it in-process through
// package mocktest, the way they use net/http/httptest.
package mock

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/journal"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/server"
	"github.com/bullseye-mock/bullseye-mock/store"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// DefaultAPIKey is the partner key used when none is given.
const DefaultAPIKey = "bullseye-mock-key"

// Defaults of the settings below, written once: the CLI's flags read
// them from here.
const (
	DefaultAddr            = "127.0.0.1:8080" // the CLI's; a zero Config listens on a free loopback port
	DefaultOrganizations   = 3
	DefaultShutdownTimeout = 10 * time.Second
	DefaultWriteTimeout    = 2 * time.Minute
	DefaultRateLimit       = server.DefaultRateLimit
	DefaultMaxBody         = server.DefaultMaxBody
	DefaultWorkers         = sender.DefaultWorkers
	DefaultPerEndpoint     = sender.DefaultPerEndpoint
	DefaultLogCap          = sender.DefaultLogCap
	DefaultDeliveryCap     = sender.DefaultDeliveryCap
	DefaultJournalCap      = journal.DefaultCap
	DefaultStreamBuffer    = feed.DefaultCapacity
	MaxStreamBuffer        = 1_000_000
	DefaultMaxPending      = ops.DefaultMaxPending
	DefaultMaxPendingBytes = ops.DefaultMaxPendingBytes
	// MaxTimeScale keeps mock time within time.Duration's range for years:
	// past a million, scaled nanoseconds overflow within minutes.
	MaxTimeScale = 1_000_000
)

// Config holds every setting of a mock. The zero value, after Defaults, is
// a working mock on a free loopback port.
type Config struct {
	Addr      string   // host:port to listen on; "127.0.0.1:0" picks a free port
	APIKeys   []string // one partner per key; DefaultAPIKey when empty
	TimeScale float64  // mock time runs this many times faster than real time
	// StartTime is the instant mock time starts at (zero: the real time of
	// start-up). With a manual clock, the same seed, start and calls give
	// byte-identical deliveries run after run.
	StartTime     time.Time
	Clock         clock.Clock
	Seed          int64 // seeds every fake value and id
	Organizations int   // organizations seeded per partner
	Dialect       bullseye.Dialect
	Templates     map[string]json.RawMessage // per event type; their values win over generated ones

	RateLimit   int // per partner per minute; 0 turns it off
	StrictHTTPS bool
	MaxBody     int64

	Policy      bullseye.Policy
	Workers     int
	PerEndpoint int
	LogCap      int
	DeliveryCap int // finished deliveries kept in full for inspection
	JournalCap  int // Partner API requests kept in the journal
	// StreamBuffer is how many change events GET /_mock/stream keeps for
	// readers that fall behind or reconnect.
	StreamBuffer int
	// MaxPending and MaxPendingBytes bound the deliveries not yet final and
	// their payload bytes; a request past them is refused whole.
	MaxPending         int
	MaxPendingBytes    int64
	UserAgent          string
	CACertFile         string
	InsecureSkipVerify bool

	TLS             *tls.Config // serve HTTPS with this config when set
	ShutdownTimeout time.Duration
	Logger          *slog.Logger

	// AdminToken guards the control API under /_mock/ (Authorization:
	// Bearer); empty leaves it open, which suits a local test setup.
	AdminToken string
	// Grace is how long, in real time, a clock move waits for an attempt in
	// flight before it takes the receiver to hang (ops.DefaultGrace when 0).
	Grace time.Duration
	// Headless runs the engine without an HTTP listener (the send
	// command): Start starts the sender only.
	Headless bool
	// WriteTimeout bounds writing any answer (DefaultWriteTimeout when 0);
	// a long-poll extends its own deadline to its timeout.
	WriteTimeout time.Duration
}

func (c *Config) startTimeOK() bool {
	return c.StartTime.IsZero() || (!c.StartTime.Before(ops.MinInstant) && !c.StartTime.After(ops.MaxInstant))
}

// Defaults fills the unset fields of c. Zero means "the default" for
// every number; a negative one is left for Validate to refuse.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if len(c.APIKeys) == 0 {
		c.APIKeys = []string{DefaultAPIKey}
	}
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	if c.Clock == nil && c.TimeScale > 0 && c.TimeScale <= MaxTimeScale && c.startTimeOK() {
		c.Clock = clock.ScaledFrom(c.TimeScale, c.StartTime)
	}
	setDefault(&c.Organizations, DefaultOrganizations)
	setDefault(&c.Workers, DefaultWorkers)
	setDefault(&c.PerEndpoint, DefaultPerEndpoint)
	setDefault(&c.LogCap, DefaultLogCap)
	setDefault(&c.DeliveryCap, DefaultDeliveryCap)
	setDefault(&c.JournalCap, DefaultJournalCap)
	setDefault(&c.StreamBuffer, DefaultStreamBuffer)
	setDefault(&c.MaxPending, DefaultMaxPending)
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Dialect == "" {
		c.Dialect = bullseye.DialectPartner
	}
	c.Policy = c.Policy.WithDefaults() // a caller's Delays or Timeout alone are kept
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func setDefault(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

// SettingError is a Config value Validate refuses; Setting names the field
// (the CLI names the flag it comes from).
type SettingError struct {
	Setting string // a Config field: "TimeScale", "Workers", "Policy", ...
	Msg     string
}

func (e *SettingError) Error() string { return e.Msg }

// Validate is the one range check of a Config: mock.New, serve, send and
// run refuse the same bad values with these messages. It reports the first
// problem, a *SettingError.
func (c Config) Validate() error {
	bad := func(setting, format string, args ...any) error {
		return &SettingError{Setting: setting, Msg: fmt.Sprintf(format, args...)}
	}
	if !(c.TimeScale > 0 && c.TimeScale <= MaxTimeScale) {
		return bad("TimeScale", "time scale must be greater than 0 and at most %g, got %g", float64(MaxTimeScale), c.TimeScale)
	}
	for _, k := range c.APIKeys {
		if strings.TrimSpace(k) == "" {
			return bad("APIKeys", "an API key must not be empty")
		}
	}
	for _, f := range []struct {
		setting, name string
		v             int
	}{
		{"Organizations", "organizations", c.Organizations}, {"Workers", "workers", c.Workers},
		{"PerEndpoint", "per-endpoint", c.PerEndpoint}, {"LogCap", "log cap", c.LogCap}, {"DeliveryCap", "delivery cap", c.DeliveryCap},
	} {
		if f.v < 1 {
			return bad(f.setting, "%s must be at least 1, got %d", f.name, f.v)
		}
	}
	if c.MaxPending < 1 {
		return bad("MaxPending", "max pending must be at least 1, got %d", c.MaxPending)
	}
	if c.MaxPendingBytes < 1 {
		return bad("MaxPendingBytes", "max pending bytes must be at least 1, got %d", c.MaxPendingBytes)
	}
	if c.StreamBuffer < 1 || c.StreamBuffer > MaxStreamBuffer {
		return bad("StreamBuffer", "stream buffer must be from 1 to %d events, got %d", MaxStreamBuffer, c.StreamBuffer)
	}
	if c.JournalCap < 1 || c.JournalCap > journal.MaxCap {
		return bad("JournalCap", "journal cap must be from 1 to %d, got %d", journal.MaxCap, c.JournalCap)
	}
	if c.RateLimit < 0 {
		return bad("RateLimit", "rate limit must not be negative, got %d", c.RateLimit)
	}
	if c.MaxBody < 1 {
		return bad("MaxBody", "max body must be at least 1 byte, got %d", c.MaxBody)
	}
	if c.ShutdownTimeout < 0 {
		return bad("ShutdownTimeout", "shutdown timeout must not be negative, got %s", c.ShutdownTimeout)
	}
	if !c.startTimeOK() {
		return bad("StartTime", "start time must be from %s to %s, got %s", ops.MinInstant.Format(time.RFC3339),
			ops.MaxInstant.Format(time.RFC3339), c.StartTime.UTC().Format(time.RFC3339Nano))
	}
	if c.WriteTimeout < 0 {
		return bad("WriteTimeout", "write timeout must not be negative, got %s", c.WriteTimeout)
	}
	if c.Grace < 0 {
		return bad("Grace", "grace must not be negative, got %s", c.Grace)
	}
	if _, err := bullseye.ParseDialect(string(c.Dialect)); err != nil {
		return bad("Dialect", "%v", err)
	}
	if err := c.Policy.Validate(); err != nil {
		return bad("Policy", "%v", err)
	}
	return nil
}

// Mock is a mock, assembled: the store, the payload generator, the sender,
// the operations over them, and the HTTP server in front.
type Mock struct {
	cfg    Config
	store  *store.Store
	sender *sender.Sender
	ops    *ops.Ops
	runs   *scenarios.Runs
	server *server.Server

	listener net.Listener
	http     *http.Server
	served   chan error
}

// New builds a mock without starting it.
func New(cfg Config) (*Mock, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st := store.New()
	gen := fixtures.New(cfg.Seed, fixtures.WithTemplates(cfg.Templates))
	hub, changes := traffic.NewHub(), feed.New(cfg.StreamBuffer)
	snd, err := sender.New(sender.Config{
		Observe:            hub.Observe,
		Feed:               changes,
		Clock:              cfg.Clock,
		Targets:            st,
		Policy:             cfg.Policy,
		Workers:            cfg.Workers,
		PerEndpoint:        cfg.PerEndpoint,
		LogCap:             cfg.LogCap,
		DeliveryCap:        cfg.DeliveryCap,
		UserAgent:          cfg.UserAgent,
		CACertFile:         cfg.CACertFile,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		IDs:                seededReader(cfg.Seed),
		Logger:             cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	m := &Mock{cfg: cfg, store: st, sender: snd}
	m.ops = ops.New(ops.Config{Store: st, Sender: snd, Fixtures: gen, Clock: cfg.Clock, Logger: cfg.Logger, Grace: cfg.Grace,
		Seed: cfg.Seed, JournalCap: cfg.JournalCap, Budget: ops.Budget{Deliveries: cfg.MaxPending, Bytes: cfg.MaxPendingBytes}, Traffic: hub, Feed: changes})
	if err := m.seed(); err != nil {
		return nil, err
	}
	m.runs = scenarios.NewRuns(m.ops, cfg.APIKeys[0], cfg.Logger)
	m.server = server.New(server.Config{
		Ops:         m.ops,
		Store:       st,
		Logs:        snd,
		Fixtures:    gen,
		Clock:       cfg.Clock,
		RateLimit:   cfg.RateLimit,
		StrictHTTPS: cfg.StrictHTTPS,
		MaxBody:     cfg.MaxBody,
		Logger:      cfg.Logger,
		Control:     true,
		AdminToken:  cfg.AdminToken,
		Scenarios:   m.runs,
	})
	return m, nil
}

// seed registers the partners and gives each its organizations and its
// webhooks' dialect.
func (m *Mock) seed() error {
	now := m.cfg.Clock.Now()
	seen := map[string]bool{}
	for _, key := range m.cfg.APIKeys {
		id, err := m.ops.AddPartner(key)
		if err != nil {
			return err
		}
		if seen[id] {
			continue // the same key given twice
		}
		seen[id] = true
		for _, kind := range bullseye.Kinds() {
			if err := m.ops.SetWebhook(id, kind, ops.Webhook{Dialect: &m.cfg.Dialect}); err != nil {
				return err
			}
		}
		for i := 0; i < m.cfg.Organizations; i++ {
			// Spread creation times over the past weeks so that listings
			// sorted by createdAt have a meaningful order.
			at := now.Add(-time.Duration(m.cfg.Organizations-i) * 24 * time.Hour)
			if _, err := m.ops.AddOrganization(id, ops.Organization{At: at}); err != nil {
				return err
			}
		}
	}
	return nil
}

// StartScenario runs a parsed scenario on this mock in the background,
// under the registry the control API lists and Close stops (serve
// --scenario's files). The channel closes when the run ends.
func (m *Mock) StartScenario(s *scenarios.Scenario, opts scenarios.Options) (scenarios.RunInfo, <-chan struct{}, error) {
	return m.runs.Run(s, opts)
}

// Runs is the mock's registry of scenario runs.
func (m *Mock) Runs() *scenarios.Runs { return m.runs }

// Ops is the mock's operations layer: every operation the control API,
// scenario files and the CLI have, for a Go program to call in-process.
func (m *Mock) Ops() *ops.Ops { return m.ops }

// Handler is the mock's HTTP handler, for serving it some other way.
func (m *Mock) Handler() http.Handler { return m.server }

// Server is the HTTP server's handler, with the in-process sink helpers.
func (m *Mock) Server() *server.Server { return m.server }

// Partners lists the partners with their keys and organizations, as the
// store has them now.
func (m *Mock) Partners() []ops.Partner { return m.ops.Partners() }

// Config returns the settings the mock runs with, defaults filled in.
func (m *Mock) Config() Config { return m.cfg }

// Start binds the listener (so errors surface at once and port 0 works),
// starts the sender and serves in the background. A headless mock starts
// its sender only.
func (m *Mock) Start() error {
	if m.cfg.Headless {
		m.sender.Start()
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.cfg.Addr, err)
	}
	if m.cfg.TLS != nil {
		ln = tls.NewListener(ln, m.cfg.TLS)
	}
	m.listener = ln
	m.http = &http.Server{
		Handler:           m.server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      m.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	m.sender.Start()
	m.served = make(chan error, 1)
	go func() {
		if err := m.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.served <- err
		}
	}()
	return nil
}

// URL is the base URL the mock serves on, e.g. http://127.0.0.1:41234.
func (m *Mock) URL() string {
	scheme := "http"
	if m.cfg.TLS != nil {
		scheme = "https"
	}
	addr := m.listener.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host).IsUnspecified() {
		// Listening on every interface ([::]:8080 in a container): loopback
		// is the address that works from here, and the one to print.
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return scheme + "://" + addr
}

// Addr is the address the mock listens on (URL is one that reaches it).
func (m *Mock) Addr() net.Addr { return m.listener.Addr() }

// Done reports a serve error; it never fires on a clean Close (nor on a
// headless mock).
func (m *Mock) Done() <-chan error { return m.served }

// Close stops taking requests, lets in-flight requests and delivery attempts
// finish until ctx ends (or the shutdown timeout, when ctx has no deadline),
// and reports how many deliveries were left pending.
func (m *Mock) Close(ctx context.Context) (pending int, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.ShutdownTimeout)
		defer cancel()
	}
	// Open waits answer at once, saying the mock is stopping; scenario runs
	// end; then the HTTP server drains while the sender starts no new
	// attempt and lets those in flight finish, both within ctx.
	m.ops.Stop()
	m.runs.Stop()
	errs := []error{m.runs.Wait(ctx)}
	httpDone := make(chan error, 1)
	go func() {
		if m.http == nil {
			httpDone <- nil
			return
		}
		httpDone <- m.http.Shutdown(ctx)
	}()
	pending, serr := m.sender.Shutdown(ctx)
	errs = append(errs, serr, <-httpDone)
	return pending, errors.Join(errs...)
}
