package sender

import (
	"testing"
	"time"
)

func TestLatencyHistogram(t *testing.T) {
	var c counters
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond, time.Second, 30 * time.Second, 31 * time.Second} {
		c.observe(d)
	}
	lat := c.latencyStats()
	if lat.Count != 6 || lat.Sum != (0.005+0.006+1+30+31) {
		t.Fatalf("count %d sum %g", lat.Count, lat.Sum)
	}
	want := map[float64]uint64{0.005: 2, 0.01: 3, 0.5: 3, 1: 4, 20: 4, 30: 5}
	for i, le := range lat.Bounds {
		if n, ok := want[le]; ok && lat.Buckets[i] != n {
			t.Errorf("le=%g: %d, want %d", le, lat.Buckets[i], n)
		}
	}
}
