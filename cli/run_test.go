package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCLI runs the command line as main does and returns status and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	status := Run(ctx, append([]string{"--log-level", "error"}, args...), &out, &errb)
	return status, out.String(), errb.String()
}

func receiver(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/hook"
}

// flakyReceiver answers 500 twice to each delivery, then 200.
func flakyReceiver() http.HandlerFunc {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-Bullseye-Mock-Delivery")]++
		n := seen[r.Header.Get("X-Bullseye-Mock-Delivery")]
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(500)
		}
	}
}

const flakyExample = "../scenarios/examples/flaky-endpoint.yaml"

func TestRunPasses(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "report.xml")
	status, out, errs := runCLI(t, "run", "--url", receiver(t, flakyReceiver()), "--junit", junit, flakyExample)
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	if !strings.HasPrefix(out, "PASS flaky endpoint") || !strings.Contains(out, "1 scenario: 1 passed, 0 failed") {
		t.Errorf("summary:\n%s", out)
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), `<testsuite name="flaky endpoint" tests="1" failures="0" errors="0" skipped="0">`) {
		t.Errorf("junit %v:\n%s", err, x)
	}
}

func TestRunFailsWithWhatDiffered(t *testing.T) {
	down := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }
	status, out, _ := runCLI(t, "run", "--report", "json", "--url", receiver(t, down), flakyExample)
	if status != ExitFailed {
		t.Fatalf("status %d\n%s", status, out)
	}
	var reports []struct {
		Passed       bool
		Expectations []struct {
			Held    bool
			Message string
		}
	}
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(reports) != 1 || reports[0].Passed || !strings.Contains(reports[0].Expectations[0].Message, "attempts at +0s, +1m0s, +6m0s, +36m0s; want +0s, +1m0s, +6m0s") {
		t.Errorf("report %+v", reports)
	}
}

func TestRunInvalidFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("steps:\n  - wiat: 1m\n"), 0o644)
	status, out, errs := runCLI(t, "run", flakyExample, bad)
	if status != ExitUsage || out != "" {
		t.Fatalf("status %d out %q", status, out)
	}
	if !strings.Contains(errs, bad+`:2:5: unknown key "wiat" in step, did you mean "wait"?`) {
		t.Errorf("stderr %q", errs)
	}
}

func TestValidate(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/examples/*")
	status, out, errs := runCLI(t, append([]string{"validate"}, files...)...)
	if status != ExitOK || strings.Count(out, "\nok ")+1 != len(files) {
		t.Errorf("status %d\n%s\n%s", status, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"steps": [{"send": {"type": "visitor.identified", "count": "many"}}]}`), 0o644)
	status, _, errs = runCLI(t, "validate", bad)
	if status != ExitUsage || !strings.Contains(errs, bad+`:1:61: field "count" must be a number, got string`) {
		t.Errorf("status %d stderr %q", status, errs)
	}
}

func TestServeRejectsInvalidScenario(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("clock: fast\nsteps: [{wait: 1s}]\n"), 0o644)
	status, _, errs := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--scenario", bad)
	if status != ExitUsage || !strings.Contains(errs, bad+`:1:8: clock is "fast"`) {
		t.Errorf("status %d stderr %q", status, errs)
	}
}

// serve --scenario runs the file inside the server, its steps and
// expectations visible in the log, until shutdown.
func TestServeRunsScenario(t *testing.T) {
	billed := make(chan struct{}, 1)
	ident := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	billing := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case billed <- struct{}{}:
		default:
		}
	})
	file := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(file, []byte(`name: in server
webhooks:
  identification: {url: "`+ident+`", secret: s}
  billing: {url: "`+billing+`", secret: s}
steps:
  - send: {type: visitor.identified, count: 2}
  - wait: settled
  - expect: {states: {delivered: 2}}
  - every:
      schedule: "@every 1s"
      steps: [{send: {type: credits.low}}]
`), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--time-scale", "100", "--scenario", file}, &out, &errb)
	}()
	select {
	case <-billed: // the unbounded every step is ticking
	case <-time.After(20 * time.Second):
		t.Fatal("no cron tick reached the billing receiver")
	}
	cancel()
	if status := <-done; status != ExitOK {
		t.Fatalf("status %d\n%s", status, errb.String())
	}
	for _, want := range []string{`msg="scenario started" scenario="in server"`, `msg="expectation held" scenario="in server" line=8`, `msg="cron tick"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, errb.String())
		}
	}
}

// Every shipped example declares the receiver it stands for, so run with no
// other flag sends to a built-in sink behaving so, and every one passes.
func TestEveryExampleRunsOnItsOwn(t *testing.T) {
	if testing.Short() {
		t.Skip("the timeout example waits out the hanging-receiver grace (5s) twice")
	}
	files, _ := filepath.Glob("../scenarios/examples/*")
	status, out, errs := runCLI(t, append([]string{"run"}, files...)...)
	if status != ExitOK || !strings.Contains(out, fmt.Sprintf("%d scenarios: %d passed, 0 failed", len(files), len(files))) {
		t.Errorf("status %d\n%s\n%s", status, out, errs)
	}
}

// With nothing listening, a report says the connection was refused, and
// where, rather than "no response".
func TestRunReportsARefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	status, out, _ := runCLI(t, "run", "--url", url, "--secret", "s", flakyExample)
	if status != ExitFailed || !strings.Contains(out, "receiver answered connection refused, connection refused, connection refused, connection refused (nothing listens at "+url+")") {
		t.Errorf("status %d\n%s", status, out)
	}
}
