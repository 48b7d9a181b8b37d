package traffic

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// steady records n first attempts at rate per second, attempt i taking
// took(i), each on time.
func steady(r *Recorder, n int, rate float64, took func(i int) time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	for i := range n {
		at := t0.Add(time.Duration(i) * interval)
		r.Record(Attempt{Due: at, Start: at, Took: took(i), Number: 1, StatusCode: 200, OK: true, Final: true})
	}
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	// The histograms keep three significant figures.
	if math.Abs(got-want) > want*0.001+0.001 {
		t.Errorf("%s = %v, want %v (within 0.1%%)", name, got, want)
	}
}

// A known distribution: 1..1000 ms, one each. Every percentile is known.
func TestPercentilesOfAKnownDistribution(t *testing.T) {
	r := NewRecorder()
	steady(r, 1000, 100, func(i int) time.Duration { return time.Duration(i+1) * time.Millisecond })
	rep := reportAt(r, 100)
	l := rep.LatencyMs
	near(t, "p50", l.P50, 500)
	near(t, "p90", l.P90, 900)
	near(t, "p95", l.P95, 950)
	near(t, "p99", l.P99, 990)
	if l.Min != 1 || l.Max != 1000 || l.Mean != 500.5 {
		t.Errorf("min/mean/max = %v/%v/%v, want 1/500.5/1000 exactly", l.Min, l.Mean, l.Max)
	}
	if rep.Requests != 1000 || rep.Success != 1 || rep.StatusCodes["200"] != 1000 || rep.Deliveries.Delivered != 1000 {
		t.Errorf("counts: %+v", rep.Class)
	}
	if rep.Rate != 100 || rep.FirstAttempts.Rate != 100 {
		t.Errorf("rate = %v (first %v), want 100", rep.Rate, rep.FirstAttempts.Rate)
	}
	// 999 intervals of 10 ms, then the last answer 1 s after its start.
	if rep.DurationMs != 9990 || rep.WaitMs != 1000 {
		t.Errorf("duration %v ms, wait %v ms; want 9990 and 1000", rep.DurationMs, rep.WaitMs)
	}
	near(t, "throughput", rep.Throughput, 1000/10.99)
	if rep.Late.Count != 0 || rep.Retries.Requests != 0 {
		t.Errorf("late %d, retries %d; want none", rep.Late.Count, rep.Retries.Requests)
	}
}

// A bimodal receiver: 90 fast answers and 10 slow ones.
func TestPercentilesOfABimodalReceiver(t *testing.T) {
	r := NewRecorder()
	steady(r, 100, 10, func(i int) time.Duration {
		if i%10 == 9 {
			return 800 * time.Millisecond
		}
		return 5 * time.Millisecond
	})
	l := r.Report().LatencyMs
	near(t, "p50", l.P50, 5)
	near(t, "p90", l.P90, 5)
	near(t, "p95", l.P95, 800)
	near(t, "p99", l.P99, 800)
	near(t, "mean", l.Mean, 84.5)
}

