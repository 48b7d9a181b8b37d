package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// retryFlags are the retry-policy flags of every command that sends.
type retryFlags struct {
	RetryDelays []time.Duration `name:"retry-delays" default:"1m,5m,30m" sep:"," env:"BULLSEYE_MOCK_RETRY_DELAYS" help:"Wait before each retry, in mock time."`
	MaxAttempts int             `name:"max-attempts" default:"4" env:"BULLSEYE_MOCK_MAX_ATTEMPTS" help:"Attempts per delivery in all (the first plus retries)."`
	Timeout     time.Duration   `default:"30s" env:"BULLSEYE_MOCK_TIMEOUT" help:"A receiver must answer in full within this much mock time."`
}

func (f retryFlags) policy() (bullseye.Policy, error) {
	p := bullseye.Policy{Delays: f.RetryDelays, Attempts: f.MaxAttempts, Timeout: f.Timeout}
	return p, p.Validate()
}

// maxTimeScale keeps mock time within time.Duration's range for years.
const maxTimeScale = 1_000_000

type serveCmd struct {
	Addr          string   `default:"127.0.0.1:8080" env:"BULLSEYE_MOCK_ADDR" help:"Address to listen on (host:port; port 0 picks a free one)."`
	APIKey        []string `name:"api-key" sep:"," env:"BULLSEYE_MOCK_API_KEY" help:"Partner API key; repeat (or comma-separate) for several partners, each with its own state. Default: ${default_key}." placeholder:"KEY"`
	TimeScale     float64  `name:"time-scale" default:"1" env:"BULLSEYE_MOCK_TIME_SCALE" help:"Run mock time N times faster: divides retry delays, the 30 s timeout and waits by N."`
	Seed          int64    `default:"1" env:"BULLSEYE_MOCK_SEED" help:"Seed of every fake value and id: the same seed gives the same payloads."`
	Organizations int      `default:"3" env:"BULLSEYE_MOCK_ORGANIZATIONS" help:"Fake organizations seeded for each partner."`
	Dialect       string   `default:"partner" enum:"partner,integration" env:"BULLSEYE_MOCK_DIALECT" help:"Payload dialect of both webhooks: partner (full, event_type) or integration (short, event)."`
	Templates     string   `type:"existingdir" env:"BULLSEYE_MOCK_TEMPLATES" help:"Directory of payload templates, one <event_type>.json each; their values win over generated ones."`

	RateLimit   int   `name:"rate-limit" default:"1000" env:"BULLSEYE_MOCK_RATE_LIMIT" help:"Partner API requests per minute per partner; 0 turns the limit off."`
	StrictHTTPS bool  `name:"strict-https" env:"BULLSEYE_MOCK_STRICT_HTTPS" help:"Reject webhook URLs that are not https, as the real service does."`
	MaxBody     int64 `name:"max-body" default:"1048576" env:"BULLSEYE_MOCK_MAX_BODY" help:"Largest request body accepted, in bytes; larger ones get 413."`

	retryFlags
	Workers            int    `default:"256" env:"BULLSEYE_MOCK_WORKERS" help:"Deliveries attempted at once, in all."`
	PerEndpoint        int    `name:"per-endpoint" default:"64" env:"BULLSEYE_MOCK_PER_ENDPOINT" help:"Deliveries attempted at once against one receiver host."`
	LogCap             int    `name:"log-cap" default:"100000" env:"BULLSEYE_MOCK_LOG_CAP" help:"Attempt-log entries kept; the oldest are evicted."`
	DeliveryCap        int    `name:"delivery-cap" default:"10000" env:"BULLSEYE_MOCK_DELIVERY_CAP" help:"Finished deliveries kept in full (payload, headers, responses) for inspection and redelivery."`
	CACert             string `name:"ca-cert" type:"existingfile" env:"BULLSEYE_MOCK_CA_CERT" help:"PEM file of extra CAs trusted for https receivers."`
	InsecureSkipVerify bool   `name:"insecure-skip-verify" env:"BULLSEYE_MOCK_INSECURE_SKIP_VERIFY" help:"Do not verify receivers' TLS certificates."`

	TLSCert       string `name:"tls-cert" type:"existingfile" env:"BULLSEYE_MOCK_TLS_CERT" help:"Serve HTTPS with this PEM certificate (with --tls-key)."`
	TLSKey        string `name:"tls-key" type:"existingfile" env:"BULLSEYE_MOCK_TLS_KEY" help:"PEM private key of --tls-cert."`
	TLSSelfSigned bool   `name:"tls-self-signed" env:"BULLSEYE_MOCK_TLS_SELF_SIGNED" help:"Serve HTTPS with a certificate made at start by a throwaway CA."`
	TLSCAOut      string `name:"tls-ca-out" env:"BULLSEYE_MOCK_TLS_CA_OUT" help:"With --tls-self-signed: write the CA certificate (PEM) here for clients to trust."`

	Clock      string `default:"scaled" enum:"scaled,manual" env:"BULLSEYE_MOCK_CLOCK" help:"Mock time: scaled (real time times --time-scale) or manual (stands still until POST /_mock/clock/advance moves it)."`
	AdminToken string `name:"admin-token" env:"BULLSEYE_MOCK_ADMIN_TOKEN" help:"Require Authorization: Bearer <token> on the control API under /_mock/ (the sinks' receiving end stays open)."`

	Scenario []string `type:"existingfile" sep:"," env:"BULLSEYE_MOCK_SCENARIO" placeholder:"FILE" help:"Run scenario files inside the server once it listens (their every steps keep running until shutdown); results go to the log. Repeatable."`

	ShutdownTimeout time.Duration `name:"shutdown-timeout" default:"10s" env:"BULLSEYE_MOCK_SHUTDOWN_TIMEOUT" help:"On SIGINT/SIGTERM, how long in-flight requests and attempts may finish."`
}

