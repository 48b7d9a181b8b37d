// Package js_test runs the JavaScript client's tests (clients/js/test,
// node:test) against the real binary, built here.
package js_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// suiteTimeout bounds the whole node run; the suite takes a few seconds.
const suiteTimeout = 3 * time.Minute

func TestJavaScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs node")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed, and CI must run the JavaScript client's tests (apt-get install nodejs)")
		}
		t.Skip("node is not installed: the JavaScript client's tests (clients/js/test) are not run (apt-get install nodejs)")
	}

	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "bullseye-mock")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/bullseye-mock/bullseye-mock")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The test files, listed: node before 21 reads a directory argument,
	// later versions read globs; a list works with every one.
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test/*.test.js files")
	}
	sort.Strings(files)

	version, _ := exec.CommandContext(ctx, node, "--version").Output()
	t.Logf("node %s, %d test files", strings.TrimSpace(string(version)), len(files))

	cmd := exec.CommandContext(ctx, node, append([]string{"--test"}, files...)...)
	// Run from the package directory, so that the tests import the
	// package by its name (bullseye-mock, bullseye-mock/testing).
	cmd.Dir = "."
	cmd.Env = append(os.Environ(), "BULLSEYE_MOCK_BIN="+bin, "NO_COLOR=1", "FORCE_COLOR=0")
	// After the context ends, give node a moment to stop its children.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("node --test did not finish within %s:\n%s", suiteTimeout, out)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(files, " "), err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
	t.Logf("node --test: %s", summary(string(out)))
}

// summary picks the runner's totals out of its output: "# tests 51" (TAP,
// the default when the output is not a terminal) or "ℹ tests 51" (spec).
func summary(out string) string {
	var parts []string
	for _, line := range strings.Split(out, "\n") {
		for _, prefix := range []string{"# ", "ℹ "} {
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, " ")
			switch name {
			case "tests", "pass", "fail", "cancelled", "skipped", "todo", "duration_ms":
				parts = append(parts, rest)
			}
		}
	}
	return strings.Join(parts, ", ")
}