func TestRetriesFailuresAndErrorsCountApart(t *testing.T) {
	r := NewRecorder()
	at := t0
	r.Record(Attempt{Due: at, Start: at, Took: 30 * time.Second, Number: 1, Error: KindTimeout})
	r.Record(Attempt{Due: at, Start: at, Took: time.Millisecond, Number: 1, StatusCode: 500})
	r.Record(Attempt{Due: at, Start: at, Took: time.Millisecond, Number: 1, Error: KindRefused})
	at = at.Add(time.Minute)
	r.Record(Attempt{Due: at, Start: at, Took: 2 * time.Millisecond, Number: 2, StatusCode: 503})
	r.Record(Attempt{Due: at, Start: at, Took: 2 * time.Millisecond, Number: 2, StatusCode: 200, OK: true, Final: true})
	r.Record(Attempt{Due: at, Start: at, Number: 4, StatusCode: 500, Final: true})
	r.Record(Attempt{Start: at, Canceled: true})
	rep := r.Report()
	if rep.Requests != 6 || rep.FirstAttempts.Requests != 3 || rep.Retries.Requests != 3 {
		t.Fatalf("requests %d = %d first + %d retries; want 6 = 3 + 3", rep.Requests, rep.FirstAttempts.Requests, rep.Retries.Requests)
	}
	if want := map[string]int64{"500": 2, "503": 1, "200": 1}; fmt.Sprint(rep.StatusCodes) != fmt.Sprint(want) {
		t.Errorf("statusCodes = %v, want %v", rep.StatusCodes, want)
	}
	if want := map[string]int64{KindTimeout: 1, KindRefused: 1}; fmt.Sprint(rep.Errors) != fmt.Sprint(want) {
		t.Errorf("errors = %v, want %v", rep.Errors, want)
	}
	near(t, "success", rep.Success, 1.0/6)
	near(t, "first success", rep.FirstAttempts.Success, 0)
	near(t, "retry success", rep.Retries.Success, 1.0/3)
	if rep.Canceled != 1 || rep.Deliveries != (Deliveries{Delivered: 1, Failed: 1, Canceled: 1}) {
		t.Errorf("canceled %d, deliveries %+v", rep.Canceled, rep.Deliveries)
	}
	if rep.FirstAttempts.LatencyMs.Max != 30000 {
		t.Errorf("first attempts' max = %v ms, want the 30 s timeout", rep.FirstAttempts.LatencyMs.Max)
	}
}

// An open model: due times stay on schedule, and starts that fell behind
// are counted with how far.
func TestLateStartsAreCounted(t *testing.T) {
	r := NewRecorder()
	for i := range 100 {
		due := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		start := due
		switch {
		case i >= 90:
			start = due.Add(time.Duration(i-89) * 100 * time.Millisecond) // 100 ms .. 1 s behind
		case i == 50:
			start = due.Add(LateAfter) // exactly at the bound: on time
		}
		r.Record(Attempt{Due: due, Start: start, Took: time.Millisecond, Number: 1, StatusCode: 200, OK: true})
	}
	late := reportAt(r, 100).Late
	if late.Count != 10 || late.MaxMs != 1000 || late.AfterMs != 10 {
		t.Errorf("late = %+v, want 10 late, max 1000 ms, after 10 ms", late)
	}
	near(t, "late p99", late.P99Ms, 900)
}

func TestSeriesStaysBoundedOverALongRun(t *testing.T) {
	r := NewRecorder()
	// An hour at 10/s: 36,000 attempts over far more than maxBuckets of
	// the first width.
	steady(r, 36000, 10, func(int) time.Duration { return time.Millisecond })
	s := reportAt(r, 10).Series
	if len(s.Points) > maxBuckets || len(s.Points) < maxBuckets/2 {
		t.Fatalf("%d points, want between %d and %d", len(s.Points), maxBuckets/2, maxBuckets)
	}
	var total int64
	for i, p := range s.Points {
		total += p.Started
		// Ten a second, give or take the one that falls either side of a
		// bucket's edge.
		if want := 10 * s.BucketMs / 1000; i < len(s.Points)-1 && math.Abs(float64(p.Started)-want) > 1 {
			t.Errorf("point %d: %d started in %v ms, want %v±1", i, p.Started, s.BucketMs, want)
		}
	}
	if total != 36000 || s.Start == nil || !s.Start.Equal(t0) {
		t.Errorf("series holds %d attempts from %v, want 36000 from %v", total, s.Start, t0)
	}
}

func TestSeriesTakesAnEarlierStartRecordedLater(t *testing.T) {
	r := NewRecorder()
	r.Record(Attempt{Start: t0.Add(time.Second), Took: time.Millisecond, StatusCode: 200, OK: true})
	r.Record(Attempt{Start: t0, Took: time.Millisecond, StatusCode: 200, OK: true})
	s := r.Report().Series
	if !s.Start.Equal(t0) || s.Points[0].Started != 1 || s.Points[len(s.Points)-1].Started != 1 {
		t.Errorf("series from %v: %+v", s.Start, s.Points)
	}
}

