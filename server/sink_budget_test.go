package server

import (
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
)

// TestSinkByteBudget: past the budget the oldest requests go, first the
// receiving sink's own, then other sinks'; the count stays exact through
// reconfiguring, deleting and clearing.
func TestSinkByteBudget(t *testing.T) {
	ss := newSinkSet(clock.NewManual(time.Unix(0, 0)), 1<<20)
	body := strings.Repeat("x", 1000)
	size := recordSize(SinkRequest{BodyRaw: body})
	ss.budget = 5 * size
	a, b := defaultSink("t"), defaultSink("t")
	ss.sinks["a"], ss.sinks["b"] = a, b
	for i := 0; i < 3; i++ {
		ss.keep(a, SinkRequest{Seq: i + 1, BodyRaw: body})
	}
	for i := 0; i < 2; i++ {
		ss.keep(b, SinkRequest{Seq: i + 1, BodyRaw: body})
	}
	if ss.bytes != 5*size {
		t.Fatalf("bytes %d, want %d", ss.bytes, 5*size)
	}
	ss.keep(b, SinkRequest{Seq: 3, BodyRaw: body}) // b drops its own oldest
	if len(a.requests) != 3 || len(b.requests) != 2 || b.requests[0].Seq != 2 || b.evicted != 1 {
		t.Fatalf("a %d, b %d (first %d, evicted %d)", len(a.requests), len(b.requests), b.requests[0].Seq, b.evicted)
	}
	c := defaultSink("t")
	ss.sinks["c"] = c
	ss.keep(c, SinkRequest{Seq: 1, BodyRaw: body}) // c holds nothing: another sink gives way
	if total := len(a.requests) + len(b.requests) + len(c.requests); total != 5 || ss.bytes != 5*size {
		t.Fatalf("%d requests, %d bytes after an eviction elsewhere", total, ss.bytes)
	}
	ss.forget(a)
	delete(ss.sinks, "a")
	if want := int64(len(b.requests)+len(c.requests)) * size; ss.bytes != want {
		t.Fatalf("bytes %d after forgetting a, want %d", ss.bytes, want)
	}
	ss.clearRequests()
	if ss.bytes != 0 {
		t.Fatalf("bytes %d after clearing", ss.bytes)
	}
}
