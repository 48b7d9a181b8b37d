package check_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// The shipped scenario files about a correct receiver pass against every
// example receiver the README says passes: one verdict on every surface,
// so the Node.js receiver that accepts uppercase hex (a note in check)
// passes signature-faults.yaml too.
func TestExampleScenariosPassAgainstExampleReceivers(t *testing.T) {
	files := []string{"happy-path.yaml", "duplicates.yaml", "signature-faults.yaml", "steady-traffic.yaml", "burst.json", "out-of-order.yaml", "busy-queue.yaml", "replay.yaml"}
	goReceiver := filepath.Join(t.TempDir(), "receiver")
	if out, err := exec.Command("go", "build", "-o", goReceiver, "../examples/receivers/go").CombinedOutput(); err != nil {
		t.Fatalf("build the Go example receiver: %v\n%s", err, out)
	}
	receivers := []struct{ name, interpreter, script string }{
		{"go", goReceiver, "-addr=127.0.0.1:0"},
		{"python", "python3", filepath.Join("..", "examples", "receivers", "python", "receiver.py")},
		{"node", "node", filepath.Join("..", "examples", "receivers", "node", "receiver.js")},
	}
	for _, rc := range receivers {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			url := startReceiver(t, rc.interpreter, rc.script)
			for _, f := range files {
				s, err := scenarios.ParseFile(filepath.Join("..", "scenarios", "examples", f))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				rep, err := mock.RunScenario(ctx, s, scenarios.Options{URL: url, Secret: secret})
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if !rep.Passed {
					var b strings.Builder
					_ = scenarios.WriteText(&b, []*scenarios.Report{rep})
					t.Errorf("%s against the %s receiver:\n%s", f, rc.name, b.String())
				}
			}
		})
	}
}
