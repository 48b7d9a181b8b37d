package scenarios_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/scenarios/standalone"
	"github.com/bullseye-mock/bullseye-mock/sender"
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
	rep, err := scenarios.RunOn(context.Background(), standalone.Env(m), s, scenarios.Options{URL: srv.URL})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
	infos, _ := m.Sender.Deliveries(sender.DeliveryQuery{PageSize: 100})
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
	_, err := standalone.Run(context.Background(), s, scenarios.Options{})
	if err == nil || !strings.Contains(err.Error(), "never ends") {
		t.Errorf("err %v", err)
	}
}

// A run can be cancelled in the middle of a long real-time wait.
func TestRunCancelled(t *testing.T) {
	s := mustParse(t, "clock: real\nsteps: [{wait: 1h}]")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := standalone.Run(ctx, s, scenarios.Options{})
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
	rep, err := standalone.Run(ctx, s, scenarios.Options{URL: srv.URL})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestExpectNamesMissingDeliveries(t *testing.T) {
	s := mustParse(t, "steps: [{expect: {deliveries: [2], state: delivered, duplicates: 2xx, faults: {missing: 4xx}}}]")
	rep, err := standalone.Run(context.Background(), s, scenarios.Options{})
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
	rep, err := scenarios.RunOn(context.Background(), standalone.Env(m), s, scenarios.Options{})
	if err != nil || !rep.Passed {
		t.Fatalf("%v %+v", err, rep)
	}
	infos, _ := m.Sender.Deliveries(sender.DeliveryQuery{PageSize: 10})
	for _, i := range infos {
		want := sender.Sign("new", i.Body)
		if i.ID == infos[len(infos)-1].ID { // the oldest: created under the old secret
			want = sender.Sign("old", i.Body)
		}
		if got := i.Attempts[len(i.Attempts)-1].RequestHeaders.Get(sender.SignatureHeader); got != want {
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
