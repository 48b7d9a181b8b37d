package scenarios_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

func mustParse(t *testing.T, src string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Cron ticks happen at the schedule's mock times, on the manual clock,
// without sleeping: the runner moves the clock from tick to tick.
func TestEveryTicksOnSchedule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(acceptAll))
	defer srv.Close()
	m, err := mock.New(mock.Config{Addr: "127.0.0.1:0", Clock: clock.NewManual(scenarios.StartTime())})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	s := mustParse(t, `
steps:
  - every:
      schedule: "*/20 * * * * *"
      count: 3
      steps: [{send: {type: visitor.identified}}]
  - wait: 5s
  - every:
      schedule: "@every 1m"
      for: 2m
      steps: [{send: {type: credits.low}}]
  - wait: settled
`)
	rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key, URL: srv.URL})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
	infos, _, _ := m.Ops().Deliveries(ops.Query{PageSize: 100})
	var got []string
	for _, i := range infos {
		got = append(got, i.EventType+"@"+i.Attempts[0].AttemptedAt.Sub(scenarios.StartTime()).String())
	}
	sort.Strings(got)
	want := "credits.low@2m5s credits.low@3m5s visitor.identified@1m0s visitor.identified@20s visitor.identified@40s"
	if strings.Join(got, " ") != want {
		t.Errorf("first attempts %v, want %s", got, want)
	}
}

func TestRunRejectsUnboundedEvery(t *testing.T) {
	s := mustParse(t, "steps: [{every: {schedule: '@every 1s', steps: [{wait: 1s}]}}]")
	_, err := mock.RunScenario(context.Background(), s, scenarios.Options{})
	if err == nil || !strings.Contains(err.Error(), "never ends") {
		t.Errorf("err %v", err)
	}
}

// A run can be cancelled in the middle of a long real-time wait.
func TestRunCancelled(t *testing.T) {
	s := mustParse(t, "clock: real\nsteps: [{wait: 1h}]")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := mock.RunScenario(ctx, s, scenarios.Options{})
	if err == nil || rep == nil || rep.Passed {
		t.Errorf("%v %+v", err, rep)
	}
}

