// Package mock assembles the whole mock — store, fixtures, sender, event
// emitter and HTTP server — from one Config. The serve command runs it, and
// Go tests can run it in-process, the way they use net/http/httptest.
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
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/server"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// DefaultAPIKey is the partner key used when none is given.
const DefaultAPIKey = "bullseye-mock-key"

// Config holds every setting of a mock. The zero value, after Defaults, is
// a working mock on a free loopback port.
type Config struct {
	Addr          string   // host:port to listen on; "127.0.0.1:0" picks a free port
	APIKeys       []string // one partner per key; DefaultAPIKey when empty
	TimeScale     float64  // mock time runs this many times faster than real time
	Clock         clock.Clock
	Seed          int64 // seeds every fake value and id
	Organizations int   // organizations seeded per partner
	Dialect       bullseye.Dialect
	Templates     map[string]json.RawMessage // per event type; their values win over generated ones

	RateLimit   int // per partner per minute; 0 turns it off
	StrictHTTPS bool
	MaxBody     int64

	Policy             bullseye.Policy
	Workers            int
	PerEndpoint        int
	LogCap             int
	DeliveryCap        int // finished deliveries kept in full for inspection
	UserAgent          string
	CACertFile         string
	InsecureSkipVerify bool

	TLS             *tls.Config // serve HTTPS with this config when set
	ShutdownTimeout time.Duration
	Logger          *slog.Logger

	// AdminToken guards the control API under /_mock/ (Authorization:
	// Bearer); empty leaves it open, which suits a local test setup.
	AdminToken string
}

// Defaults fills the unset fields of c.
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
	if c.Clock == nil {
		c.Clock = clock.Scaled(c.TimeScale)
	}
	if c.Organizations == 0 {
		c.Organizations = 3
	}
	c.Policy = c.Policy.WithDefaults() // a caller's Delays or Timeout alone are kept
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Partner is one API key and what was seeded for it.
type Partner struct {
	Key             string
	ID              string
	OrganizationIDs []string
}

// Mock is a running mock.
type Mock struct {
	cfg      Config
	Store    *store.Store
	Sender   *sender.Sender
	Fixtures *fixtures.Generator
	Events   *events.Emitter
	Server   *server.Server
	partners []Partner

	listener net.Listener
	http     *http.Server
	served   chan error
}

// New builds a mock without starting it.
func New(cfg Config) (*Mock, error) {
	cfg.Defaults()
	if cfg.TimeScale < 0 {
		return nil, fmt.Errorf("time scale must be positive, got %g", cfg.TimeScale)
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	m := &Mock{cfg: cfg, Store: store.New(), Fixtures: fixtures.New(cfg.Seed, fixtures.WithTemplates(cfg.Templates))}
	snd, err := sender.New(sender.Config{
		Clock:              cfg.Clock,
		Targets:            m.Store,
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
	m.Sender = snd
	m.Events = &events.Emitter{Store: m.Store, Sender: snd, Fixtures: m.Fixtures, Clock: cfg.Clock}
	if err := m.seed(); err != nil {
		return nil, err
	}
	m.Server = server.New(server.Config{
		Store:       m.Store,
		Events:      m.Events,
		Logs:        snd,
		Fixtures:    m.Fixtures,
		Clock:       cfg.Clock,
		RateLimit:   cfg.RateLimit,
		StrictHTTPS: cfg.StrictHTTPS,
		MaxBody:     cfg.MaxBody,
		Logger:      cfg.Logger,
		Deliveries:  snd,
		AdminToken:  cfg.AdminToken,
		Scenarios:   m.runScenario,
	})
	return m, nil
}

// runScenario checks an uploaded scenario file and returns its run on this
// mock (the control API's POST /_mock/scenarios/runs). The run acts as the
// file's partner, or the first one.
func (m *Mock) runScenario(file string, data []byte, leaveClock bool) (server.ScenarioRun, error) {
	sc, err := scenarios.Parse(file, data)
	if err != nil {
		return nil, err
	}
	env := scenarios.Env{Store: m.Store, Sender: m.Sender, Events: m.Events, Fixtures: m.Fixtures, Clock: m.cfg.Clock, APIKey: m.cfg.APIKeys[0]}
	return func(ctx context.Context) (any, bool, error) {
		rep, err := scenarios.RunOn(ctx, env, sc, scenarios.Options{LeaveClock: leaveClock, Logger: m.cfg.Logger})
		if rep == nil {
			return nil, false, err
		}
		return rep, rep.Passed, err
	}, nil
}

// seed registers the partners and gives each its organizations.
func (m *Mock) seed() error {
	now := m.cfg.Clock.Now()
	for _, key := range m.cfg.APIKeys {
		p, err := m.Store.AddPartner(key)
		if err != nil {
			return err
		}
		if m.hasPartner(p.ID) {
			continue // the same key given twice
		}
		for _, kind := range []string{bullseye.KindIdentification, bullseye.KindBilling} {
			if _, err := m.Store.UpdateWebhook(p.ID, kind, store.WebhookPatch{Dialect: &m.cfg.Dialect}); err != nil {
				return err
			}
		}
		partner := Partner{Key: key, ID: p.ID}
		for i := 0; i < m.cfg.Organizations; i++ {
			// Spread creation times over the past weeks so that listings
			// sorted by createdAt have a meaningful order.
			org := m.Fixtures.NewOrganization(now.Add(-time.Duration(m.cfg.Organizations-i) * 24 * time.Hour))
			// Many seeded organizations share the credit pool: later ones
			// get what is left rather than failing the start.
			if b, err := m.Store.Billing(p.ID, now); err == nil {
				org.Credits = min(org.Credits, b.PoolTotal-b.PoolUsed)
			}
			if _, err := m.Store.AddOrganization(p.ID, org); err != nil {
				return err
			}
			partner.OrganizationIDs = append(partner.OrganizationIDs, org.ID)
		}
		m.partners = append(m.partners, partner)
	}
	return nil
}

func (m *Mock) hasPartner(id string) bool {
	for _, p := range m.partners {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Partners lists the partners with their keys and seeded organizations.
func (m *Mock) Partners() []Partner { return append([]Partner(nil), m.partners...) }

// Config returns the settings the mock runs with, defaults filled in.
func (m *Mock) Config() Config { return m.cfg }

// Start binds the listener (so errors surface at once and port 0 works),
// starts the sender and serves in the background.
func (m *Mock) Start() error {
	ln, err := net.Listen("tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.cfg.Addr, err)
	}
	if m.cfg.TLS != nil {
		ln = tls.NewListener(ln, m.cfg.TLS)
	}
	m.listener = ln
	m.http = &http.Server{
		Handler:           m.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	m.Sender.Start()
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
	return scheme + "://" + m.listener.Addr().String()
}

// Addr is the address the mock listens on.
func (m *Mock) Addr() net.Addr { return m.listener.Addr() }

// Done reports a serve error; it never fires on a clean Close.
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
	var errs []error
	m.Server.StopScenarios()
	errs = append(errs, m.Server.WaitScenarioRuns(ctx))
	if m.http != nil {
		errs = append(errs, m.http.Shutdown(ctx))
	}
	pending, serr := m.Sender.Shutdown(ctx)
	errs = append(errs, serr)
	return pending, errors.Join(errs...)
}
