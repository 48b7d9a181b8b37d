package mocktest_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// scripted is a receiver whose n-th request takes delay(n) of mock time:
// it moves the manual clock by that much before it answers. With one
// worker, every attempt's latency and start are known exactly.
func scripted(t *testing.T, m *mocktest.Server, delay func(n int) time.Duration) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		d := delay(n)
		mu.Unlock()
		m.Clock.Advance(d)
	}))
	t.Cleanup(srv.Close)
	m.SetWebhook(bullseye.KindIdentification, srv.URL, "whsec_test")
}

func oneWorker(c *mock.Config) { c.Workers, c.PerEndpoint = 1, 1 }

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > want*0.001+0.001 { // three significant figures
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

// A receiver whose k-th answer takes k ms: percentiles are known, and
// since one worker sends them one after the other, the k-th starts
// k(k-1)/2 ms after it was due; the sixth is the first past 10 ms.
func TestTrafficReportOfAKnownDistribution(t *testing.T) {
	m := mocktest.NewServer(t, mocktest.WithConfig(oneWorker))
	scripted(t, m, func(n int) time.Duration { return time.Duration(n) * time.Millisecond })
	m.Trigger("visitor.identified", 100)
	m.Settle()
	r := m.Traffic(ops.Thresholds{})
	l := r.LatencyMs
	near(t, "p50", l.P50, 50)
	near(t, "p90", l.P90, 90)
	near(t, "p95", l.P95, 95)
	near(t, "p99", l.P99, 99)
	if l.Min != 1 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("min/mean/max %v/%v/%v, want 1/50.5/100", l.Min, l.Mean, l.Max)
	}
	if r.Requests != 100 || r.Success != 1 || r.StatusCodes["200"] != 100 || r.Deliveries.Delivered != 100 {
		t.Errorf("counts %+v, deliveries %+v", r.Class, r.Deliveries)
	}
	if r.Late.Count != 95 || r.Late.MaxMs != 4950 {
		t.Errorf("late %+v, want 95 late and the last 4950 ms behind", r.Late)
	}
	// 5050 ms from the first start to the last answer, all of it answered.
	if r.DurationMs != 4950 || r.WaitMs != 100 {
		t.Errorf("duration %v ms, wait %v ms; want 4950 and 100", r.DurationMs, r.WaitMs)
	}
	near(t, "throughput", r.Throughput, 100/5.05)
}

// The schedule is an open model: at 10/s with 50 ms answers every event
// starts on time; with 250 ms answers one worker falls behind, and the
// report says by how much, and that the rate fell to 4/s.
func TestTrafficRateIsOpenModel(t *testing.T) {
	for _, c := range []struct {
		delay     time.Duration
		rate      float64
		late      int64
		lateMaxMs float64
		pass      bool
	}{
		{50 * time.Millisecond, 10, 0, 0, true},
		{250 * time.Millisecond, 4, 9, 1350, false},
	} {
		m := mocktest.NewServer(t, mocktest.WithConfig(oneWorker))
		scripted(t, m, func(int) time.Duration { return c.delay })
		m.Emit(ops.Send{Type: "visitor.identified", Count: ops.N(10), Rate: "10/s"})
		for m.AdvanceToNextDue() {
		}
		minRate, maxLate := 0.99, 0
		r := m.Traffic(ops.Thresholds{MinRate: &minRate, MaxLate: &maxLate, MaxP99: ops.D(time.Second)})
		if r.TargetRate == nil || *r.TargetRate != 10 || r.FirstAttempts.Rate != c.rate {
			t.Errorf("delay %s: rate %v of target %v, want %v of 10", c.delay, r.FirstAttempts.Rate, r.TargetRate, c.rate)
		}
		if r.Late.Count != c.late || r.Late.MaxMs != c.lateMaxMs {
			t.Errorf("delay %s: late %+v, want %d, max %v ms", c.delay, r.Late, c.late, c.lateMaxMs)
		}
		if *r.Pass != c.pass || len(r.Thresholds) != 3 || !r.Thresholds[0].Pass {
			t.Errorf("delay %s: verdicts %+v, want pass %v with p99 held", c.delay, r.Thresholds, c.pass)
		}
	}
}

// Retries count apart from first attempts, and a reset starts the report
// afresh.
func TestTrafficRetriesAndReset(t *testing.T) {
	m := mocktest.NewServer(t)
	m.ConfigureSink("flaky", server.SinkConfig{Statuses: []int{500, 500, 200}})
	m.SetWebhook(bullseye.KindIdentification, m.SinkURL("flaky"), "whsec_test")
	m.Trigger("visitor.identified", 1)
	for m.AdvanceToNextDue() {
	}
	r := m.Traffic(ops.Thresholds{})
	if r.Requests != 3 || r.FirstAttempts.Requests != 1 || r.Retries.Requests != 2 || r.StatusCodes["500"] != 2 ||
		r.Retries.Success != 0.5 || r.FirstAttempts.Success != 0 {
		t.Errorf("report %+v / first %+v / retries %+v", r.Class, r.FirstAttempts, r.Retries)
	}
	m.Ops().Reset()
	if r := m.Traffic(ops.Thresholds{}); r.Requests != 0 || r.TargetRate != nil {
		t.Errorf("after reset: %+v", r.Class)
	}
}
