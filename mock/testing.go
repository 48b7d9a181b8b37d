package mock

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/server"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// TestStart is where the clock of a test server starts: the vendor's
// example timestamp, so payload times are the same on every run.
func TestStart() time.Time { return fixtures.ExampleTime() }

// DefaultTestWait bounds every wait of a TestServer in real time, so a
// delivery that never comes fails the test instead of hanging it.
const DefaultTestWait = 10 * time.Second

// TestServer is a mock running inside a Go test, in the spirit of
// net/http/httptest.Server: it listens on a free loopback port, runs on a
// manual clock by default, and has helpers to trigger events, wait for
// deliveries and move time.
//
// Its helpers fail the test through tb (so call them from the test's
// goroutine); a TestServer made by StartServer, which has no tb, panics
// instead, which suits examples and TestMain.
type TestServer struct {
	*Mock
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// APIKey is the first partner's key, for X-Partner-API-Key.
	APIKey string
	// PartnerID is the first partner's id, the default of every helper.
	PartnerID string
	// Clock is the manual clock, or nil when WithTimeScale was given.
	Clock *clock.Manual

	tb testing.TB
}

// TestOption adjusts a test server's Config.
type TestOption func(*Config)

// WithConfig lets a test set any field of Config.
func WithConfig(f func(*Config)) TestOption { return TestOption(f) }

// WithTimeScale runs mock time scaled from real time instead of on a
// manual clock: for tests of a receiver's own timing.
func WithTimeScale(n float64) TestOption {
	return func(c *Config) { c.Clock, c.TimeScale = nil, n }
}

// WithSeed seeds the fake data and ids.
func WithSeed(seed int64) TestOption { return func(c *Config) { c.Seed = seed } }

// WithAPIKeys sets the partners' keys; the first is the default partner.
func WithAPIKeys(keys ...string) TestOption { return func(c *Config) { c.APIKeys = keys } }

// NewServer starts a mock for the test and closes it when the test ends.
func NewServer(tb testing.TB, opts ...TestOption) *TestServer {
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
// at TestStart (unless an option says otherwise). The caller closes it.
func StartServer(opts ...TestOption) (*TestServer, error) {
	manual := clock.NewManual(TestStart())
	cfg := Config{Addr: "127.0.0.1:0", Clock: manual, RateLimit: 0, ShutdownTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Start(); err != nil {
		return nil, err
	}
	s := &TestServer{Mock: m, URL: m.URL(), APIKey: m.Partners()[0].Key, PartnerID: m.Partners()[0].ID}
	s.Clock, _ = m.cfg.Clock.(*clock.Manual)
	return s, nil
}

// Close shuts the mock down; deliveries still pending are dropped.
func (s *TestServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	_, _ = s.Mock.Close(ctx)
}

func (s *TestServer) fail(format string, args ...any) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Fatalf("bullseye-mock: "+format, args...)
	}
	panic(fmt.Sprintf("bullseye-mock: "+format, args...))
}

// SinkURL is the URL of the built-in receiver name, to use as a webhook URL.
func (s *TestServer) SinkURL(name string) string {
	return s.URL + server.ControlPrefix + "/sink/" + name
}

// SetWebhook configures the default partner's webhook of kind
// (bullseye.KindIdentification or bullseye.KindBilling), enabled, as a PUT
// through the Partner API would.
func (s *TestServer) SetWebhook(kind, url, secret string) {
	if s.tb != nil {
		s.tb.Helper()
	}
	on := true
	if _, err := s.Store.UpdateWebhook(s.PartnerID, kind, store.WebhookPatch{URL: &url, Secret: &secret, Enabled: &on}); err != nil {
		s.fail("set the %s webhook: %v", kind, err)
	}
}

// Trigger sends count events of eventType to the default partner and
// returns the delivery ids.
func (s *TestServer) Trigger(eventType string, count int) []string {
	if s.tb != nil {
		s.tb.Helper()
	}
	return s.Emit(events.Request{Type: eventType, Count: count})
}

// Emit sends the events r asks for (to the default partner when r names
// none), with every option of the control API, and returns the ids.
func (s *TestServer) Emit(r events.Request) []string {
	if s.tb != nil {
		s.tb.Helper()
	}
	if r.PartnerID == "" {
		r.PartnerID = s.PartnerID
	}
	ids, err := s.Events.Emit(r)
	if err != nil {
		s.fail("emit %s: %v", r.Type, err)
	}
	return ids
}

// Wait blocks until the delivery satisfies pred (sender.IsFinal,
// sender.InState, sender.HasAttempts, or any function) and returns it.
// It waits on the sender's events, never by polling; after
// DefaultTestWait it fails.
func (s *TestServer) Wait(id string, pred func(sender.DeliveryInfo) bool) sender.DeliveryInfo {
	if s.tb != nil {
		s.tb.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTestWait)
	defer cancel()
	d, err := s.Sender.Wait(ctx, id, pred)
	if err != nil {
		cur, _ := s.Sender.Delivery(id)
		s.fail("wait for delivery %s: %v (state %q, %d attempts)", id, err, cur.State, len(cur.Attempts))
	}
	return d
}

// Settle waits until the sender has made every attempt the current mock
// time allows. On a manual clock, that is everything until someone moves it.
func (s *TestServer) Settle() {
	if s.tb != nil {
		s.tb.Helper()
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTestWait)
	defer cancel()
	if err := s.Sender.Idle(ctx); err != nil {
		s.fail("settle: %v", err)
	}
}

// Advance moves the manual clock by d, making every attempt due on the way
// in order, as if the time had passed, and returns the new time.
func (s *TestServer) Advance(d time.Duration) time.Time {
	if s.tb != nil {
		s.tb.Helper()
	}
	return s.advanceTo(func(now time.Time) time.Time { return now.Add(d) })
}

// AdvanceToNextDue moves the manual clock to the next scheduled attempt
// and lets it happen; it reports false (and does not move) when nothing
// is scheduled.
func (s *TestServer) AdvanceToNextDue() bool {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.Settle()
	due, ok := s.Sender.NextDue()
	if !ok {
		return false
	}
	s.advanceTo(func(now time.Time) time.Time {
		if due.Before(now) {
			return now
		}
		return due
	})
	return true
}

func (s *TestServer) advanceTo(target func(now time.Time) time.Time) time.Time {
	if s.tb != nil {
		s.tb.Helper()
	}
	if s.Clock == nil {
		s.fail("the clock is not manual (WithTimeScale was given), so it cannot be moved")
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTestWait)
	defer cancel()
	if !server.AdvanceTo(ctx, s.Clock, s.Sender, target(s.Clock.Now())) {
		s.fail("the sender did not settle within %s after moving the clock", DefaultTestWait)
	}
	return s.Clock.Now()
}

// ConfigureSink sets up the built-in receiver name: the secret it verifies
// signatures with, the statuses it answers, a delay.
func (s *TestServer) ConfigureSink(name string, cfg server.SinkConfig) {
	if s.tb != nil {
		s.tb.Helper()
	}
	if _, err := s.Server.ConfigureSink(name, cfg); err != nil {
		s.fail("configure sink %s: %v", name, err)
	}
}

// SinkRequests returns what the built-in receiver name recorded, oldest
// first (nil when it has received nothing yet).
func (s *TestServer) SinkRequests(name string) []server.SinkRequest {
	reqs, _ := s.Server.SinkRequests(name)
	return reqs
}
