package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the real program once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bullseye-mock")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary starts the program on a free loopback port and returns its
// base URL, read from the banner's first line.
func startBinary(t *testing.T, bin string, env []string, args ...string) (*exec.Cmd, string, *strings.Builder) {
	t.Helper()
	return startBinaryWith(t, &strings.Builder{}, bin, env, args...)
}

// startBinaryWith is startBinary writing the program's stderr to stderr.
func startBinaryWith(t *testing.T, stderr interface {
	io.Writer
	String() string
}, bin string, env []string, args ...string) (*exec.Cmd, string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no banner; stderr: %s", stderr.String())
	}
	first := lines.Text()
	const prefix = "bullseye-mock listening on "
	if !strings.HasPrefix(first, prefix) {
		t.Fatalf("first line %q", first)
	}
	var banner strings.Builder
	banner.WriteString(first + "\n")
	for lines.Scan() {
		banner.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "  curl") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return cmd, strings.TrimPrefix(first, prefix), &banner
}

func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cmd, url, banner := startBinary(t, bin,
		[]string{"BULLSEYE_MOCK_ADDR=127.0.0.1:0", "BULLSEYE_MOCK_API_KEY=k1,k2"}, "--seed", "5")

	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, want := range []string{"API key: k1", "API key: k2", "seed 5", "curl -X PUT " + url + "/api/v1/partner/webhooks/identification -H 'X-Partner-API-Key: k1'", `"url": "` + url + `/_mock/sink/demo"`} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	// The banner's curl works as printed.
	req, _ := http.NewRequest("PUT", url+"/api/v1/partner/webhooks/identification",
		strings.NewReader(`{"url": "http://127.0.0.1:9000/webhooks", "secret": "whsec_test", "enabled": true}`))
	req.Header.Set("X-Partner-API-Key", "k2")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("configure: %v %v", resp, err)
	}
	resp.Body.Close()

	// The healthcheck command agrees.
	hc := exec.Command(bin, "healthcheck", "--addr", strings.TrimPrefix(url, "http://"))
	if out, err := hc.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "healthy" {
		t.Fatalf("healthcheck: %v %s", err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("did not stop after SIGTERM")
	}
}

func TestBinaryUsageErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--time-scale", "0"}, "--time-scale: time scale must be greater than 0"},
		{[]string{"--no-such-flag"}, "unknown flag --no-such-flag"},
		{[]string{"--addr", "127.0.0.1:99999"}, "listen on 127.0.0.1:99999"},
		{[]string{"--retry-delays", "soon"}, "soon"},
		{[]string{"--dialect", "klingon"}, "klingon"},
		{[]string{"healthcheck", "--addr", "127.0.0.1:1"}, "unhealthy"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 1 && code != 2 {
			t.Errorf("%v: exit %d (%v), want 1 or 2", c.args, code, err)
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if !strings.Contains(lines[0], c.want) || !strings.HasPrefix(lines[0], "bullseye-mock: ") {
			t.Errorf("%v: stderr %q, want one line with %q", c.args, stderr.String(), c.want)
		}
	}
}
