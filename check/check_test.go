package check_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/check"
	"github.com/bullseye-mock/bullseye-mock/examples/receivers/naive"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

const secret = "whsec_check_test"

func runAgainst(t *testing.T, f naive.Flaws, cfg check.Config) *check.Report {
	t.Helper()
	srv := httptest.NewServer(naive.Handler(secret, f))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg.URL, cfg.Secret, cfg.Seed = srv.URL+"/hook", secret, 7
	rep, err := check.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// byStatus returns the names of the results with status s.
func byStatus(rep *check.Report, s check.Status) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status == s {
			out = append(out, r.Name)
		}
	}
	return out
}

func TestCorrectReceiverPassesEverything(t *testing.T) {
	rep := runAgainst(t, naive.Flaws{}, check.Config{})
	if !rep.OK() || rep.Notes != 0 || len(rep.Results) != len(check.Names()) {
		for _, r := range rep.Results {
			t.Logf("%s %s %s", r.Status, r.Name, r.Message)
		}
		t.Fatalf("passed %d failed %d notes %d of %d", rep.Passed, rep.Failed, rep.Notes, len(rep.Results))
	}
}

// Each flaw is reported by the cases meant to catch it, and only by them,
// with a message that names the cause.
func TestEachFlawCaughtByItsCases(t *testing.T) {
	accepting := []string{"valid_identification", "valid_identification_short", "valid_billing",
		"raw_escaped_unicode", "raw_emoji", "raw_escaped_slashes", "raw_whitespace", "raw_key_order",
		"unknown_fields", "duplicate", "duplicate_concurrent", "out_of_order"}
	tests := []struct {
		name    string
		flaws   naive.Flaws
		timeout time.Duration
		fail    []string
		notes   []string
		message string // in every failing case's message
	}{
		{name: "reserialize", flaws: naive.Flaws{Reserialize: true},
			fail:    []string{"raw_escaped_unicode", "raw_emoji", "raw_escaped_slashes", "raw_whitespace"},
			message: "re-serialisation"},
		{name: "500 on missing signature", flaws: naive.Flaws{MissingSignature500: true},
			fail: []string{"sig_missing"}, message: "answered 500 to a request without X-Bullseye-Signature, expected 4xx (401): a 5xx makes the vendor retry"},
		{name: "strict fields", flaws: naive.Flaws{StrictFields: true},
			fail: []string{"unknown_fields"}, message: "answered 400, expected 2xx: the receiver probably rejects fields it does not know"},
		{name: "409 on duplicates", flaws: naive.Flaws{Conflict: true},
			fail: []string{"duplicate", "duplicate_concurrent"}, message: "answered 409, expected 2xx: the vendor may deliver the same event more than once"},
		{name: "slow", flaws: naive.Flaws{Slow: 400 * time.Millisecond}, timeout: 150 * time.Millisecond,
			fail: accepting, message: "no full response within 150ms"},
		{name: "no verification", flaws: naive.Flaws{SkipVerification: true},
			fail:    []string{"sig_wrong_secret", "sig_missing", "sig_empty", "sig_non_hex", "sig_truncated", "sig_other_bytes"},
			notes:   []string{"sig_uppercase"},
			message: "the receiver must verify the signature over the raw body"},
		{name: "case-insensitive comparison", flaws: naive.Flaws{CaseInsensitive: true},
			notes: []string{"sig_uppercase"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := runAgainst(t, tt.flaws, check.Config{Timeout: tt.timeout})
			if got := byStatus(rep, check.Fail); !slices.Equal(got, tt.fail) {
				t.Errorf("failed %v, want %v", got, tt.fail)
			}
			if got := byStatus(rep, check.Note); !slices.Equal(got, tt.notes) {
				t.Errorf("notes %v, want %v", got, tt.notes)
			}
			for _, r := range rep.Results {
				if r.Status == check.Fail && !strings.Contains(r.Message, tt.message) {
					t.Errorf("%s: message %q lacks %q", r.Name, r.Message, tt.message)
				}
			}
		})
	}
}

// A receiver configured with another secret refuses valid events, and the
// message points at the secret first.
func TestWrongSecretConfigured(t *testing.T) {
	srv := httptest.NewServer(naive.Handler("another"+secret, naive.Flaws{}))
	t.Cleanup(srv.Close)
	rep, err := check.Run(context.Background(), check.Config{URL: srv.URL, Secret: secret, Seed: 1, Cases: []string{"valid_identification"}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.Status != check.Fail || !strings.Contains(r.Message, "answered 401, expected 2xx: check that the secret") {
		t.Errorf("%s %q", r.Status, r.Message)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = check.Run(context.Background(), check.Config{URL: "http://" + addr + "/hook", Secret: secret})
	if !errors.Is(err, check.ErrUnreachable) {
		t.Errorf("err %v, want ErrUnreachable", err)
	}
	if _, err := check.Run(context.Background(), check.Config{URL: "ftp://x", Secret: secret}); err == nil || errors.Is(err, check.ErrUnreachable) {
		t.Errorf("ftp URL: err %v", err)
	}
}

// Selecting cases leaves the others' bytes unchanged: a case's payloads
// come from the seed and its own name.
func TestSelectionKeepsBytes(t *testing.T) {
	// One instant for both runs: payloads carry it, and two runs on the real
	// clock straddle a second now and then.
	now := func() time.Time { return fixtures.ExampleTime() }
	all := runAgainst(t, naive.Flaws{}, check.Config{Now: now})
	one := runAgainst(t, naive.Flaws{}, check.Config{Now: now, Cases: []string{"raw_whitespace"}})
	if len(one.Results) != 1 || len(one.Skipped) != len(check.Names())-1 {
		t.Fatalf("results %d skipped %d", len(one.Results), len(one.Skipped))
	}
	for _, r := range all.Results {
		if r.Name == "raw_whitespace" && r.Exchanges[0].Body != one.Results[0].Exchanges[0].Body {
			t.Error("raw_whitespace sent other bytes when run alone")
		}
	}
}

// Cancelling mid-run keeps the finished cases and drops the one cut short,
// whose "no answer" would blame the receiver.
func TestCancelMidRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	inner := naive.Handler(secret, naive.Flaws{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && n.Add(1) == 3 {
			cancel() // the third case's request
			// Read the body first: only then does the server notice the
			// client hanging up, and end r's context.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rep, err := check.Run(ctx, check.Config{URL: srv.URL, Secret: secret, Seed: 1})
	if !errors.Is(err, context.Canceled) || rep == nil || len(rep.Results) != 2 || !rep.OK() {
		t.Fatalf("err %v, report %+v", err, rep)
	}
}