func (c *serveCmd) config(e *env) (mock.Config, error) {
	dialect, err := bullseye.ParseDialect(c.Dialect)
	if err != nil {
		return mock.Config{}, usageError{err}
	}
	// Past a million, scaled nanoseconds overflow within minutes of mock time.
	if c.TimeScale <= 0 || c.TimeScale > maxTimeScale {
		return mock.Config{}, usagef("--time-scale must be greater than 0 and at most %g, got %g", float64(maxTimeScale), c.TimeScale)
	}
	if c.Organizations < 1 {
		return mock.Config{}, usagef("--organizations must be at least 1, got %d", c.Organizations)
	}
	if c.RateLimit < 0 {
		return mock.Config{}, usagef("--rate-limit must not be negative, got %d", c.RateLimit)
	}
	if c.Workers < 1 || c.PerEndpoint < 1 || c.LogCap < 1 || c.DeliveryCap < 1 {
		return mock.Config{}, usagef("--workers, --per-endpoint, --log-cap and --delivery-cap must be at least 1")
	}
	if c.MaxBody < 1 {
		return mock.Config{}, usagef("--max-body must be at least 1 byte, got %d", c.MaxBody)
	}
	for _, k := range c.APIKey {
		if strings.TrimSpace(k) == "" {
			return mock.Config{}, usagef("--api-key must not be empty")
		}
	}
	policy, err := c.policy()
	if err != nil {
		return mock.Config{}, usageError{err}
	}
	cfg := mock.Config{
		Addr:               c.Addr,
		APIKeys:            c.APIKey,
		TimeScale:          c.TimeScale,
		Seed:               c.Seed,
		Organizations:      c.Organizations,
		Dialect:            dialect,
		RateLimit:          c.RateLimit,
		StrictHTTPS:        c.StrictHTTPS,
		MaxBody:            c.MaxBody,
		Policy:             policy,
		Workers:            c.Workers,
		PerEndpoint:        c.PerEndpoint,
		LogCap:             c.LogCap,
		DeliveryCap:        c.DeliveryCap,
		UserAgent:          programName + "/" + Version,
		CACertFile:         c.CACert,
		InsecureSkipVerify: c.InsecureSkipVerify,
		ShutdownTimeout:    c.ShutdownTimeout,
		Logger:             e.logger,
		AdminToken:         c.AdminToken,
	}
	if c.Clock == "manual" {
		if c.TimeScale != 1 {
			// Saying so beats ignoring it: a scale that silently does
			// nothing would make a test look frozen for no visible reason.
			return mock.Config{}, usagef("--time-scale %g has no effect with --clock manual: the clock moves only through POST /_mock/clock/advance", c.TimeScale)
		}
		// A manual clock starts at the real time of start-up, to the second,
		// so timestamps look plausible and read easily.
		cfg.Clock = clock.NewManual(time.Now().UTC().Truncate(time.Second))
	}
	if c.Templates != "" {
		t, err := fixtures.LoadTemplates(c.Templates)
		if err == nil {
			err = fixtures.ValidateTemplates(t) // fail at start, not on the first payload
		}
		if err != nil {
			return mock.Config{}, usageError{err}
		}
		cfg.Templates = t
	}
	switch {
	case c.TLSSelfSigned && (c.TLSCert != "" || c.TLSKey != ""):
		return mock.Config{}, usagef("--tls-self-signed and --tls-cert/--tls-key exclude each other")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return mock.Config{}, usagef("--tls-cert and --tls-key go together")
	case c.TLSCAOut != "" && !c.TLSSelfSigned:
		return mock.Config{}, usagef("--tls-ca-out needs --tls-self-signed")
	case c.TLSCert != "":
		if cfg.TLS, err = mock.LoadTLS(c.TLSCert, c.TLSKey); err != nil {
			return mock.Config{}, usageError{err}
		}
	case c.TLSSelfSigned:
		host, _, _ := net.SplitHostPort(c.Addr)
		if cfg.TLS, err = mock.SelfSignedTLS([]string{host}, c.TLSCAOut, time.Now()); err != nil {
			return mock.Config{}, err
		}
	}
	return cfg, nil
}

