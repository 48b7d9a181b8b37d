package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/ops"
)

// maxRuns bounds the finished runs kept for reading; running ones are
// always kept.
const maxRuns = 100

// MaxRunning bounds the runs in progress at once: each holds a
// goroutine and acts on the shared sender and clock. A start beyond it is
// a 409 Conflict.
const MaxRunning = 16

// Run states, as RunInfo.State reports them.
const (
	RunRunning = "running"
	RunPassed  = "passed"
	RunFailed  = "failed"
	RunError   = "error" // the run could not finish
)

// Runs is the registry of scenario runs started on one mock (the control
// API's POST /_mock/scenarios/runs): at most MaxRunning at once, the last
// maxRuns finished ones kept for reading. The mock owns it and stops it at
// shutdown, before the sender.
type Runs struct {
	ctx     context.Context // cancelled by Stop
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the runs' goroutines; Add only under mu, while !closed
	mu      sync.Mutex
	closed  bool // Stop or Wait was called: no run starts
	running int
	seq     int
	byID    map[string]*run
	order   []string // oldest first

	ops *ops.Ops
	key string
	log *slog.Logger
	run func(context.Context, *Scenario, Options) (*Report, error) // Run on ops; a stub in tests
}

type run struct {
	done chan struct{} // closed when the run ends
	// Set once, before done is closed.
	out RunInfo
}

// RunInfo is a run as the control API shows it.
type RunInfo struct {
	ID         string    `json:"id"`
	File       string    `json:"file"`
	State      string    `json:"state"`
	StartedAt  time.Time `json:"startedAt"` // real time
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	Report     *Report   `json:"report,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// NewRuns returns a registry whose runs act on o, as the partner of each
// file's partner.apiKey or else defaultKey.
func NewRuns(o *ops.Ops, defaultKey string, log *slog.Logger) *Runs {
	ctx, cancel := context.WithCancel(context.Background())
	rs := &Runs{ctx: ctx, cancel: cancel, byID: map[string]*run{}, ops: o, key: defaultKey, log: log}
	rs.run = func(ctx context.Context, s *Scenario, opts Options) (*Report, error) {
		return Run(ctx, rs.ops, s, opts)
	}
	return rs
}

// Stop cancels the scenario runs in progress and refuses new ones
// (at shutdown). It does not wait for the runs to end: WaitScenarioRuns
// does.
func (rs *Runs) Stop() {
	rs.mu.Lock()
	rs.closed = true
	rs.mu.Unlock()
	rs.cancel()
}

// Wait refuses new scenario runs and waits until every run in
// progress has ended, or ctx has; after Stop the runs end at their
// next step. Once it returns nil no run touches the sender any more, so the
// mock's Close calls it before shutting the sender down.
func (rs *Runs) Wait(ctx context.Context) error {
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

// ErrBusy refuses a run beyond MaxRunning; ErrStopped, a run on a mock that
// is shutting down. Both wrap ops.ErrConflict.
var (
	ErrBusy    = fmt.Errorf("%d scenario runs are running, the most at once: wait for one to end (GET /_mock/scenarios/runs/{id}/wait) and start this one again: %w", MaxRunning, ops.ErrConflict)
	ErrStopped = fmt.Errorf("the mock is shutting down: no scenario run starts: %w", ops.ErrConflict)
)

// Start checks a scenario file at once (a bad file is an *Error naming the
// line and column) and runs it in the background: a run on a scaled or
// real clock can take as long as its waits. leaveClock never moves a manual
// clock: whoever started the run moves it.
func (rs *Runs) Start(file string, data []byte, leaveClock bool) (RunInfo, error) {
	sc, err := Parse(file, data)
	if err != nil {
		return RunInfo{}, err
	}
	info, _, err := rs.Run(sc, Options{LeaveClock: leaveClock})
	return info, err
}

// Run runs a parsed scenario in the background under the registry (serve
// --scenario's files too), as the registry's default partner unless opts
// or the file name one; the channel closes when the run ends.
func (rs *Runs) Run(sc *Scenario, opts Options) (RunInfo, <-chan struct{}, error) {
	if err := CheckBounded(sc, opts); err != nil {
		return RunInfo{}, nil, err
	}
	if rs.ops != nil { // refused on upload, not as a run that ends in error
		if err := CheckBudget(sc, rs.ops.PendingBudget()); err != nil {
			return RunInfo{}, nil, err
		}
	}
	if opts.APIKey == "" {
		opts.APIKey = rs.key
	}
	if opts.Logger == nil {
		opts.Logger = rs.log
	}
	file := sc.File
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return RunInfo{}, nil, ErrStopped
	}
	if rs.running >= MaxRunning {
		rs.mu.Unlock()
		return RunInfo{}, nil, ErrBusy
	}
	rs.running++
	rs.wg.Add(1)
	rs.seq++
	sr := &run{done: make(chan struct{}), out: RunInfo{
		ID: "run-" + strconv.Itoa(rs.seq), File: file, State: RunRunning, StartedAt: time.Now().UTC(),
	}}
	rs.byID[sr.out.ID] = sr
	rs.order = append(rs.order, sr.out.ID)
	rs.evictLocked()
	out := sr.out
	rs.mu.Unlock()

	go func() {
		defer rs.wg.Done()
		rep, err := rs.run(rs.ctx, sc, opts)
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.running--
		sr.out.Report, sr.out.FinishedAt = rep, time.Now().UTC()
		switch {
		case err != nil:
			sr.out.State, sr.out.Error = RunError, err.Error()
		case rep != nil && rep.Passed:
			sr.out.State = RunPassed
		default:
			sr.out.State = RunFailed
		}
		close(sr.done)
	}()
	return out, sr.done, nil
}

// evictLocked drops the oldest finished runs beyond maxRuns.
func (rs *Runs) evictLocked() {
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

// List returns the runs, newest first, without their reports (a run's
// own page has it).
func (rs *Runs) List() []RunInfo {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]RunInfo, 0, len(rs.order))
	for i := len(rs.order) - 1; i >= 0; i-- {
		o := rs.byID[rs.order[i]].out
		o.Report = nil
		out = append(out, o)
	}
	return out
}

// Get returns a run, and a channel closed when it ends.
func (rs *Runs) Get(id string) (RunInfo, <-chan struct{}, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	sr, ok := rs.byID[id]
	if !ok {
		return RunInfo{}, nil, fmt.Errorf("no scenario run %q (unknown, or evicted: the last %d finished runs are kept): %w", id, maxRuns, ops.ErrNotFound)
	}
	return sr.out, sr.done, nil
}
