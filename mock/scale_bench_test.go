package mock_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// status reads a size field of /proc/self/status in bytes (Linux; 0
// elsewhere): VmRSS, the resident set, or VmHWM, its high-water mark.
func status(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func rss() int64     { return status("VmRSS") }
func peakRSS() int64 { return status("VmHWM") }

// BenchmarkMillionPending holds 1,000,000 pending deliveries (scheduled an
// hour ahead on a manual clock) and reports what they cost, what reads cost
// at that size, and what a reset gives back:
//
//	go test -run '^$' -bench MillionPending -benchtime 1x ./mock
//
// It is a measurement, not a timed test: the figures go in
// docs/benchmarks-sender.md with the machine and the date.
func BenchmarkMillionPending(b *testing.B) {
	const n = 1_000_000
	for _, d := range bullseye.Dialects() {
		b.Run(d, func(b *testing.B) {
			for range b.N {
				m, err := mock.New(mock.Config{Clock: clock.NewManual(time.Unix(1.7e9, 0)), Headless: true, Dialect: bullseye.Dialect(d)})
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Start(); err != nil {
					b.Fatal(err)
				}
				// Never attempted: the manual clock stays an hour short.
				url, on := "http://127.0.0.1:9/hook", true
				if err := m.Ops().SetWebhook(m.Partners()[0].ID, bullseye.KindIdentification, ops.Webhook{URL: &url, Enabled: &on}); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap0, rss0 := int64(ms.HeapAlloc), rss()
				for range n / ops.MaxCount {
					if _, err := m.Ops().Emit(ops.Send{Type: "visitor.identified", Count: ops.N(ops.MaxCount), Delay: ops.D(time.Hour)}); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(int64(ms.HeapAlloc)-heap0)/n, "heap-B/pending")
				b.ReportMetric(float64(rss()-rss0)/n, "rss-B/pending")

				start := time.Now()
				if list, total, _ := m.Ops().Deliveries(ops.Query{Page: 1, PageSize: 100}); len(list) != 100 || total != n {
					b.Fatalf("page: %d of %d", len(list), total)
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "page100-ms")

				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				start = time.Now()
				res, _ := m.Ops().WaitAll(ctx, ops.Query{})
				cancel()
				if res.PendingCount != n {
					b.Fatalf("wait-all: %d pending", res.PendingCount)
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "waitall-ms")

				before := rss()
				m.Ops().Reset()
				runtime.GC()
				ctxc, cancelc := context.WithTimeout(context.Background(), 10*time.Second)
				_, _ = m.Close(ctxc)
				cancelc()
				debug.FreeOSMemory() // the reset's own hand-back runs in the background
				b.ReportMetric(float64(before)/(1<<20), "rss-before-reset-MB")
				b.ReportMetric(float64(rss())/(1<<20), "rss-after-reset-MB")
			}
		})
	}
}

// BenchmarkMillionThroughAPI posts 1,000,000 deliveries through the control
// API (ten requests of 100,000, as fast as it accepts them) to a fast
// local receiver on the real clock, waits until all are delivered, and
// reports the peak RSS and the rate:
//
//	go test -run '^$' -bench MillionThroughAPI -benchtime 1x -timeout 30m ./mock
func BenchmarkMillionThroughAPI(b *testing.B) {
	for range b.N {
		rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}))
		m, err := mock.New(mock.Config{})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Start(); err != nil {
			b.Fatal(err)
		}
		on := true
		if err := m.Ops().SetWebhook(m.Partners()[0].ID, bullseye.KindIdentification, ops.Webhook{URL: &rx.URL, Enabled: &on}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for range 10 {
			resp, err := http.Post(m.URL()+"/_mock/events", "application/json", strings.NewReader(`{"type": "visitor.identified", "count": 100000}`))
			if err != nil || resp.StatusCode != http.StatusAccepted {
				b.Fatalf("post: %v %v", resp, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		posted := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		if err := m.Ops().Idle(ctx); err != nil {
			b.Fatal(err)
		}
		for m.Ops().Stats().Pending > 0 {
			res, _ := m.Ops().WaitAll(ctx, ops.Query{})
			if ctx.Err() != nil || res.PendingCount == 0 {
				break
			}
		}
		cancel()
		all := time.Since(start)
		st := m.Ops().Stats()
		if st.Delivered != 1_000_000 {
			b.Fatalf("delivered %d", st.Delivered)
		}
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MB")
		b.ReportMetric(posted.Seconds(), "post-s")
		b.ReportMetric(1e6/all.Seconds(), "delivered/s")
		_, _ = m.Close(context.Background())
		rx.Close()
	}
}
