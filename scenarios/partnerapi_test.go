package scenarios_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// signal is a slog handler that closes a channel when a message is logged:
// the test's app starts when the scenario has put its fault in force,
// without polling.
type signal struct {
	msg  string
	done chan struct{}
}

func (s *signal) Enabled(context.Context, slog.Level) bool { return true }
func (s *signal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == s.msg {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	return nil
}
func (s *signal) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *signal) WithGroup(string) slog.Handler      { return s }

// app is the app under test: it registers its webhook, retrying a 5xx.
func app(base, key string) error {
	for range 5 {
		req, _ := http.NewRequest("PUT", base+"/api/v1/partner/webhooks/identification",
			strings.NewReader(`{"url":"https://app.example/hooks","secret":"whsec_app","enabled":true}`))
		req.Header.Set("X-Partner-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 500 {
			return nil
		}
	}
	return errors.New("gave up")
}

// served starts a mock on a manual clock with its Partner API listening.
func served(t *testing.T, keys ...string) *mock.Mock {
	t.Helper()
	m, err := mock.New(mock.Config{Clock: clock.NewManual(scenarios.StartTime()), APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = m.Close(context.Background()) })
	return m
}

func TestScenarioTestsTheAppsPartnerAPICalls(t *testing.T) {
	m := served(t, "key-app")
	s := mustParse(t, `
partner:
  apiKey: key-app
  keys: [{apiKey: key-reader, scopes: [read]}]
steps:
  - apiFault: {method: PUT, path: /api/v1/partner/webhooks/*, status: 503, times: 1}
  - wait:
      requests: {method: PUT, path: /api/v1/partner/webhooks/identification, status: 2xx}
      timeout: 30s
  - expect:
      requests:
        - {method: PUT, path: /api/v1/partner/webhooks/identification, status: 503, count: 1}
        - {method: PUT, path: /api/v1/partner/webhooks/identification, body: {enabled: true}, has: [secret, url], status: 200, count: 1}
        - {method: PUT, atLeast: 2}
  - expect:
      requests:
        - {method: GET, path: /api/v1/partner/webhooks, atLeast: 1}
        - {method: PUT, path: /api/v1/partner/webhooks/identification, body: {enabled: false}}
  - revokeKey: key-reader
`)
	sig := &signal{msg: "Partner API fault", done: make(chan struct{})}
	appErr := make(chan error, 1)
	go func() {
		<-sig.done
		appErr <- app(m.URL(), "key-app")
	}()
	rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{Logger: slog.New(sig)})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-appErr; err != nil {
		t.Fatal(err)
	}
	if len(rep.Expects) != 2 {
		t.Fatalf("outcomes = %+v", rep.Expects)
	}
	if !rep.Expects[0].Held {
		t.Errorf("the app's retry was not seen: %s", rep.Expects[0].Message)
	}
	// What did not happen is reported with what did.
	msg := rep.Expects[1].Message
	for _, want := range []string{
		"expected at least 1 request GET /api/v1/partner/webhooks: saw 0; none with that method and path; the journal has PUT /api/v1/partner/webhooks/identification (2)",
		`with a body containing {"enabled":false}: saw 0; 2 with that method and path: #2 answered 200, body {"url"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	if rep.Passed {
		t.Error("a run with a failed expectation passed")
	}
	keys := m.Ops().Keys()
	if len(keys) != 1 || keys[0].Key != "key-app" {
		t.Errorf("after revokeKey the keys are %v", keys)
	}
}

func TestWaitForRequestsTimesOutAsAFailure(t *testing.T) {
	m := served(t)
	s := mustParse(t, `
steps:
  - wait: {requests: {method: POST, path: /api/v1/partner/organizations}, count: 2, timeout: 1ms}
`)
	rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Expects) != 1 || !strings.Contains(rep.Expects[0].Message, "waited 1ms for at least 2 requests POST /api/v1/partner/organizations: saw 0; the journal is empty") {
		t.Errorf("report = %+v", rep)
	}
}

func TestPartnerAPIStepsParseErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"fault without action", "steps:\n  - apiFault: {path: /api/v1/x}\n", "t.yaml:2:15: a fault needs status, close or latency"},
		{"fault bad status", "steps:\n  - apiFault: {path: /api/v1/x, status: 200}\n", "t.yaml:2:41: status must be from 400 to 599, got 200"},
		{"fault outside api", "steps:\n  - apiFault: {path: /x, status: 500}\n", `t.yaml:2:22: path must be a Partner API path under /api/v1/, got "/x"`},
		{"fault unknown key", "steps:\n  - apiFault: {path: /api/v1/x, status: 500, tiems: 2}\n", `t.yaml:2:46: unknown key "tiems" in apiFault, did you mean "times"?`},
		{"empty revoke", "steps:\n  - revokeKey: \"\"\n", "t.yaml:2:16: revokeKey is empty"},
		{"bad scope", "partner:\n  keys: [{apiKey: k, scopes: [root]}]\nsteps:\n  - wait: 1s\n", `t.yaml:2:31: unknown scope "root", expected one of read, write, admin`},
		{"key without apiKey", "partner:\n  keys: [{scopes: [read]}]\nsteps:\n  - wait: 1s\n", "t.yaml:2:10: a key needs apiKey"},
		{"wait without requests", "steps:\n  - wait: {count: 2}\n", "t.yaml:2:11: wait has no requests"},
		{"wait bad timeout", "steps:\n  - wait: {requests: {method: GET}, timeout: 10m}\n", `t.yaml:2:46: timeout must be a Go duration from 1ns to 5m0s, such as 5s, got "10m"`},
		{"expect both counts", "steps:\n  - expect: {requests: [{method: GET, count: 1, atLeast: 1}]}\n", "count and atLeast exclude each other"},
		{"expect bad status", "steps:\n  - expect: {requests: [{status: 6xx}]}\n", "status must be a code from 100 to 599"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenarios.Parse("t.yaml", []byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

// The run command's mock has no listener: a file that tests the app's
// Partner API calls is refused at the step, not left to time out.
func TestRunRefusesPartnerAPIStepsHeadless(t *testing.T) {
	s := mustParse(t, "steps:\n  - send: {type: credits.low}\n  - apiFault: {path: /api/v1/**, status: 500}\n")
	_, err := mock.RunScenario(context.Background(), s, scenarios.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:3:5: apiFault tests the app's Partner API requests") {
		t.Errorf("err = %v", err)
	}
}

// A step that alone creates more pending deliveries (or bytes) than the
// mock holds, or sends at one instant that together do, is refused at its
// line before anything runs; what builds up over many ticks is bounded at
// run time instead.
func TestCheckBudget(t *testing.T) {
	b := ops.Budget{Deliveries: 10, Bytes: 1 << 20}
	for _, c := range []struct {
		src  string
		want string // "" passes
	}{
		{"steps:\n  - send: {type: credits.low, count: 5}\n", ""},
		{"steps:\n  - send: {type: credits.low, count: 6, faults: [{duplicate: concurrent}]}\n", "t.yaml:2:5: this step creates 12 pending deliveries, more than the 10 the mock holds (--max-pending) at once"},
		{"steps:\n  - send: {type: credits.low, count: 5}\n  - send: {type: credits.low, count: 6}\n", "t.yaml:2:5: these steps create 11 pending deliveries"},
		{"steps:\n  - send: {type: credits.low, count: 5}\n  - wait: settled\n  - send: {type: credits.low, count: 6}\n", ""},
		{"steps:\n  - send: {type: credits.low, count: 2, overrides: {x: \"" + strings.Repeat("y", 600<<10) + "\"}}\n", "more than the 1048576 the mock holds (--max-pending-bytes)"},
		{"steps:\n  - every:\n      schedule: \"@every 1s\"\n      count: 100000\n      steps: [{send: {type: credits.low, count: 10}}]\n", ""},
		{"steps:\n  - every:\n      schedule: \"@every 1s\"\n      for: 720h\n      steps: [{send: {type: credits.low}}]\n", ""},
		{"steps:\n  - every:\n      schedule: \"@every 1s\"\n      count: 2\n      steps: [{send: {type: credits.low, count: 100000}}]\n", "t.yaml:5:15: this step creates 100000 pending deliveries"},
	} {
		err := scenarios.CheckBudget(mustParse(t, c.src), b)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%.80q: %v, want %q", c.src, err, c.want)
		}
	}
}

// arrival fails, saying which came first, when the receiver saw another order.
func TestArrivalOrder(t *testing.T) {
	m := served(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	s := mustParse(t, "steps:\n  - send: {type: visitor.identified, count: 3, rate: 1/m}\n  - wait: settled\n  - expect: {arrival: [1, 2, 3]}\n  - expect: {arrival: [3, 1]}\n")
	rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Expects[0].Held || rep.Expects[1].Held || !strings.Contains(rep.Expects[1].Message, "arrival: delivery 1 came at") {
		t.Errorf("outcomes %+v", rep.Expects)
	}
}
