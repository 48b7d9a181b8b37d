package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

func TestSendDelivers(t *testing.T) {
	var bad, total atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		if r.Header.Get(bullseye.SignatureHeader) == "" {
			bad.Add(1)
		}
	})
	status, out, errs := runCLI(t, "send", "visitor.identified", "--url", url, "--secret", "s",
		"--count", "4", "--rate", "100/s", "--time-scale", "1000", "--fault", "missing,duplicate", "--fault-share", "0.5")
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	// 4 events and a copy of every second one; every second one unsigned,
	// copies included.
	if !strings.HasPrefix(out, "sent 6 visitor.identified deliveries to "+url+": 6 delivered, 0 failed, 0 canceled; 6 attempts") {
		t.Errorf("summary %q", out)
	}
	if total.Load() != 6 || bad.Load() != 4 {
		t.Errorf("receiver saw %d requests, %d unsigned", total.Load(), bad.Load())
	}
	if errs != "" {
		t.Errorf("progress or noise on a non-terminal stderr: %q", errs)
	}
}

func TestSendReportsFailures(t *testing.T) {
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	status, out, _ := runCLI(t, "send", "credits.low", "--url", url, "--max-attempts", "2", "--retry-delays", "1m", "--time-scale", "6000")
	if status != ExitFailed || !strings.Contains(out, ": 0 delivered, 1 failed, 0 canceled; 2 attempts") {
		t.Errorf("status %d out %q", status, out)
	}
}

func TestSendUsage(t *testing.T) {
	for _, args := range [][]string{
		{"send", "nope", "--url", "http://x"},
		{"send", "--url", "ftp://x"},
		{"send", "--url", "http://x", "--fault", "sideways"},
		{"send", "--url", "http://x", "--rate", "fast"},
		{"send", "--url", "http://x", "--count", "0"},
	} {
		if status, _, errs := runCLI(t, args...); status != ExitUsage || errs == "" {
			t.Errorf("%v: status %d stderr %q", args, status, errs)
		}
	}
}

func TestSendProgressWhenAsked(t *testing.T) {
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	status, _, errs := runCLI(t, "send", "--url", url, "--count", "3", "--progress", "always")
	if status != ExitOK || !strings.Contains(errs, "100% |") || !strings.Contains(errs, "(3/3, ") || !strings.HasSuffix(errs, "\n") {
		t.Errorf("status %d progress %q", status, errs)
	}
}

// A long send at a rate is created a chunk at a time, and its summary comes
// from the sender's totals, so it is right past --delivery-cap (10,000).
func TestSendStreamsAndCountsPastTheDeliveryCap(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 12,000 deliveries")
	}
	var total atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) { total.Add(1) })
	status, out, errs := runCLI(t, "send", "credits.low", "--url", url, "--count", "12000", "--rate", "1000/s", "--time-scale", "100")
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	if !strings.HasPrefix(out, "sent 12000 credits.low deliveries to "+url+": 12000 delivered, 0 failed, 0 canceled; 12000 attempts") {
		t.Errorf("summary %q", out)
	}
	if total.Load() != 12000 {
		t.Errorf("receiver saw %d", total.Load())
	}
}

// Without a rate a long send is made a chunk at a time too, each once the
// one two before it settled; every event still arrives.
func TestSendUnratedStreams(t *testing.T) {
	var total atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) { total.Add(1) })
	status, out, errs := runCLI(t, "send", "credits.low", "--url", url, "--count", "3500")
	if status != ExitOK || total.Load() != 3500 || !strings.HasPrefix(out, "sent 3500 credits.low deliveries to "+url+": 3500 delivered") {
		t.Errorf("status %d, receiver saw %d\n%s%s", status, total.Load(), out, errs)
	}
}

// --same-visitor and --order reach the one grammar: three sessions of one
// visitor, the newest sent first.
func TestSendSameVisitorReversed(t *testing.T) {
	var mu sync.Mutex
	emails := map[string]bool{}
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Visitor struct{ Email string } `json:"visitor"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		emails[b.Visitor.Email] = true
		mu.Unlock()
	})
	status, out, errs := runCLI(t, "send", "--url", url, "--count", "3", "--rate", "1/s", "--time-scale", "1000", "--same-visitor", "--order", "reversed", "--jitter", "1s")
	if status != ExitOK || !strings.Contains(out, "3 delivered") {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	if len(emails) != 1 {
		t.Errorf("three events of one visitor came from %d visitors: %v", len(emails), emails)
	}
}

// --fault replay:1m and --burst reach the grammar; the replays are waited
// for and counted.
func TestSendReplayAndBurst(t *testing.T) {
	var total atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) { total.Add(1) })
	status, out, errs := runCLI(t, "send", "--url", url, "--count", "4", "--rate", "2/s", "--burst", "2", "--fault", "replay:1m", "--time-scale", "1000")
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	if !strings.Contains(out, "sent 8 visitor.identified deliveries") || !strings.Contains(out, "8 delivered") || total.Load() != 8 {
		t.Errorf("summary %q, receiver saw %d", out, total.Load())
	}
}
