package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// ScenarioRunner checks a scenario file and returns its run; the mock wires
// it to package scenarios. Its error is a problem in the file (shown to the
// client as a 400, with the file, line and column in the message).
type ScenarioRunner func(file string, data []byte, leaveClock bool) (ScenarioRun, error)

// ScenarioRun runs a checked scenario until it ends or ctx does. report is
// rendered as JSON; err is for a run that could not finish.
type ScenarioRun func(ctx context.Context) (report any, passed bool, err error)

// maxRuns bounds the finished runs kept for reading; running ones are
// always kept.
const maxRuns = 100

// MaxRunningScenarios bounds the runs in progress at once: each holds a
// goroutine and acts on the shared sender and clock. A start beyond it is
// a 409 Conflict.
const MaxRunningScenarios = 16

// Run states, as scenarioRunJSON.State reports them.
const (
	RunRunning = "running"
	RunPassed  = "passed"
	RunFailed  = "failed"
	RunError   = "error" // the run could not finish
)

type scenarioRuns struct {
	ctx     context.Context // cancelled by StopScenarios
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the runs' goroutines; Add only under mu, while !closed
	mu      sync.Mutex
	closed  bool // StopScenarios or WaitScenarioRuns was called: no run starts
	running int
	seq     int
	byID    map[string]*scenarioRun
	order   []string // oldest first
}

type scenarioRun struct {
	done chan struct{} // closed when the run ends
	// Set once, before done is closed.
	out scenarioRunJSON
}