// Scaled clocks wait in real time, divided by the factor.
func TestRunScaled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(acceptAll))
	defer srv.Close()
	s := mustParse(t, `
clock: {scaled: 6000}
steps:
  - send: {type: visitor.identified, count: 2, rate: 1/m}
  - wait: settled
  - expect: {states: {delivered: 2}}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := mock.RunScenario(ctx, s, scenarios.Options{URL: srv.URL})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestExpectNamesMissingDeliveries(t *testing.T) {
	s := mustParse(t, "steps: [{expect: {deliveries: [2], state: delivered, duplicates: 2xx, faults: {missing: 4xx}}}]")
	rep, err := mock.RunScenario(context.Background(), s, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "delivery 2 does not exist: 0 sent so far; no delivery with fault missing to check; no duplicate delivery to check"
	if rep.Passed || rep.Expects[0].Message != want {
		t.Errorf("%+v, want %s", rep.Expects, want)
	}
}

// A webhook step changes where the next attempt goes; the new secret
// signs deliveries created afterwards only.
func TestWebhookStepChangesURLAndSecret(t *testing.T) {
	first := httptest.NewServer(http.HandlerFunc(down))
	defer first.Close()
	second := httptest.NewServer(http.HandlerFunc(acceptAll))
	defer second.Close()
	s := mustParse(t, `
webhooks:
  identification: {url: "`+first.URL+`", secret: old}
steps:
  - send: {type: visitor.identified}
  - wait: 10s
  - webhook: {url: "`+second.URL+`", secret: new}
  - wait: settled
  - expect: {state: delivered, statuses: [503, 200], offsets: [0s, 1m]}
  - send: {type: visitor.identified}
  - wait: settled
  - expect: {deliveries: [2], state: delivered, attempts: 1}
`)
	m, err := mock.New(mock.Config{Addr: "127.0.0.1:0", Clock: clock.NewManual(scenarios.StartTime())})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
	infos, _, _ := m.Ops().Deliveries(ops.Query{PageSize: 10})
	for _, listed := range infos {
		i, err := m.Ops().Delivery(listed.ID) // a list carries no payloads
		if err != nil {
			t.Fatal(err)
		}
		want := bullseye.Sign("new", i.Body)
		if i.ID == infos[len(infos)-1].ID { // the oldest: created under the old secret
			want = bullseye.Sign("old", i.Body)
		}
		if got := i.Attempts[len(i.Attempts)-1].RequestHeaders.Get(bullseye.SignatureHeader); got != want {
			t.Errorf("delivery %s signed %s, want %s", i.ID, got, want)
		}
	}
}

func TestParseJSONWithTabs(t *testing.T) {
	s, err := scenarios.Parse("t.json", []byte("{\n\t\"name\": \"tabs\",\n\t\"steps\": [\n\t\t{\"wait\": \"settled\"}\n\t]\n}\n"))
	if err != nil || s.Name != "tabs" {
		t.Fatalf("%v %+v", err, s)
	}
}

// startMock starts a mock for a test and closes it at the end.
func startMock(tb testing.TB, cfg mock.Config) *mock.Mock {
	tb.Helper()
	cfg.Addr = "127.0.0.1:0"
	m, err := mock.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	})
	return m
}

// othersPending gives the mock's second partner two deliveries that stay
// pending for the whole test: one in flight to a receiver that does not
// answer, one due 1000 hours from now. It returns their ids.
func othersPending(t *testing.T, m *mock.Mock, hangingURL string) []string {
	t.Helper()
	o := m.Ops()
	other := m.Partners()[1].ID
	on := true
	if err := o.SetWebhook(other, bullseye.KindIdentification, ops.Webhook{URL: &hangingURL, Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	inFlight, err := o.Emit(ops.Send{PartnerID: other, Type: "visitor.identified"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, timedOut, err := o.Wait(ctx, inFlight.DeliveryIDs[0], ops.Condition{States: []string{bullseye.StateInFlight}}); err != nil || timedOut {
		t.Fatalf("the other partner's delivery never went out: %v", err)
	}
	at := m.Config().Clock.Now().Add(1000 * time.Hour)
	later, err := o.Emit(ops.Send{PartnerID: other, Type: "visitor.identified", At: &at})
	if err != nil {
		t.Fatal(err)
	}
	return append(inFlight.DeliveryIDs, later.DeliveryIDs...)
}

func wantPending(t *testing.T, m *mock.Mock, ids []string) {
	t.Helper()
	for _, id := range ids {
		if info, err := m.Ops().Delivery(id); err != nil || info.Final() {
			t.Errorf("the other partner's delivery %s is %s: the run moved it along", id, info.State)
		}
	}
}

// wait: settled waits for the run's own deliveries only. Under the manual
// clock it moves the clock to the run's own retries and no further: not
// into another partner's schedule, and not to another receiver's timeout.
func TestSettledWaitsForTheRunsOwnDeliveriesOnly(t *testing.T) {
	var calls atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	release := make(chan struct{})
	other := httptest.NewServer(hanging(release))
	defer other.Close()
	defer close(release)

	clk := clock.NewManual(scenarios.StartTime())
	m := startMock(t, mock.Config{Clock: clk, APIKeys: []string{"key-run", "key-other"}})
	others := othersPending(t, m, other.URL)
	s := mustParse(t, `
steps:
  - send: {type: visitor.identified}
  - wait: settled
  - expect: {state: delivered, statuses: [503, 200], offsets: [0s, 1m]}
`)
	// A long grace: the old runner waited for the other receiver to answer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := scenarios.Run(ctx, m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key, URL: recv.URL, Grace: time.Hour})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
	if got := clk.Now().Sub(scenarios.StartTime()); got != time.Minute {
		t.Errorf("the run moved the clock %s, want 1m (its own retry)", got)
	}
	wantPending(t, m, others)
}

// The same under a scaled clock, and under a manual one the run leaves to
// others: the run waits for its own deliveries, not for the sender to be
// empty.
func TestSettledScaledWaitsForTheRunsOwnDeliveriesOnly(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(acceptAll))
	defer recv.Close()
	for _, tc := range []struct {
		name  string
		clk   clock.Clock
		scale float64
	}{
		{"scaled", clock.Scaled(600), 600},
		{"leaveClock", clock.NewManual(scenarios.StartTime()), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			other := httptest.NewServer(hanging(release))
			t.Cleanup(other.Close)
			m := startMock(t, mock.Config{Clock: tc.clk, TimeScale: tc.scale, APIKeys: []string{"key-run", "key-other"}})
			t.Cleanup(func() { close(release) }) // before the mock's Close, which waits for attempts
			others := othersPending(t, m, other.URL)
			s := mustParse(t, `
steps:
  - send: {type: visitor.identified, count: 3}
  - wait: settled
  - expect: {states: {delivered: 3}}
`)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rep, err := scenarios.Run(ctx, m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key, URL: recv.URL, LeaveClock: true})
			if err != nil || !rep.Passed {
				t.Fatalf("%v %+v", err, rep)
			}
			wantPending(t, m, others)
		})
	}
}

// A run whose setup fails is an error, not a failed run.
func TestRunSetupErrorIsAnError(t *testing.T) {
	m := startMock(t, mock.Config{Clock: clock.NewManual(scenarios.StartTime())})
	rep, err := scenarios.Run(context.Background(), m.Ops(), mustParse(t, "steps: [{wait: settled}]"), scenarios.Options{})
	if err == nil || !strings.Contains(err.Error(), "no partner") {
		t.Fatalf("err = %v, want the setup's", err)
	}
	if rep == nil || rep.Passed || rep.Error != err.Error() {
		t.Errorf("report = %+v", rep)
	}
}

// The same file run twice on one mock acts on the same organization: the
// second run finds the external_id the first added.
func TestRunTwiceReusesOrganization(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(acceptAll))
	defer recv.Close()
	m := startMock(t, mock.Config{Clock: clock.NewManual(scenarios.StartTime())})
	s := mustParse(t, `
organizations:
  - {name: Acme, external_id: acme-1, credits: 7}
steps:
  - send: {type: visitor.identified, organization: acme-1}
  - send: {type: visitor.identified, organization: Acme}
  - wait: settled
  - expect: {states: {delivered: 2}}
`)
	for i := range 2 {
		rep, err := scenarios.Run(context.Background(), m.Ops(), s, scenarios.Options{APIKey: m.Partners()[0].Key, URL: recv.URL})
		if err != nil || !rep.Passed {
			t.Fatalf("run %d: %v %+v", i+1, err, rep)
		}
	}
	partner := m.Partners()[0].ID
	orgs := m.Partners()[0].OrganizationIDs
	if len(orgs) != 4 {
		t.Fatalf("%d organizations, want 3 seeded and Acme once", len(orgs))
	}
	acme := orgs[3]
	infos, _, _ := m.Ops().Deliveries(ops.Query{PartnerID: partner, PageSize: 10})
	if len(infos) != 4 {
		t.Fatalf("%d deliveries, want 4", len(infos))
	}
	for _, i := range infos {
		if i.OrganizationID != acme {
			t.Errorf("delivery %s went to organization %s, want %s", i.ID, i.OrganizationID, acme)
		}
	}
}

// A traffic expectation judges the run's own attempts and says which
// threshold failed; the run's report carries the traffic summary.
func TestExpectTraffic(t *testing.T) {
	s := mustParse(t, `
clock: manual
retry: {attempts: 1}
receiver: {statuses: [200, 503]}
webhooks: {identification: {url: "http://127.0.0.1:9/", secret: s}}
steps:
  - send: {type: visitor.identified, count: 4, rate: 10/s}
  - wait: settled
  - expect: {traffic: {minSuccess: 0.2, maxP99: 1s, minRate: 0.99}}
  - expect: {traffic: {minSuccess: 0.5}}
`)
	rep, err := mock.RunScenario(context.Background(), s, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Expects[0].Held || rep.Expects[1].Held || rep.Expects[1].Message != "traffic: success is 0.25, want >= 0.5" {
		t.Errorf("outcomes %+v", rep.Expects)
	}
	if tr := rep.Traffic; tr == nil || tr.Requests != 4 || tr.FirstAttempts.Rate != 10 || tr.Pass == nil || *tr.Pass {
		t.Errorf("traffic in the report: %+v", tr)
	}
}

// A send step for a webhook with no URL stops the run at the step's
// file:line:col, saying what to mend; evenIfDisabled asks for the cancel.
func TestSendForAWebhookWithoutURL(t *testing.T) {
	m := startMock(t, mock.Config{Clock: clock.NewManual(scenarios.StartTime())})
	opts := scenarios.Options{APIKey: m.Partners()[0].Key}
	rep, err := scenarios.Run(context.Background(), m.Ops(), mustParse(t, "steps:\n  - send: {type: visitor.identified}\n"), opts)
	if err != nil || rep.Passed || !strings.HasPrefix(rep.Error, "t.yaml:2:5: the identification webhook has no url") {
		t.Errorf("%v, %+v", err, rep)
	}
	src := "steps:\n  - send: {type: visitor.identified, evenIfDisabled: true}\n  - wait: settled\n  - expect: {state: canceled, attempts: 1}\n"
	if rep, err := scenarios.Run(context.Background(), m.Ops(), mustParse(t, src), opts); err != nil || !rep.Passed || rep.Deliveries != 1 {
		t.Errorf("evenIfDisabled: %v, %+v", err, rep)
	}
}
