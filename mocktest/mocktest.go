// Package mocktest runs a bullseye mock inside a Go test, in the spirit of
// net/http/httptest: NewServer listens on a free loopback port, runs on a
// manual clock by default, closes with the test, and has helpers to
// configure webhooks, trigger events, wait for deliveries and move time.
// It is a package of its own so that the mock's binary never links
// package testing. Every helper is an operation of package ops, the layer
// under the control API, scenario files and the CLI.
package mocktest

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/server"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// Start is where the clock of a test server starts: the vendor's example
// timestamp, so payload times are the same on every run.
func Start() time.Time { return fixtures.ExampleTime() }

// DefaultWait bounds every wait of a Server in real time, so a delivery
// that never comes fails the test instead of hanging it.
const DefaultWait = 10 * time.Second

// Server is a mock running inside a Go test.
//
// Its helpers fail the test through tb (so call them from the test's
// goroutine); a Server made by StartServer, which has no tb, panics
// instead, which suits examples and TestMain.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// APIKey is the first partner's key, for X-Partner-API-Key.
	APIKey string
	// PartnerID is the first partner's id, the default of every helper.
	PartnerID string
	// Clock is the manual clock, or nil when WithTimeScale was given.
	Clock *clock.Manual

	mock *mock.Mock
	tb   testing.TB
}

// Option adjusts a test server's Config.
type Option func(*mock.Config)

// WithConfig lets a test set any field of mock.Config.
func WithConfig(f func(*mock.Config)) Option { return Option(f) }

// WithTimeScale runs mock time scaled from real time instead of on a
// manual clock: for tests of a receiver's own timing.
func WithTimeScale(n float64) Option {
	return func(c *mock.Config) { c.Clock, c.TimeScale = nil, n }
}

// WithSeed seeds the fake data and ids.
func WithSeed(seed int64) Option { return func(c *mock.Config) { c.Seed = seed } }

// WithAPIKeys sets the partners' keys; the first is the default partner.
func WithAPIKeys(keys ...string) Option { return func(c *mock.Config) { c.APIKeys = keys } }

// NewServer starts a mock for the test and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := StartServer(opts...)
	if err != nil {
		tb.Fatalf("bullseye-mock: %v", err)
	}
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// StartServer starts a mock on a free loopback port with a manual clock
// at Start() (unless an option says otherwise). The caller closes it.
func StartServer(opts ...Option) (*Server, error) {
	cfg := mock.Config{Addr: "127.0.0.1:0", Clock: clock.NewManual(Start()), ShutdownTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := mock.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Start(); err != nil {
		return nil, err
	}
	p := m.Partners()[0]
	return &Server{mock: m, URL: m.URL(), APIKey: p.Key, PartnerID: p.ID, Clock: m.Ops().Manual()}, nil
}

// Mock is the mock the server runs.
func (s *Server) Mock() *mock.Mock { return s.mock }

// Ops is the mock's operations layer, for what the helpers do not cover.
func (s *Server) Ops() *ops.Ops { return s.mock.Ops() }

// Close shuts the mock down; deliveries still pending are dropped.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), s.mock.Config().ShutdownTimeout)
	defer cancel()
	_, _ = s.mock.Close(ctx)
}

func (s *Server) fail(format string, args ...any) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Fatalf("bullseye-mock: "+format, args...)
	}
	panic(fmt.Sprintf("bullseye-mock: "+format, args...))
}

// errorf fails the test but lets it go on: an expectation that did not
// hold, after which the test may look further.
func (s *Server) errorf(format string, args ...any) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Errorf("bullseye-mock: "+format, args...)
		return
	}
	panic(fmt.Sprintf("bullseye-mock: "+format, args...))
}

func (s *Server) helper() {
	if s.tb != nil {
		s.tb.Helper()
	}
}

// InspectorURL is the inspector's page at a view and item (see
// docs/inspector.md): InspectorURL("sinks", "shop") opens the sink shop.
// A failing test can print it to show exactly what went wrong.
func (s *Server) InspectorURL(view string, item ...string) string {
	u := s.URL + server.UIPath + "#/" + view
	for _, it := range item {
		u += "/" + url.PathEscape(it)
	}
	return u
}

// DeliveryURL is the inspector's page of one delivery.
func (s *Server) DeliveryURL(id string) string { return s.InspectorURL("deliveries", id) }