func TestThresholds(t *testing.T) {
	r := NewRecorder()
	steady(r, 100, 50, func(i int) time.Duration { return time.Duration(i+1) * time.Millisecond })
	r.Record(Attempt{Start: t0, Took: time.Millisecond, Number: 1, StatusCode: 500})
	f := func(v float64) *float64 { return &v }
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		th   Thresholds
		pass bool
	}{
		{Thresholds{MaxP99: 200 * time.Millisecond}, true},
		{Thresholds{MaxP99: 50 * time.Millisecond}, false},
		{Thresholds{MaxP50: 51 * time.Millisecond, MaxP90: 91 * time.Millisecond, MaxP95: 96 * time.Millisecond}, true},
		{Thresholds{MaxLatency: 99 * time.Millisecond}, false},
		{Thresholds{MinSuccess: f(0.99)}, true},
		{Thresholds{MinSuccess: f(1)}, false},
		{Thresholds{MaxLate: n(0)}, true},
		{Thresholds{MinRate: f(0.99)}, false}, // no target: nothing to meet
	}
	for _, c := range cases {
		rep := r.Report()
		if got := c.th.Judge(&rep.Summary); got != c.pass || *rep.Pass != c.pass || len(rep.Thresholds) == 0 {
			t.Errorf("%+v: pass %v (%+v), want %v", c.th, got, rep.Thresholds, c.pass)
		}
	}
	rep := reportAt(r, 50)
	if !(Thresholds{MinRate: f(0.99)}).Judge(&rep.Summary) {
		t.Errorf("rate at target: %+v", rep.Thresholds)
	}
	empty := NewRecorder().Report()
	if (Thresholds{MinSuccess: f(0)}).Judge(&empty.Summary) {
		t.Error("a success threshold held over no requests at all")
	}
}

func TestReportJSONHasTheFixedFields(t *testing.T) {
	r := NewRecorder()
	steady(r, 10, 10, func(int) time.Duration { return time.Millisecond })
	b, err := json.Marshal(reportAt(r, 10))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requests", "rate", "throughput", "success", "statusCodes", "latencyMs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON has no %q: %s", k, b)
		}
	}
	lat, _ := m["latencyMs"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p95", "p99", "max", "mean"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("latencyMs has no %q", k)
		}
	}
}

func TestWriteText(t *testing.T) {
	r := NewRecorder()
	steady(r, 4, 2, func(int) time.Duration { return 3 * time.Millisecond })
	rep := reportAt(r, 2)
	f := 0.5
	(Thresholds{MinSuccess: &f, MaxP99: time.Millisecond}).Judge(&rep.Summary)
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"requests      4 in 1.5s, rate 2/s (target 2/s)", "p99 3ms", "status codes  200: 4",
		"threshold     ok   success >= 0.5", "threshold     FAIL p99 <= 1ms (actual 3ms)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

// The SVG is well-formed and its bars are the data: each rate bar carries
// its bucket's rate, and the bins count every attempt.
func TestPlotShowsTheData(t *testing.T) {
	r := NewRecorder()
	steady(r, 200, 100, func(i int) time.Duration { return time.Duration(1+i%20) * time.Millisecond })
	for i := range 20 {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		r.Record(Attempt{Due: at, Start: at, Took: time.Millisecond, Number: 1, StatusCode: 500})
	}
	rep := reportAt(r, 100)
	var b bytes.Buffer
	if err := Plot(&b, rep); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TRAFFIC_PLOT") != "" {
		_ = os.WriteFile(os.Getenv("TRAFFIC_PLOT"), b.Bytes(), 0o644)
	}
	var okRate, failRate, binCount float64
	var markers []string
	var target string
	d := xml.NewDecoder(&b)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range el.Attr {
			attr[a.Name.Local] = a.Value
		}
		v := func(k string) float64 { f, _ := strconv.ParseFloat(attr[k], 64); return f }
		switch attr["class"] {
		case "rate-ok":
			okRate += v("data-rate")
		case "rate-failed":
			failRate += v("data-rate")
		case "bin":
			binCount += v("data-count")
		case "marker":
			markers = append(markers, attr["data-name"])
		case "target":
			target = attr["data-rate"]
		}
	}
	_, barMs := bars(rep.Series)
	width := barMs / 1000
	if okRate*width != 200 || failRate*width != 20 || binCount != 220 {
		t.Errorf("bars add up to %v delivered, %v failed, %v in bins; want 200, 20, 220", okRate*width, failRate*width, binCount)
	}
	if fmt.Sprint(markers) != "[p50 p90 p99]" || target != "100" {
		t.Errorf("markers %v, target %q", markers, target)
	}
}

