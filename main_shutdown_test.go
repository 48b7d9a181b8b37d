package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lines is a stderr that tells when a line containing some text arrives.
type lines struct {
	mu    sync.Mutex
	b     strings.Builder
	want  string
	found chan struct{}
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.found != nil && strings.Contains(l.b.String(), l.want) {
		close(l.found)
		l.found = nil
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// await returns a channel closed once stderr holds text.
func (l *lines) await(text string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(l.b.String(), text) {
		close(ch)
		return ch
	}
	l.want, l.found = text, ch
	return ch
}

// SIGTERM drains: an attempt in flight holds the drain (up to
// --shutdown-timeout). A second signal stops at once, with a non-zero
// status and a line saying what was cut off.
func TestBinarySecondSignalStopsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer rx.Close()

	stderr := &lines{}
	cmd, url, _ := startBinaryWith(t, stderr, buildBinary(t),
		[]string{"BULLSEYE_MOCK_ADDR=127.0.0.1:0", "BULLSEYE_MOCK_SHUTDOWN_TIMEOUT=5m"})
	req, _ := http.NewRequest("PUT", url+"/api/v1/partner/webhooks/identification",
		strings.NewReader(`{"url": "`+rx.URL+`", "enabled": true}`))
	req.Header.Set("X-Partner-API-Key", "bullseye-mock-key")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("configure: %v %v", resp, err)
	}
	if resp, err := http.Post(url+"/_mock/events", "application/json", strings.NewReader(`{"type": "visitor.identified"}`)); err != nil || resp.StatusCode != 202 {
		t.Fatalf("emit: %v %v", resp, err)
	}
	<-entered // the attempt hangs in flight

	draining := stderr.await("shutting down")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-draining
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("exit after the second signal: %v, want status 1", err)
		}
	case <-ctx.Done():
		t.Fatal("a second signal did not stop the drain")
	}
	if want := "bullseye-mock: second signal: stopped at once; 1 attempts in flight were cut off, 1 deliveries left pending"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}