// Watch opens a stream of the mock's changes (what GET /_mock/stream
// sends), closed when the test ends.
func (s *Server) Watch(w ops.Watch) *ops.Stream {
	s.helper()
	st, err := s.Ops().OpenStream(w)
	if err != nil {
		s.fail("watch: %v", err)
	}
	if s.tb != nil {
		s.tb.Cleanup(st.Close)
	}
	return st
}

// SinkURL is the URL of the built-in receiver name, to use as a webhook URL.
func (s *Server) SinkURL(name string) string {
	return s.URL + server.ControlPrefix + "/sink/" + name
}

// SetWebhook configures the default partner's webhook of kind
// (bullseye.KindIdentification or bullseye.KindBilling), enabled, as a PUT
// through the Partner API would.
func (s *Server) SetWebhook(kind, url, secret string) {
	s.helper()
	on := true
	if err := s.Ops().SetWebhook(s.PartnerID, kind, ops.Webhook{URL: &url, Secret: &secret, Enabled: &on}); err != nil {
		s.fail("set the %s webhook: %v", kind, err)
	}
}

// Trigger sends count events of eventType to the default partner and
// returns the delivery ids.
func (s *Server) Trigger(eventType string, count int) []string {
	s.helper()
	return s.Emit(ops.Send{Type: eventType, Count: ops.N(count)})
}

// Emit sends the events r asks for (to the default partner when r names
// none), with every option of POST /_mock/events, and returns the ids.
func (s *Server) Emit(r ops.Send) []string {
	s.helper()
	if r.APIKey == "" && r.PartnerID == "" {
		r.PartnerID = s.PartnerID
	}
	out, err := s.Ops().Emit(r)
	if err != nil {
		s.fail("emit %s: %v", r.Type, err)
	}
	return out.DeliveryIDs
}

// Wait blocks until the delivery meets c (the zero Condition: a final
// state) and returns it. It waits on the sender's events, never by
// polling; after DefaultWait it fails.
func (s *Server) Wait(id string, c ops.Condition) sender.DeliveryInfo {
	s.helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	d, timedOut, err := s.Ops().Wait(ctx, id, c)
	if err != nil || timedOut {
		s.fail("wait for delivery %s: %v (timed out %t, state %q, %d attempts); see %s", id, err, timedOut, d.State, len(d.Attempts), s.DeliveryURL(id))
	}
	return d
}

// Settle waits until the sender has made every attempt the current mock
// time allows. On a manual clock, that is everything until someone moves it.
func (s *Server) Settle() {
	s.helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	if err := s.Ops().Idle(ctx); err != nil {
		s.fail("settle: %v", err)
	}
}

// Advance moves the manual clock by d, making every attempt due on the way
// in order, as if the time had passed, and returns the new time.
func (s *Server) Advance(d time.Duration) time.Time {
	s.helper()
	return s.advance(ops.Advance{By: ops.D(d)}).Now
}

// AdvanceToNextDue moves the manual clock to the next scheduled attempt
// and lets it happen; it reports false (and does not move) when nothing
// is scheduled.
func (s *Server) AdvanceToNextDue() bool {
	s.helper()
	s.Settle()
	if _, ok := s.Ops().NextDue(); !ok {
		return false
	}
	s.advance(ops.Advance{ToNextDue: true})
	return true
}

func (s *Server) advance(a ops.Advance) ops.Advanced {
	s.helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	out, err := s.Ops().AdvanceClock(ctx, a)
	if err != nil {
		s.fail("move the clock: %v", err)
	}
	if !out.Idle {
		s.fail("the sender did not settle within %s after moving the clock", DefaultWait)
	}
	return out
}

// ConfigureSink sets up the built-in receiver name: the secret it verifies
// signatures with, the statuses it answers, a delay.
func (s *Server) ConfigureSink(name string, cfg server.SinkConfig) {
	s.helper()
	if _, err := s.mock.Server().ConfigureSink(name, cfg); err != nil {
		s.fail("configure sink %s: %v", name, err)
	}
}

// SinkRequests returns what the built-in receiver name recorded, oldest
// first (nil when it has received nothing yet).
func (s *Server) SinkRequests(name string) []server.SinkRequest {
	reqs, _ := s.mock.Server().SinkRequests(name)
	return reqs
}

// Traffic is the load report of every attempt since the mock started or
// was reset, judged against th when it sets a threshold.
func (s *Server) Traffic(th ops.Thresholds) traffic.Report {
	s.helper()
	r, err := s.Ops().Traffic(th)
	if err != nil {
		s.fail("traffic: %v", err)
	}
	return r
}