func TestPlotOfNothingIsStillAPicture(t *testing.T) {
	var b bytes.Buffer
	if err := Plot(&b, NewRecorder().Report()); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("empty plot is not well-formed: %v", err)
	}
}

func TestErrorKind(t *testing.T) {
	cases := []struct {
		err      error
		timedOut bool
		want     string
	}{
		{nil, false, ""},
		{errors.New("anything"), true, KindTimeout},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, false, KindRefused},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), false, KindReset},
		{fmt.Errorf("over 1 MiB: %w", ErrTooLarge), false, KindTooLarge},
		{fmt.Errorf("after 10 bytes: %w", io.ErrUnexpectedEOF), false, KindCutOff},
		{&net.DNSError{Err: "no such host", Name: "nowhere.invalid"}, false, KindDNS},
		{errors.New("strange"), false, KindOther},
	}
	for _, c := range cases {
		if got := ErrorKind(c.err, c.timedOut); got != c.want {
			t.Errorf("ErrorKind(%v, %v) = %q, want %q", c.err, c.timedOut, got, c.want)
		}
	}
}

func TestHubWindows(t *testing.T) {
	h := NewHub()
	ok := Attempt{Start: t0, Took: time.Millisecond, StatusCode: 200, OK: true}
	h.Observe(ok)
	w, closeW := h.Window()
	h.Observe(ok)
	closeW()
	h.Observe(ok)
	if got := w.Report().Requests; got != 1 {
		t.Errorf("window saw %d attempts, want 1", got)
	}
	if got := h.Total().Report().Requests; got != 3 {
		t.Errorf("total saw %d, want 3", got)
	}
	h.Reset()
	if got := h.Total().Report().Requests; got != 0 {
		t.Errorf("after reset total saw %d", got)
	}
}

func BenchmarkRecord(b *testing.B) {
	r := NewRecorder()
	for i := 0; b.Loop(); i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		r.Record(Attempt{Due: at, Start: at, Took: time.Duration(i%5000) * time.Microsecond, Number: 1, StatusCode: 200, OK: true})
	}
}

// reportAt is r's report with target as its target rate.
func reportAt(r *Recorder, target float64) Report {
	r.NoteTarget(target)
	return r.Report()
}

// A first attempt that starts late (a slow first connection) does not make
// the rate look faster than the schedule: the span starts at its due time.
func TestRateIsTakenFromTheFirstDueTime(t *testing.T) {
	r := NewRecorder()
	for i := range 11 {
		due := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		start := due
		if i == 0 {
			start = due.Add(50 * time.Millisecond)
		}
		r.Record(Attempt{Due: due, Start: start, Took: time.Millisecond, Number: 1, StatusCode: 200, OK: true})
	}
	if rep := reportAt(r, 10); rep.Rate != 10 || rep.DurationMs != 1000 {
		t.Errorf("rate %v over %v ms, want 10 over 1000", rep.Rate, rep.DurationMs)
	}
}

// BenchmarkRecorderMemory reports the heap a recorder holds after a million
// attempts spread over an hour: bounded, whatever the count.
func BenchmarkRecorderMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := NewRecorder()
		for i := range 1_000_000 {
			at := t0.Add(time.Duration(i) * 3600 * time.Microsecond)
			r.Record(Attempt{Due: at, Start: at, Took: time.Duration(i%50000) * time.Microsecond, Number: 1 + i%2, StatusCode: 200, OK: true})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB/recorder")
		runtime.KeepAlive(r)
	}
}

func TestGlanceAgreesWithTheReport(t *testing.T) {
	r := NewRecorder()
	steady(r, 1000, 100, func(i int) time.Duration { return time.Duration(i+1) * time.Millisecond })
	g, rep := r.Glance(), r.Report()
	if ms(g.P99) != rep.LatencyMs.P99 || g.Late != rep.Late.Count {
		t.Errorf("glance %+v, report p99 %v late %d", g, rep.LatencyMs.P99, rep.Late.Count)
	}
}
