package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// retryFlags are the retry-policy flags of every command that sends.
type retryFlags struct {
	RetryDelays []time.Duration `name:"retry-delays" default:"${default_delays}" sep:"," env:"BULLSEYE_MOCK_RETRY_DELAYS" help:"Wait before each retry, in mock time."`
	MaxAttempts int             `name:"max-attempts" default:"${default_attempts}" env:"BULLSEYE_MOCK_MAX_ATTEMPTS" help:"Attempts per delivery in all (the first plus retries)."`
	Timeout     time.Duration   `default:"${default_timeout}" env:"BULLSEYE_MOCK_TIMEOUT" help:"A receiver must answer in full within this much mock time."`
}

// policy is the flags' retry policy, checked by the one policy grammar
// (ops.Policy), so an explicit zero is refused as the control API refuses
// it.
func (f retryFlags) policy() (bullseye.Policy, error) {
	p := ops.Policy{Attempts: ops.N(f.MaxAttempts), Timeout: ops.D(f.Timeout)}
	for _, d := range f.RetryDelays {
		p.Delays = append(p.Delays, ops.Duration(d.String()))
	}
	pol, err := p.Resolve()
	return pol, prefixPolicy(err)
}

// prefixPolicy puts a policy's FieldError under "policy", as ops.Send has it.
func prefixPolicy(err error) error {
	var fe *ops.FieldError
	if errors.As(err, &fe) {
		return &ops.FieldError{Field: strings.TrimSuffix("policy."+fe.Field, "."), Msg: fe.Msg}
	}
	return err
}

// settingFlags names the flag of each mock.Config setting Validate checks.
var settingFlags = map[string]string{
	"TimeScale": "--time-scale", "APIKeys": "--api-key", "Organizations": "--organizations", "Workers": "--workers",
	"PerEndpoint": "--per-endpoint", "LogCap": "--log-cap", "DeliveryCap": "--delivery-cap", "JournalCap": "--journal-cap", "StreamBuffer": "--stream-buffer", "MaxPending": "--max-pending", "StartTime": "--start-time", "MaxPendingBytes": "--max-pending-bytes", "RateLimit": "--rate-limit",
	"MaxBody": "--max-body", "ShutdownTimeout": "--shutdown-timeout", "Dialect": "--dialect", "Policy": "--retry-delays/--max-attempts/--timeout",
	"Grace": "--grace",
}

// configMessage is mock.Config.Validate's message under the flag's name.
func configMessage(err error) string {
	var se *mock.SettingError
	if errors.As(err, &se) {
		if f, ok := settingFlags[se.Setting]; ok {
			return f + ": " + se.Msg
		}
	}
	return err.Error()
}

