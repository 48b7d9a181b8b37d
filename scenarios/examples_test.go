package scenarios_test

import (
	"context"
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

const exampleSecret = "whsec_example"

// Test receivers: each is the behaviour an example is about. They are in the
// test, not in the files, because a user's file describes their own
// receiver's expected behaviour, never a fake one.

// verifying checks the signature of the raw bytes, as a correct receiver
// does: 401 when it does not match, else 200 (duplicates included).
func verifying(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	got := r.Header.Get(bullseye.SignatureHeader)
	if !hmac.Equal([]byte(got), []byte(bullseye.Sign(exampleSecret, body))) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// flaky answers 500 to the first two attempts of each delivery, then 200.
func flaky() http.HandlerFunc {
	var mu sync.Mutex
	seen := map[string]int{}
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get(bullseye.DeliveryHeader)]++
		n := seen[r.Header.Get(bullseye.DeliveryHeader)]
		mu.Unlock()
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func down(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }

func acceptAll(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

// hanging never answers; the mock's timeout ends the request, or the end
// of the test does (a server may see the client go only when it writes).
func hanging(done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

var exampleReceivers = map[string]func() http.Handler{
	"happy-path.yaml":        func() http.Handler { return http.HandlerFunc(verifying) },
	"flaky-endpoint.yaml":    func() http.Handler { return flaky() },
	"retries-exhausted.yaml": func() http.Handler { return http.HandlerFunc(down) },
	"timeout.yaml":           nil, // hanging, made per test so that it can be released
	"duplicates.yaml":        func() http.Handler { return http.HandlerFunc(verifying) },
	"signature-faults.yaml":  func() http.Handler { return http.HandlerFunc(verifying) },
	"webhook-disabled.yaml":  func() http.Handler { return http.HandlerFunc(down) },
	"steady-traffic.yaml":    func() http.Handler { return http.HandlerFunc(verifying) },
	"burst.json":             func() http.Handler { return http.HandlerFunc(verifying) },
	"out-of-order.yaml":      func() http.Handler { return http.HandlerFunc(verifying) },
	"busy-queue.yaml":        func() http.Handler { return http.HandlerFunc(verifying) },
	"replay.yaml":            func() http.Handler { return http.HandlerFunc(verifying) },
	"load-test.yaml":         func() http.Handler { return oneIn(20, 503) },
}

// oneIn answers status to every n-th request and verifies the rest.
func oneIn(n int, status int) http.Handler {
	var mu sync.Mutex
	seen := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen++
		fail := seen%n == 0
		mu.Unlock()
		if fail {
			w.WriteHeader(status)
			return
		}
		verifying(w, r)
	})
}

func runExample(t *testing.T, file string, h http.Handler) *scenarios.Report {
	t.Helper()
	s, err := scenarios.ParseFile(filepath.Join("examples", file))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A short grace: only the hanging receiver ever uses it, and it hangs
	// on purpose, so this cannot turn a slow answer into a timeout.
	grace := ops.DefaultGrace
	if file == "timeout.yaml" {
		grace = 50 * time.Millisecond
	}
	rep, err := mock.RunScenario(ctx, s, scenarios.Options{URL: srv.URL + "/webhooks", Secret: exampleSecret, Grace: grace})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return rep
}

func TestExamplesHold(t *testing.T) {
	files, _ := filepath.Glob("examples/*")
	if len(files) != len(exampleReceivers) {
		t.Errorf("%d example files, %d mapped to a receiver: map every example", len(files), len(exampleReceivers))
	}
	for _, path := range files {
		file := filepath.Base(path)
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			mk, ok := exampleReceivers[file]
			if !ok {
				t.Fatalf("no receiver for %s", file)
			}
			var h http.Handler
			if mk != nil {
				h = mk()
			} else {
				done := make(chan struct{})
				defer close(done) // before the server's Close, a cleanup
				h = hanging(done)
			}
			rep := runExample(t, file, h)
			if !rep.Passed || len(rep.Expects) == 0 {
				t.Errorf("%s: %+v", file, rep)
			}
		})
	}
}

// A receiver that does not behave as the file says makes the right
// expectation fail, and the message says what differed.
func TestExamplesFailWithBrokenReceiver(t *testing.T) {
	cases := []struct {
		file     string
		receiver http.HandlerFunc
		line     int
		want     string
	}{
		{"flaky-endpoint.yaml", down, 15, "delivery 1: failed, want delivered; delivery 1: attempts at +0s, +1m0s, +6m0s, +36m0s; want +0s, +1m0s, +6m0s"},
		{"signature-faults.yaml", acceptAll, 29, "delivery 1 (wrong_secret): receiver answered 200; want 4xx"},
		{"happy-path.yaml", down, 23, "delivery 1: failed, want delivered; delivery 1: 4 attempts, want 1; delivery 1: receiver answered 503, 503, 503, 503; want 200; delivery 2: failed, want delivered; delivery 2: 4 attempts, want 1; delivery 2: receiver answered 503, 503, 503, 503; want 200; and 7 more"},
		{"duplicates.yaml", down, 21, "0 deliveries delivered, want 4 (states: failed 4)"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			rep := runExample(t, c.file, c.receiver)
			if rep.Passed {
				t.Fatalf("passed with a broken receiver: %+v", rep)
			}
			var failed *scenarios.Outcome
			for i := range rep.Expects {
				if !rep.Expects[i].Held {
					failed = &rep.Expects[i]
					break
				}
			}
			if failed == nil || failed.Line != c.line || !strings.Contains(failed.Message, c.want) {
				t.Errorf("first failed expectation %+v; want line %d with %q", failed, c.line, c.want)
			}
		})
	}
}
