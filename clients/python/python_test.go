package python_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPythonClient builds the mock and runs the Python client's suite
// (clients/python/tests) against it with pytest, as a user of the client
// would: BULLSEYE_MOCK_BIN names the binary, each test starts its own mock
// on 127.0.0.1:0. Without python3 3.9+ and pytest the test is skipped, except
// under CI, where a skip would hide a broken client.
func TestPythonClient(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Python client's suite builds the binary and runs pytest")
	}
	python, tried := findPython(t)
	if python == "" {
		msg := "no python3 (3.9+) with pytest: the Python client is not tested (apt-get install python3-pytest); tried " + tried
		if inCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	timeout := 4 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-10*time.Second < timeout {
		timeout = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bullseye-mock")
	build := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "github.com/bullseye-mock/bullseye-mock")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(ctx, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "clients/python/tests")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"BULLSEYE_MOCK_BIN="+bin,
		"PYTHONDONTWRITEBYTECODE=1", // leave no __pycache__ in the tree
	)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s -m pytest did not finish within %v:\n%s", python, timeout, out.String())
	}
	if err != nil {
		t.Fatalf("%s -m pytest clients/python/tests: %v\n%s", python, err, out.String())
	}
	if testing.Verbose() {
		t.Logf("%s -m pytest clients/python/tests:\n%s", python, out.String())
	} else {
		t.Log(lastLine(out.String()))
	}
}

// findPython returns the first python3 that is 3.9 or newer and has
// pytest: python3 on PATH (which may be a pyenv shim without pytest), then
// the system's /usr/bin/python3, where Debian's python3-pytest installs.
func findPython(t *testing.T) (python, tried string) {
	t.Helper()
	var candidates, seen []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3", "/usr/local/bin/python3")
	const probe = "import sys, pytest; sys.exit(0 if sys.version_info >= (3, 9) else 3)"
	for _, c := range candidates {
		if _, err := os.Stat(c); err != nil || slices.Contains(seen, c) {
			continue
		}
		seen = append(seen, c)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := exec.CommandContext(ctx, c, "-c", probe).Run()
		cancel()
		if err == nil {
			return c, strings.Join(seen, ", ")
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Logf("%s: %v", c, err)
		}
	}
	if len(seen) == 0 {
		return "", "python3 on PATH (none)"
	}
	return "", strings.Join(seen, ", ")
}

func inCI() bool {
	ci := strings.ToLower(os.Getenv("CI"))
	return ci != "" && ci != "false" && ci != "0"
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