type serveCmd struct {
	Addr          string   `default:"${default_addr}" env:"BULLSEYE_MOCK_ADDR" help:"Address to listen on (host:port; port 0 picks a free one)."`
	APIKey        []string `name:"api-key" sep:"," env:"BULLSEYE_MOCK_API_KEY" help:"Partner API key; repeat (or comma-separate) for several partners, each with its own state. Default: ${default_key}." placeholder:"KEY"`
	TimeScale     float64  `name:"time-scale" default:"1" env:"BULLSEYE_MOCK_TIME_SCALE" help:"Run mock time N times faster: divides retry delays, the 30 s timeout and waits by N."`
	Seed          int64    `default:"1" env:"BULLSEYE_MOCK_SEED" help:"Seed of every fake value and id: the same seed gives the same payloads."`
	Organizations int      `default:"${default_organizations}" env:"BULLSEYE_MOCK_ORGANIZATIONS" help:"Fake organizations seeded for each partner."`
	Dialect       string   `default:"partner" enum:"partner,integration" env:"BULLSEYE_MOCK_DIALECT" help:"Payload dialect of both webhooks: partner (full, event_type) or integration (short, event)."`
	Templates     string   `type:"existingdir" env:"BULLSEYE_MOCK_TEMPLATES" help:"Directory of payload templates, one <event_type>.json each; their values win over generated ones."`

	RateLimit   int   `name:"rate-limit" default:"${default_rate_limit}" env:"BULLSEYE_MOCK_RATE_LIMIT" help:"Partner API requests per minute per partner; 0 turns the limit off."`
	StrictHTTPS bool  `name:"strict-https" env:"BULLSEYE_MOCK_STRICT_HTTPS" help:"Reject webhook URLs that are not https, as the real service does."`
	MaxBody     int64 `name:"max-body" default:"${default_max_body}" env:"BULLSEYE_MOCK_MAX_BODY" help:"Largest request body accepted, in bytes; larger ones get 413."`

	retryFlags
	Workers            int    `default:"${default_workers}" env:"BULLSEYE_MOCK_WORKERS" help:"Deliveries attempted at once, in all."`
	PerEndpoint        int    `name:"per-endpoint" default:"${default_per_endpoint}" env:"BULLSEYE_MOCK_PER_ENDPOINT" help:"Deliveries attempted at once against one receiver host."`
	LogCap             int    `name:"log-cap" default:"${default_log_cap}" env:"BULLSEYE_MOCK_LOG_CAP" help:"Attempt-log entries kept; the oldest are evicted."`
	MaxPending         int    `name:"max-pending" default:"${default_max_pending}" env:"BULLSEYE_MOCK_MAX_PENDING" help:"Deliveries not yet final the mock holds at most; a request past it is refused whole (429 while the queue drains)."`
	MaxPendingBytes    int64  `name:"max-pending-bytes" default:"${default_max_pending_bytes}" env:"BULLSEYE_MOCK_MAX_PENDING_BYTES" help:"Payload bytes of the deliveries not yet final the mock holds at most (generated payloads count as their estimated size)."`
	JournalCap         int    `name:"journal-cap" default:"${default_journal_cap}" env:"BULLSEYE_MOCK_JOURNAL_CAP" help:"Partner API requests kept in the journal (GET /_mock/requests); the oldest are evicted."`
	StreamBuffer       int    `name:"stream-buffer" default:"${default_stream_buffer}" env:"BULLSEYE_MOCK_STREAM_BUFFER" help:"Change events GET /_mock/stream keeps for readers that fall behind or reconnect (Last-Event-ID)."`
	DeliveryCap        int    `name:"delivery-cap" default:"${default_delivery_cap}" env:"BULLSEYE_MOCK_DELIVERY_CAP" help:"Finished deliveries kept in full (payload, headers, responses) for inspection and redelivery."`
	CACert             string `name:"ca-cert" type:"existingfile" env:"BULLSEYE_MOCK_CA_CERT" help:"PEM file of extra CAs trusted for https receivers."`
	InsecureSkipVerify bool   `name:"insecure-skip-verify" env:"BULLSEYE_MOCK_INSECURE_SKIP_VERIFY" help:"Do not verify receivers' TLS certificates."`

	TLSCert       string `name:"tls-cert" type:"existingfile" env:"BULLSEYE_MOCK_TLS_CERT" help:"Serve HTTPS with this PEM certificate (with --tls-key)."`
	TLSKey        string `name:"tls-key" type:"existingfile" env:"BULLSEYE_MOCK_TLS_KEY" help:"PEM private key of --tls-cert."`
	TLSSelfSigned bool   `name:"tls-self-signed" env:"BULLSEYE_MOCK_TLS_SELF_SIGNED" help:"Serve HTTPS with a certificate made at start by a throwaway CA."`
	TLSCAOut      string `name:"tls-ca-out" env:"BULLSEYE_MOCK_TLS_CA_OUT" help:"With --tls-self-signed: write the CA certificate (PEM) here for clients to trust."`

	Clock      string `default:"scaled" enum:"scaled,manual" env:"BULLSEYE_MOCK_CLOCK" help:"Mock time: scaled (real time times --time-scale) or manual (stands still until POST /_mock/clock/advance moves it)."`
	StartTime  string `name:"start-time" env:"BULLSEYE_MOCK_START_TIME" placeholder:"RFC3339" help:"The instant mock time starts at (RFC 3339, e.g. 2025-01-15T10:30:00Z); default the real time of start-up. With --clock manual and --seed, the same calls give byte-identical deliveries run after run."`
	AdminToken string `name:"admin-token" env:"BULLSEYE_MOCK_ADMIN_TOKEN" help:"Require Authorization: Bearer <token> on the control API under /_mock/ (the sinks' receiving end stays open)."`

	Scenario []string `type:"existingfile" sep:"," env:"BULLSEYE_MOCK_SCENARIO" placeholder:"FILE" help:"Run scenario files inside the server once it listens (their every steps keep running until shutdown); results go to the log. Repeatable."`

	ShutdownTimeout time.Duration `name:"shutdown-timeout" default:"${default_shutdown_timeout}" env:"BULLSEYE_MOCK_SHUTDOWN_TIMEOUT" help:"On SIGINT/SIGTERM, how long in-flight requests and attempts may finish."`
}

