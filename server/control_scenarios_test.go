package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/server"
)

func TestControlScenarioRuns(t *testing.T) {
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/sc", `{"statuses": [500, 500, 200]}`)
	file := `name: flaky sink
webhooks:
  identification:
    url: ` + h.url + `/_mock/sink/sc
    secret: whsec_sc
steps:
  - send:
      type: visitor.identified
  - wait: settled
  - expect:
      state: delivered
      statuses: [500, 500, 200]
      offsets: [0s, 1m, 6m]
`
	run := h.must(t, http.StatusAccepted, "POST", "/_mock/scenarios/runs?file=flaky.yaml", file)
	id, _ := run["id"].(string)
	if id == "" || run["state"] != "running" || run["file"] != "flaky.yaml" {
		t.Fatalf("start = %v", run)
	}
	// The run moves the manual clock itself, so the whole schedule passes.
	v := h.must(t, 200, "GET", "/_mock/scenarios/runs/"+id+"/wait?timeout=20s", "")
	got := v["run"].(map[string]any)
	if v["timedOut"] != false || got["state"] != "passed" {
		t.Fatalf("run = %v", v)
	}
	if rep, _ := got["report"].(map[string]any); rep == nil || rep["passed"] != true {
		t.Errorf("report = %v", got["report"])
	}
	if n := h.must(t, 200, "GET", "/_mock/sink/sc", "")["received"]; n != 3.0 {
		t.Errorf("sink received %v requests, want 3", n)
	}
	list := h.must(t, 200, "GET", "/_mock/scenarios/runs", "")["runs"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("runs = %v", list)
	}

	// A failed expectation is a finished run that failed, not an error.
	h.must(t, 200, "PUT", "/_mock/sink/sc", `{"statuses": [200]}`)
	run = h.must(t, http.StatusAccepted, "POST", "/_mock/scenarios/runs", file)
	v = h.must(t, 200, "GET", "/_mock/scenarios/runs/"+run["id"].(string)+"/wait?timeout=20s", "")
	if st := v["run"].(map[string]any)["state"]; st != "failed" {
		t.Errorf("second run = %v, want failed", v)
	}

	// Bad files are refused at once, naming the line; nothing runs.
	r := h.call(t, "POST", "/_mock/scenarios/runs?file=bad.yaml", "name: x\nsteps:\n  - sned: {}\n")
	wantError(t, r, 400, "BadRequest", "bad.yaml:3")
	wantError(t, h.call(t, "POST", "/_mock/scenarios/runs", ""), 400, "BadRequest", "body is empty")
	wantError(t, h.call(t, "POST", "/_mock/scenarios/runs?leaveClock=maybe", file), 400, "BadRequest", "leaveClock")
	wantError(t, h.call(t, "GET", "/_mock/scenarios/runs/run-99", ""), 404, "NotFound", `no scenario run "run-99"`)
	if n := len(h.must(t, 200, "GET", "/_mock/scenarios/runs", "")["runs"].([]any)); n != 2 {
		t.Errorf("%d runs after bad uploads, want 2", n)
	}

	// leaveClock: the run waits for someone to move the clock; the wait
	// times out with the run still going.
	h.must(t, 200, "PUT", "/_mock/sink/sc", `{"statuses": [500, 200]}`)
	run = h.must(t, http.StatusAccepted, "POST", "/_mock/scenarios/runs?leaveClock=true",
		strings.Replace(strings.Replace(file, "[500, 500, 200]", "[500, 200]", 1), "[0s, 1m, 6m]", "[0s, 1m]", 1))
	wait := "/_mock/scenarios/runs/" + run["id"].(string) + "/wait"
	v = h.must(t, 200, "GET", wait+"?timeout=50ms", "")
	if v["timedOut"] != true || v["run"].(map[string]any)["state"] != "running" {
		t.Fatalf("run with leaveClock = %v, want still running", v)
	}
	// Move the clock only once the run's event has had its first attempt,
	// so the retry falls inside the move.
	if v := h.must(t, 200, "GET", "/_mock/sink/sc/requests?atLeast=1&timeout=10s", ""); v["timedOut"] != false {
		t.Fatalf("the run never sent: %v", v)
	}
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "1m"}`)
	v = h.must(t, 200, "GET", wait+"?timeout=20s", "")
	if got := v["run"].(map[string]any); v["timedOut"] != false || got["state"] != "passed" {
		t.Errorf("run after the clock moved = %v", v)
	}
}

// stubRuns serves the control API with a scenario runner whose runs do
// nothing but wait: run "f" ends when release("f") is called, or, once
// cancelled, when release("f") is called too (a run slow to notice).
type stubRuns struct {
	srv     *server.Server
	h       *harness
	started chan string
	mu      sync.Mutex
	release map[string]chan struct{}
	ended   atomic.Int32
}

func newStubRuns(t *testing.T) *stubRuns {
	t.Helper()
	m := newHarness(t, nil).m // the store, sender and clock behind the stub's server
	sr := &stubRuns{started: make(chan string, 2*server.MaxRunningScenarios), release: map[string]chan struct{}{}}
	sr.srv = server.New(server.Config{
		Store: m.Store, Events: m.Events, Logs: m.Sender, Fixtures: m.Fixtures, Clock: m.Config().Clock,
		Deliveries: m.Sender, Scenarios: sr.runner,
	})
	ts := httptest.NewServer(sr.srv)
	t.Cleanup(func() {
		sr.srv.StopScenarios()
		sr.mu.Lock()
		for _, ch := range sr.release {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
		sr.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sr.srv.WaitScenarioRuns(ctx); err != nil {
			t.Error(err)
		}
		ts.Close()
	})
	sr.h = &harness{url: ts.URL}
	return sr
}

func (sr *stubRuns) ch(file string) chan struct{} {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.release[file] == nil {
		sr.release[file] = make(chan struct{})
	}
	return sr.release[file]
}

func (sr *stubRuns) runner(file string, _ []byte, _ bool) (server.ScenarioRun, error) {
	release := sr.ch(file)
	return func(ctx context.Context) (any, bool, error) {
		defer sr.ended.Add(1)
		sr.started <- file
		<-release
		return map[string]any{"file": file}, true, ctx.Err()
	}, nil
}

func (sr *stubRuns) start(t *testing.T, file string) reply {
	t.Helper()
	return sr.h.call(t, "POST", "/_mock/scenarios/runs?file="+file, "steps: []")
}

// The mock's Close waits for the scenario runs: once WaitScenarioRuns
// returns, no run is left to call the sender. A cancelled run that has not
// ended yet keeps it waiting.
func TestWaitScenarioRunsWaitsForRuns(t *testing.T) {
	sr := newStubRuns(t)
	if r := sr.start(t, "slow.yaml"); r.status != http.StatusAccepted {
		t.Fatalf("start = %d %s", r.status, r.body)
	}
	<-sr.started
	sr.srv.StopScenarios()
	wantError(t, sr.start(t, "late.yaml"), http.StatusConflict, "Conflict", "shutting down")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sr.srv.WaitScenarioRuns(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitScenarioRuns with a run still going = %v, want context.Canceled", err)
	}
	if n := sr.ended.Load(); n != 0 {
		t.Fatalf("%d runs ended before their release", n)
	}
	close(sr.ch("slow.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sr.srv.WaitScenarioRuns(ctx); err != nil {
		t.Fatal(err)
	}
	if n := sr.ended.Load(); n != 1 {
		t.Errorf("WaitScenarioRuns returned with %d of 1 runs ended", n)
	}
	v := sr.h.must(t, 200, "GET", "/_mock/scenarios/runs/run-1", "")
	if v["state"] != "error" || !strings.Contains(v["error"].(string), "canceled") {
		t.Errorf("cancelled run = %v", v)
	}
}

// At most MaxRunningScenarios run at once; the next start is a 409 until
// one ends.
func TestScenarioRunsCapped(t *testing.T) {
	sr := newStubRuns(t)
	for i := range server.MaxRunningScenarios {
		if r := sr.start(t, fmt.Sprintf("f%d.yaml", i+1)); r.status != http.StatusAccepted {
			t.Fatalf("start %d = %d %s", i+1, r.status, r.body)
		}
	}
	r := sr.start(t, "one-too-many.yaml")
	wantError(t, r, http.StatusConflict, "Conflict", fmt.Sprintf("%d scenario runs are running", server.MaxRunningScenarios))
	if d := r.obj(t)["details"].(map[string]any); d["limit"] != float64(server.MaxRunningScenarios) {
		t.Errorf("details = %v", d)
	}
	close(sr.ch("f1.yaml"))
	v := sr.h.must(t, 200, "GET", "/_mock/scenarios/runs/run-1/wait?timeout=10s", "")
	if got := v["run"].(map[string]any); v["timedOut"] != false || got["state"] != "passed" {
		t.Fatalf("run-1 = %v", v)
	}
	if r := sr.start(t, "next.yaml"); r.status != http.StatusAccepted {
		t.Errorf("start after a run ended = %d %s", r.status, r.body)
	}
	if n := len(sr.h.must(t, 200, "GET", "/_mock/scenarios/runs", "")["runs"].([]any)); n != server.MaxRunningScenarios+1 {
		t.Errorf("%d runs listed, want %d (the refused one is not a run)", n, server.MaxRunningScenarios+1)
	}
}

// Uploading the same file twice, with an organization's external_id, runs
// twice on the same organization (it was a Conflict, and a failed run).
func TestControlScenarioRunTwiceSameOrganization(t *testing.T) {
	h := newHarness(t, nil)
	file := `name: twice
organizations:
  - {name: Acme, external_id: acme-twice}
webhooks:
  identification: {url: "` + h.url + `/_mock/sink/twice", secret: whsec_t}
steps:
  - send: {type: visitor.identified, organization: acme-twice}
  - wait: settled
  - expect: {state: delivered}
`
	for i := range 2 {
		run := h.must(t, http.StatusAccepted, "POST", "/_mock/scenarios/runs", file)
		v := h.must(t, 200, "GET", "/_mock/scenarios/runs/"+run["id"].(string)+"/wait?timeout=20s", "")
		if got := v["run"].(map[string]any); got["state"] != "passed" {
			t.Fatalf("run %d = %v", i+1, v)
		}
	}
	if n := h.must(t, 200, "GET", "/api/v1/partner/organizations?externalId=acme-twice", "")["total"]; n != 1.0 {
		t.Errorf("%v organizations with externalId acme-twice, want 1", n)
	}
}
