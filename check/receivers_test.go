package check_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/check"
)

// The Python and Node.js example receivers run as the user would run them,
// as subprocesses on 127.0.0.1. Each binds port 0 and prints "listening on
// PORT" once it accepts connections; the test reads that line rather than
// guessing a free port or sleeping.
func TestExampleReceivers(t *testing.T) {
	tests := []struct {
		name, interpreter, script string
		notes                     []string
	}{
		{"python", "python3", "python/receiver.py", nil},
		// Decoding the hex, as the vendor's Node.js example does, accepts
		// uppercase: the battery's note, not a failure.
		{"node", "node", "node/receiver.js", []string{"sig_uppercase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := startReceiver(t, tt.interpreter, filepath.Join("..", "examples", "receivers", tt.script))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rep, err := check.Run(ctx, check.Config{URL: url, Secret: secret, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				for _, r := range rep.Results {
					if r.Status == check.Fail {
						t.Errorf("%s: %s", r.Name, r.Message)
					}
				}
			}
			if got := byStatus(rep, check.Note); fmt.Sprint(got) != fmt.Sprint(tt.notes) {
				t.Errorf("notes %v, want %v", got, tt.notes)
			}
		})
	}
}

// startReceiver runs script with interpreter and returns its URL. A missing
// interpreter skips the test, except under CI (CI set), where .ci/run
// installs both interpreters and a skip would hide a broken example.
func startReceiver(t *testing.T, interpreter, script string) string {
	t.Helper()
	path, err := exec.LookPath(interpreter)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed, and CI must run the %s example receiver", interpreter, script)
		}
		t.Skipf("%s is not installed: the %s example receiver is not checked (apt-get install python3 nodejs)", interpreter, script)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, script, "0")
	cmd.Env = append(os.Environ(), "BULLSEYE_WEBHOOK_SECRET="+secret)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })

	port := make(chan string, 1)
	go func() {
		// Keep reading after the port: the receiver logs each event, and a
		// full pipe would block it.
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case port <- p:
				default:
				}
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			t.Fatalf("%s exited before listening: %s", script, stderr.String())
		}
		return "http://127.0.0.1:" + p + "/webhooks/bullseye"
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not print \"listening on PORT\" within 15s: %s", script, stderr.String())
	}
	return ""
}

// lockedBuffer is written by exec's copying goroutine and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
