package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveOnce runs serve with args, sends two events to rx through the
// control API, and returns what rx received.
func serveOnce(t *testing.T, rx string, bodies func() []string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"--log-level", "error", "serve", "--addr", "127.0.0.1:0"}, args...), pw, &errb)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no banner: %s", errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := strings.TrimPrefix(lines.Text(), "bullseye-mock listening on ")
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("X-Partner-API-Key", "bullseye-mock-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %v %v", method, path, resp, err)
		}
		resp.Body.Close()
	}
	before := len(bodies())
	do("PUT", "/api/v1/partner/webhooks/identification", `{"url": "`+rx+`", "secret": "s", "enabled": true}`)
	do("POST", "/_mock/events", `{"type": "visitor.identified", "count": 2}`)
	do("GET", "/_mock/deliveries/wait?timeout=20s", "")
	cancel()
	if status := <-done; status != ExitOK {
		t.Fatalf("serve: %d %s", status, errb.String())
	}
	return bodies()[before:]
}

// --start-time with a manual clock and a seed: two runs, started at
// different moments, send byte-identical deliveries stamped at the start.
func TestStartTimeMakesRunsReproducible(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rx := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	})
	bodies := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
	args := []string{"--clock", "manual", "--seed", "4", "--start-time", "2025-03-01T08:00:00Z"}
	a := serveOnce(t, rx, bodies, args...)
	b := serveOnce(t, rx, bodies, args...)
	sort.Strings(a) // two workers deliver them in either order
	sort.Strings(b)
	if len(a) != 2 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("two runs differ:\n%v\n%v", a, b)
	}
	if !strings.Contains(a[0], `"timestamp":"2025-03-01T08:00:00Z"`) {
		t.Errorf("payload not stamped at the start time: %s", a[0][:200])
	}
}
