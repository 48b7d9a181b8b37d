package main

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/check"
)

// The example must pass the whole battery, with no note: it is what the
// docs tell users to copy.
func TestReceiverPassesCheck(t *testing.T) {
	var processed atomic.Int32
	srv := httptest.NewServer(newHandler("whsec_example", func([]byte) { processed.Add(1) }))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep, err := check.Run(ctx, check.Config{URL: srv.URL, Secret: "whsec_example", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Status != check.Pass {
			t.Errorf("%s: %s: %s", r.Name, r.Status, r.Message)
		}
	}
	// One event per accepting case, the duplicates processed once, and
	// both sessions of the out-of-order case.
	if got := processed.Load(); got != 13 {
		t.Errorf("processed %d events, want 13", got)
	}
}