func (c *serveCmd) config(e *env) (mock.Config, error) {
	policy, err := c.policy()
	if err != nil {
		return mock.Config{}, flagError(err)
	}
	cfg := mock.Config{
		Addr:               c.Addr,
		APIKeys:            c.APIKey,
		TimeScale:          c.TimeScale,
		Seed:               c.Seed,
		Organizations:      c.Organizations,
		Dialect:            bullseye.Dialect(c.Dialect),
		RateLimit:          c.RateLimit,
		StrictHTTPS:        c.StrictHTTPS,
		MaxBody:            c.MaxBody,
		Policy:             policy,
		Workers:            c.Workers,
		PerEndpoint:        c.PerEndpoint,
		LogCap:             c.LogCap,
		DeliveryCap:        c.DeliveryCap,
		JournalCap:         c.JournalCap,
		StreamBuffer:       c.StreamBuffer,
		MaxPending:         c.MaxPending,
		MaxPendingBytes:    c.MaxPendingBytes,
		UserAgent:          programName + "/" + Version,
		CACertFile:         c.CACert,
		InsecureSkipVerify: c.InsecureSkipVerify,
		ShutdownTimeout:    c.ShutdownTimeout,
		Logger:             e.logger,
		AdminToken:         c.AdminToken,
	}
	start, err := parseStartTime(c.StartTime)
	if err != nil {
		return mock.Config{}, err
	}
	cfg.StartTime = start
	if c.Clock == "manual" {
		if c.TimeScale != 1 {
			// Saying so beats ignoring it: a scale that silently does
			// nothing would make a test look frozen for no visible reason.
			return mock.Config{}, usagef("--time-scale %g has no effect with --clock manual: the clock moves only through POST /_mock/clock/advance", c.TimeScale)
		}
		// A manual clock starts at the real time of start-up, to the second,
		// so timestamps look plausible and read easily.
		if start.IsZero() {
			start = time.Now().UTC().Truncate(time.Second)
		}
		cfg.Clock = clock.NewManual(start)
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
	// Every field is set from a flag, so the raw Config is checked: a zero
	// flag is a value to refuse, where a zero Config field means the default.
	if err := cfg.Validate(); err != nil {
		return mock.Config{}, usagef("%s", configMessage(err))
	}
	return cfg, nil
}

func (c *serveCmd) Run(e *env) error {
	cfg, err := c.config(e)
	if err != nil {
		return err
	}
	// Scenario files are checked before listening, so a typo exits 2 at once.
	scens, err := parseAll(e, c.Scenario, ops.Budget{Deliveries: cfg.MaxPending, Bytes: cfg.MaxPendingBytes})
	if err != nil {
		return err
	}
	m, err := mock.New(cfg)
	if err != nil {
		return usagef("%s", configMessage(err))
	}
	if err := m.Start(); err != nil {
		return err
	}
	printBanner(e.stdout, m, c.TLSCAOut)
	e.logger.Info("serving", "url", m.URL(), "partners", len(m.Partners()), "seed", cfg.Seed, "time_scale", cfg.TimeScale)
	runScenarios(e, m, scens)

	select {
	case <-e.ctx.Done():
	case err := <-m.Done():
		_, _ = m.Close(context.Background()) // stop the sender; the serve error is what matters
		return fmt.Errorf("server stopped: %w", err)
	}
	// A second signal cuts the drain short; it is caught before the log line
	// says so, so a signal sent after the line is never lost. What was in
	// flight is read before the drain is cancelled.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	hard, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := make(chan int, 1)
	go func() {
		select {
		case <-sig:
			cut <- m.Ops().Stats().InFlight
			cancel()
		case <-hard.Done():
		}
	}()
	e.logger.Info("shutting down", "timeout", cfg.ShutdownTimeout, "then", "a second signal stops at once")
	pending, err := m.Close(hard)
	if hard.Err() != nil {
		return exitError{code: ExitFailed, msg: fmt.Sprintf("second signal: stopped at once; %d attempts in flight were cut off, %d deliveries left pending", <-cut, pending)}
	}
	if pending > 0 {
		e.logger.Warn("deliveries left pending at shutdown", "pending", pending)
	}
	if err != nil {
		e.logger.Warn("shutdown did not finish cleanly", "err", err)
	}
	e.logger.Info("stopped")
	return nil
}

// parseStartTime reads --start-time: empty, or an RFC 3339 instant.
func parseStartTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, usagef("--start-time: start time must be an RFC 3339 instant such as 2025-01-15T10:30:00Z, got %q", v)
	}
	return t, nil
}

// printBanner tells a person where the mock is and how to use it at once.
// Its first line is stable, so scripts and tests can read the URL from it.
func printBanner(w io.Writer, m *mock.Mock, caFile string) {
	url := m.URL()
	fmt.Fprintf(w, "bullseye-mock listening on %s\n", url)
	if host, _, _ := net.SplitHostPort(m.Addr().String()); net.ParseIP(host).IsUnspecified() {
		fmt.Fprintf(w, "  (on every interface, %s; from another host or from outside a container use its address)\n", m.Addr())
	}
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