type scenarioRunJSON struct {
	ID         string    `json:"id"`
	File       string    `json:"file"`
	State      string    `json:"state"`
	StartedAt  time.Time `json:"startedAt"` // real time
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	Report     any       `json:"report,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func newScenarioRuns() *scenarioRuns {
	ctx, cancel := context.WithCancel(context.Background())
	return &scenarioRuns{ctx: ctx, cancel: cancel, byID: map[string]*scenarioRun{}}
}

// StopScenarios cancels the scenario runs in progress and refuses new ones
// (at shutdown). It does not wait for the runs to end: WaitScenarioRuns
// does.
func (s *Server) StopScenarios() {
	rs := s.runs
	if rs == nil {
		return
	}
	rs.mu.Lock()
	rs.closed = true
	rs.mu.Unlock()
	rs.cancel()
}

// WaitScenarioRuns refuses new scenario runs and waits until every run in
// progress has ended, or ctx has; after StopScenarios the runs end at their
// next step. Once it returns nil no run touches the sender any more, so the
// mock's Close calls it before shutting the sender down.
func (s *Server) WaitScenarioRuns(ctx context.Context) error {
	rs := s.runs
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	rs.closed = true
	running := rs.running
	rs.mu.Unlock()
	done := make(chan struct{})
	go func() { // ends with the last run, even when ctx ends first
		rs.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %d scenario runs to end: %w", running, ctx.Err())
	}
}

func (s *Server) registerScenarioRoutes(c func(method, path string, f func(http.ResponseWriter, *http.Request) error)) {
	c(http.MethodPost, "/scenarios/runs", s.scenarioStart)
	c(http.MethodGet, "/scenarios/runs", s.scenarioList)
	c(http.MethodGet, "/scenarios/runs/{id}", s.scenarioShow)
	c(http.MethodGet, "/scenarios/runs/{id}/wait", s.scenarioWait)
}

// scenarioStart checks the uploaded file at once (a bad file is a 400 that
// names the line and column) and runs it in the background: a run on a
// scaled or real clock can take as long as its waits.
func (s *Server) scenarioStart(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	file := q.Get("file")
	if file == "" {
		file = "scenario.yaml"
	}
	leave := false
	if raw := q.Get("leaveClock"); raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return Errorf(CodeBadRequest, "leaveClock must be true or false, got %q", raw).With("parameter", "leaveClock")
		}
		leave = v
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(CodePayloadTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit).With("limit", tooBig.Limit)
		}
		return Errorf(CodeBadRequest, "could not read the request body: %v", err)
	}
	if len(data) == 0 {
		return Errorf(CodeBadRequest, "request body is empty: send a scenario file (YAML or JSON)")
	}
	run, err := s.scenarios(file, data, leave)
	if err != nil {
		return Errorf(CodeBadRequest, "%v", err).With("file", file)
	}
	rs := s.runs
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return Errorf(CodeConflict, "the mock is shutting down: no scenario run starts").With("file", file)
	}
	if rs.running >= MaxRunningScenarios {
		n := rs.running
		rs.mu.Unlock()
		return Errorf(CodeConflict, "%d scenario runs are running, the most at once: wait for one to end (GET /_mock/scenarios/runs/{id}/wait) and start this one again", n).
			With("running", n).With("limit", MaxRunningScenarios)
	}
	rs.running++
	rs.wg.Add(1)
	rs.seq++
	sr := &scenarioRun{done: make(chan struct{}), out: scenarioRunJSON{
		ID: "run-" + strconv.Itoa(rs.seq), File: file, State: RunRunning, StartedAt: time.Now().UTC(),
	}}
	rs.byID[sr.out.ID] = sr
	rs.order = append(rs.order, sr.out.ID)
	rs.evictLocked()
	out := sr.out
	rs.mu.Unlock()

	go func() {
		defer rs.wg.Done()
		report, passed, err := run(rs.ctx)
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.running--
		sr.out.Report, sr.out.FinishedAt = report, time.Now().UTC()
		switch {
		case err != nil:
			sr.out.State, sr.out.Error = RunError, err.Error()
		case passed:
			sr.out.State = RunPassed
		default:
			sr.out.State = RunFailed
		}
		close(sr.done)
	}()
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// evictLocked drops the oldest finished runs beyond maxRuns.
func (rs *scenarioRuns) evictLocked() {
	finished := 0
	for _, id := range rs.order {
		if rs.byID[id].out.State != RunRunning {
			finished++
		}
	}
	kept := rs.order[:0]
	for _, id := range rs.order {
		if finished > maxRuns && rs.byID[id].out.State != RunRunning {
			delete(rs.byID, id)
			finished--
			continue
		}
		kept = append(kept, id)
	}
	rs.order = kept
}

func (s *Server) scenarioList(w http.ResponseWriter, r *http.Request) error {
	rs := s.runs
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]scenarioRunJSON, 0, len(rs.order))
	for i := len(rs.order) - 1; i >= 0; i-- {
		o := rs.byID[rs.order[i]].out
		o.Report = nil // the list is a summary; a run's page has its report
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
	return nil
}

func (s *Server) scenarioRunOf(r *http.Request) (*scenarioRun, error) {
	id := mux.Vars(r)["id"]
	s.runs.mu.Lock()
	defer s.runs.mu.Unlock()
	sr, ok := s.runs.byID[id]
	if !ok {
		return nil, Errorf(CodeNotFound, "no scenario run %q (unknown, or evicted: the last %d finished runs are kept)", id, maxRuns).With("id", id)
	}
	return sr, nil
}

func (s *Server) scenarioShow(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.scenarioRunOf(r)
	if err != nil {
		return err
	}
	s.runs.mu.Lock()
	out := sr.out
	s.runs.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// scenarioWait long-polls until the run ends; on timeout it answers 200
// with "timedOut": true and the run as it is, like the other waits.
func (s *Server) scenarioWait(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.scenarioRunOf(r)
	if err != nil {
		return err
	}
	timeout, err := waitTimeout(r)
	if err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	timedOut := false
	select {
	case <-sr.done:
	case <-t.C:
		timedOut = true
	case <-r.Context().Done():
		return nil
	}
	s.runs.mu.Lock()
	out := sr.out
	s.runs.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": timedOut, "run": out})
	return nil
}
