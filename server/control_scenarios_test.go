package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/scenarios"
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

// At most scenarios.MaxRunning run at once; the next start is a 409 whose
// details name the limit. Runs that leave the clock to the caller and wait
// an hour stay running until the clock moves.
func TestScenarioRunsCapped(t *testing.T) {
	h := newHarness(t, nil)
	for i := range scenarios.MaxRunning {
		h.must(t, http.StatusAccepted, "POST", fmt.Sprintf("/_mock/scenarios/runs?leaveClock=true&file=f%d.yaml", i+1), "steps: [{wait: 1h}]")
	}
	r := h.call(t, "POST", "/_mock/scenarios/runs?leaveClock=true", "steps: [{wait: 1h}]")
	wantError(t, r, http.StatusConflict, "Conflict", fmt.Sprintf("%d scenario runs are running", scenarios.MaxRunning))
	if d := r.obj(t)["details"].(map[string]any); d["limit"] != float64(scenarios.MaxRunning) {
		t.Errorf("details = %v", d)
	}
	h.clk.Advance(time.Hour)
	v := h.must(t, 200, "GET", "/_mock/scenarios/runs/run-1/wait?timeout=10s", "")
	if got := v["run"].(map[string]any); v["timedOut"] != false || got["state"] != "passed" {
		t.Fatalf("run-1 = %v", v)
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