func (c *serveCmd) Run(e *env) error {
	cfg, err := c.config(e)
	if err != nil {
		return err
	}
	// Scenario files are checked before listening, so a typo exits 2 at once.
	scens, err := parseAll(e, c.Scenario)
	if err != nil {
		return err
	}
	m, err := mock.New(cfg)
	if err != nil {
		return usageError{err}
	}
	if err := m.Start(); err != nil {
		return err
	}
	printBanner(e.stdout, m, c.TLSCAOut)
	e.logger.Info("serving", "url", m.URL(), "partners", len(m.Partners()), "seed", cfg.Seed, "time_scale", cfg.TimeScale)
	scenariosDone := runScenarios(e, m, scens)

	select {
	case <-e.ctx.Done():
	case err := <-m.Done():
		_, _ = m.Close(context.Background()) // stop the sender; the serve error is what matters
		return fmt.Errorf("server stopped: %w", err)
	}
	<-scenariosDone // they end with e.ctx, before the sender stops
	e.logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	pending, err := m.Close(context.Background())
	if pending > 0 {
		e.logger.Warn("deliveries left pending at shutdown", "pending", pending)
	}
	if err != nil {
		e.logger.Warn("shutdown did not finish cleanly", "err", err)
	}
	e.logger.Info("stopped")
	return nil
}

// printBanner tells a person where the mock is and how to use it at once.
// Its first line is stable, so scripts and tests can read the URL from it.
func printBanner(w io.Writer, m *mock.Mock, caFile string) {
	url := m.URL()
	fmt.Fprintf(w, "bullseye-mock listening on %s\n", url)
	for _, p := range m.Partners() {
		fmt.Fprintf(w, "  API key: %s (partner %s, organizations %s)\n", p.Key, p.ID, strings.Join(p.OrganizationIDs, ", "))
	}
	cfg := m.Config()
	clockText := fmt.Sprintf("time scale %g", cfg.TimeScale)
	if _, manual := cfg.Clock.(*clock.Manual); manual {
		clockText = "manual clock (POST /_mock/clock/advance moves it)"
	}
	fmt.Fprintf(w, "  seed %d, %s, Partner API at %s%s\n", cfg.Seed, clockText, url, server.APIPrefix)
	curl := "curl"
	if caFile != "" {
		fmt.Fprintf(w, "  TLS CA certificate written to %s\n", caFile)
		curl = "curl --cacert " + caFile
	}
	key := m.Partners()[0].Key
	// The example points the webhook at the built-in sink, so the three
	// commands show a signed delivery end to end with nothing else running.
	fmt.Fprintf(w, "Configure a webhook (here: the built-in receiver at /_mock/sink/demo):\n  %s -X PUT %s%s/partner/webhooks/identification -H 'X-Partner-API-Key: %s' -H 'Content-Type: application/json' -d '{\"url\": \"%s/_mock/sink/demo\", \"secret\": \"whsec_test\", \"enabled\": true}'\n",
		curl, url, server.APIPrefix, key, url)
	control := curl
	if cfg.AdminToken != "" {
		control += fmt.Sprintf(" -H 'Authorization: Bearer %s'", cfg.AdminToken)
	}
	fmt.Fprintf(w, "Send an event, then read what the receiver got:\n  %s -X POST %s/_mock/events -d '{\"type\": \"visitor.identified\"}'\n  %s '%s/_mock/sink/demo/requests?atLeast=1&timeout=5s'\n",
		control, url, control, url)
	fmt.Fprintf(w, "Inspect deliveries: %s/_mock/ui\n", url)
}
