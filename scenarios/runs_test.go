package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stubRuns is a registry whose runs do nothing but wait: run "f" ends when
// release("f") is called (once cancelled too: a run slow to notice).
type stubRuns struct {
	*Runs
	started chan string
	mu      sync.Mutex
	release map[string]chan struct{}
	done    bool // every release is closed, later ones too
	ended   atomic.Int32
}

func newStubRuns(t *testing.T) *stubRuns {
	t.Helper()
	sr := &stubRuns{Runs: NewRuns(nil, "k", nil), started: make(chan string, 2*MaxRunning), release: map[string]chan struct{}{}}
	sr.run = func(ctx context.Context, s *Scenario, _ Options) (*Report, error) {
		defer sr.ended.Add(1)
		release := sr.ch(s.File)
		sr.started <- s.File
		<-release
		return &Report{File: s.File, Passed: true}, ctx.Err()
	}
	t.Cleanup(func() {
		sr.Stop()
		sr.mu.Lock()
		sr.done = true
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
		if err := sr.Wait(ctx); err != nil {
			t.Error(err)
		}
	})
	return sr
}

func (sr *stubRuns) ch(file string) chan struct{} {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if sr.release[file] == nil {
		sr.release[file] = make(chan struct{})
		if sr.done {
			close(sr.release[file])
		}
	}
	return sr.release[file]
}

func (sr *stubRuns) start(file string) (RunInfo, error) {
	return sr.Start(file, []byte("steps: [{wait: 1s}]"), false)
}

// The mock's Close waits for the scenario runs: once Wait returns, no run
// is left to call the sender. A cancelled run that has not ended yet keeps
// it waiting.
func TestRunsWaitWaitsForRuns(t *testing.T) {
	sr := newStubRuns(t)
	if _, err := sr.start("slow.yaml"); err != nil {
		t.Fatal(err)
	}
	<-sr.started
	sr.Stop()
	if _, err := sr.start("late.yaml"); !errors.Is(err, ErrStopped) {
		t.Fatalf("start after Stop = %v, want ErrStopped", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sr.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a run still going = %v, want context.Canceled", err)
	}
	if n := sr.ended.Load(); n != 0 {
		t.Errorf("Wait returned with %d runs ended, want 0", n)
	}
	close(sr.ch("slow.yaml"))
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := sr.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	run, _, err := sr.Get("run-1")
	if err != nil || run.State != RunError || !strings.Contains(run.Error, "canceled") {
		t.Errorf("cancelled run = %+v, %v", run, err)
	}
}

// At most MaxRunning run at once; the next start is refused until one
// ends, and the refused one is not a run.
func TestRunsCapped(t *testing.T) {
	sr := newStubRuns(t)
	for i := range MaxRunning {
		if _, err := sr.start(fmt.Sprintf("f%d.yaml", i+1)); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	if _, err := sr.start("one-too-many.yaml"); !errors.Is(err, ErrBusy) {
		t.Fatalf("start beyond the cap = %v, want ErrBusy", err)
	}
	close(sr.ch("f1.yaml"))
	_, done, _ := sr.Get("run-1")
	<-done
	if run, _, _ := sr.Get("run-1"); run.State != RunPassed {
		t.Fatalf("run-1 = %+v", run)
	}
	if _, err := sr.start("next.yaml"); err != nil {
		t.Errorf("start after a run ended: %v", err)
	}
	if n := len(sr.List()); n != MaxRunning+1 {
		t.Errorf("%d runs listed, want %d", n, MaxRunning+1)
	}
}

// A file the parser refuses is no run.
func TestRunsRefuseBadFile(t *testing.T) {
	sr := newStubRuns(t)
	_, err := sr.Start("bad.yaml", []byte("steps: [{sned: {}}]"), false)
	var pe *Error
	if !errors.As(err, &pe) || len(sr.List()) != 0 {
		t.Fatalf("err %v, runs %v", err, sr.List())
	}
}
