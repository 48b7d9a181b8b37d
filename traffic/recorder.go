package traffic

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	// LateAfter is how far behind its due time an attempt may start and
	// still count as on time: the scheduler's own precision, well under
	// any receiver's latency.
	LateAfter = 10 * time.Millisecond
	// highest is the largest latency the histograms tell apart, in
	// microseconds; longer ones count at this value (and Max stays exact).
	// An attempt is bounded by its timeout, 30 s unless a policy says more.
	highest = int64(time.Hour / time.Microsecond)
	// maxBuckets bounds the time series: past it, neighbouring buckets
	// merge and the bucket width doubles, so a send of any length keeps
	// its whole history in bounded memory.
	maxBuckets = 300
	// firstWidth is the series' starting bucket width.
	firstWidth = 10 * time.Millisecond
)

// class aggregates one class of attempts: all, first attempts, retries.
type class struct {
	requests    int64
	ok          int64
	statusCodes map[int]int64
	errors      map[string]int64
	latency     *hdrhistogram.Histogram // microseconds, 3 significant figures, 188 KB
	min, max    time.Duration           // exact
	sum         time.Duration
	// first is the earliest start or due time, whichever came first: a
	// late first attempt does not shorten the span a rate is taken over.
	first, last time.Time // last: the latest start
	end         time.Time // latest outcome
}

func newClass() class {
	return class{statusCodes: map[int]int64{}, errors: map[string]int64{}, latency: hdrhistogram.New(1, highest, 3)}
}

func (c *class) add(a Attempt) {
	c.requests++
	if a.OK {
		c.ok++
	}
	if a.StatusCode != 0 {
		c.statusCodes[a.StatusCode]++
	}
	if a.Error != "" {
		c.errors[a.Error]++
	}
	_ = c.latency.RecordValue(micros(a.Took))
	if c.requests == 1 || a.Took < c.min {
		c.min = a.Took
	}
	c.max = max(c.max, a.Took)
	c.sum += a.Took
	from := a.Start
	if !a.Due.IsZero() && a.Due.Before(from) {
		from = a.Due
	}
	if c.first.IsZero() || from.Before(c.first) {
		c.first = from
	}
	if a.Start.After(c.last) {
		c.last = a.Start
	}
	if end := a.Start.Add(a.Took); end.After(c.end) {
		c.end = end
	}
}

// micros is d in whole microseconds, clamped to the histograms' range.
func micros(d time.Duration) int64 {
	return min(max(int64(d/time.Microsecond), 0), highest)
}

// bucket is one slot of the time series, by start time.
type bucket struct {
	started, ok, failed, late int64
	latency                   *hdrhistogram.Histogram // coarse: one significant figure, 3.8 KB
}

func (b *bucket) add(a Attempt, late bool) {
	b.started++
	if a.OK {
		b.ok++
	} else {
		b.failed++
	}
	if late {
		b.late++
	}
	if b.latency == nil {
		b.latency = hdrhistogram.New(1, highest, 1)
	}
	_ = b.latency.RecordValue(micros(a.Took))
}

func (b *bucket) merge(o *bucket) {
	b.started += o.started
	b.ok += o.ok
	b.failed += o.failed
	b.late += o.late
	switch {
	case b.latency == nil:
		b.latency = o.latency
	case o.latency != nil:
		b.latency.Merge(o.latency)
	}
}

// Recorder aggregates the attempts it is given. It is safe for concurrent
// use, and its memory is bounded whatever it records.
type Recorder struct {
	mu sync.Mutex
	recorded
}

// recorded is a Recorder's state, apart from its lock so that Reset can
// replace it whole.
type recorded struct {
	all      class
	firsts   class
	retries  class
	canceled int64
	// Deliveries ended by the recorded attempts.
	delivered, failed int64
	lateness          *hdrhistogram.Histogram // microseconds behind due, every attempt
	late              int64
	lateMax           time.Duration
	origin            time.Time // the series' zero: the first start seen
	width             time.Duration
	buckets           []bucket
	// rates counts the distinct target rates noted, target is the last:
	// a report has a target only when there was one.
	rates  int
	target float64
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	r := &Recorder{}
	r.reset()
	return r
}

func (r *Recorder) reset() {
	r.recorded = recorded{
		all: newClass(), firsts: newClass(), retries: newClass(),
		lateness: hdrhistogram.New(1, highest, 3), width: firstWidth,
	}
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reset()
}

// NoteTarget records that events were sent at perSec first attempts a
// second, the report's target rate; several different rates leave the
// report without one.
func (r *Recorder) NoteTarget(perSec float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if perSec != r.target {
		r.rates++ // a streamed send's chunks note one rate many times
	}
	r.target = perSec
}

// Record adds one attempt.
func (r *Recorder) Record(a Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.Canceled {
		r.canceled++
		return
	}
	r.all.add(a)
	if a.Number <= 1 {
		r.firsts.add(a)
	} else {
		r.retries.add(a)
	}
	switch {
	case a.OK:
		r.delivered++
	case a.Final:
		r.failed++
	}
	var behind time.Duration
	if !a.Due.IsZero() && a.Start.After(a.Due) {
		behind = a.Start.Sub(a.Due)
	}
	_ = r.lateness.RecordValue(micros(behind))
	late := behind > LateAfter
	if late {
		r.late++
		r.lateMax = max(r.lateMax, behind)
	}
	r.bucketOf(a.Start).add(a, late)
}

// bucketOf returns the series bucket of an attempt started at t, widening
// the buckets when the series would grow past maxBuckets.
func (r *Recorder) bucketOf(t time.Time) *bucket {
	if r.origin.IsZero() || t.Before(r.origin) {
		r.rebase(t)
	}
	i := int(t.Sub(r.origin) / r.width)
	for i >= maxBuckets {
		r.widen()
		i = int(t.Sub(r.origin) / r.width)
	}
	for len(r.buckets) <= i {
		r.buckets = append(r.buckets, bucket{})
	}
	return &r.buckets[i]
}

// rebase moves the origin back to t (an attempt that started before every
// one seen so far: workers finish out of order), shifting the buckets.
func (r *Recorder) rebase(t time.Time) {
	if r.origin.IsZero() {
		r.origin = t
		return
	}
	shift := int((r.origin.Sub(t) + r.width - 1) / r.width)
	for shift+len(r.buckets) > maxBuckets {
		r.widen()
		shift = int((r.origin.Sub(t) + r.width - 1) / r.width)
	}
	r.buckets = append(make([]bucket, shift), r.buckets...)
	r.origin = r.origin.Add(-time.Duration(shift) * r.width)
}

// widen doubles the bucket width, merging neighbours.
func (r *Recorder) widen() {
	merged := make([]bucket, (len(r.buckets)+1)/2)
	for i := range r.buckets {
		merged[i/2].merge(&r.buckets[i])
	}
	r.buckets, r.width = merged, r.width*2
}

// Glance is the little a progress display shows, cheap enough to read
// several times a second: a whole Report walks every histogram while the
// sender waits on the lock.
type Glance struct {
	P99  time.Duration
	Late int64
}

// Glance reads the p99 latency and the late count so far.
func (r *Recorder) Glance() Glance {
	r.mu.Lock()
	defer r.mu.Unlock()
	p99 := time.Duration(r.all.latency.ValueAtQuantile(99)) * time.Microsecond
	return Glance{P99: min(p99, r.all.max), Late: r.late}
}

// Report summarises what was recorded.
func (r *Recorder) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := Report{Summary: Summary{
		Class:         r.all.report(),
		FirstAttempts: r.firsts.report(),
		Retries:       r.retries.report(),
		Canceled:      r.canceled,
		Deliveries:    Deliveries{Delivered: r.delivered, Failed: r.failed, Canceled: r.canceled},
		Late: Late{
			Count: r.late, AfterMs: ms(LateAfter), MaxMs: ms(r.lateMax),
			P99Ms: ms(time.Duration(r.lateness.ValueAtQuantile(99)) * time.Microsecond),
		},
	}, Histogram: bins(r.all.latency), Series: r.series()}
	if r.all.requests > 0 {
		rep.DurationMs = ms(r.all.last.Sub(r.all.first))
		rep.WaitMs = ms(max(r.all.end.Sub(r.all.last), 0))
		if span := r.all.end.Sub(r.all.first); span > 0 {
			rep.Throughput = round(float64(r.all.ok) / span.Seconds())
		}
	}
	if r.rates == 1 {
		target := r.target
		rep.TargetRate = &target
	}
	return rep
}

func (c *class) report() Class {
	out := Class{Requests: c.requests, StatusCodes: map[string]int64{}, Errors: map[string]int64{}}
	for code, n := range c.statusCodes {
		out.StatusCodes[strconv.Itoa(code)] = n
	}
	for kind, n := range c.errors {
		out.Errors[kind] = n
	}
	if c.requests == 0 {
		return out
	}
	out.Success = float64(c.ok) / float64(c.requests) // unrounded: thresholds compare it
	// n attempts spread evenly at rate r span (n-1)/r: from the first due
	// time to the last start covers n-1 intervals.
	if span := c.last.Sub(c.first); span > 0 {
		out.Rate = round(float64(c.requests-1) / span.Seconds())
	}
	q := func(p float64) float64 {
		return ms(time.Duration(c.latency.ValueAtQuantile(p)) * time.Microsecond)
	}
	out.LatencyMs = Latency{
		Min: ms(c.min), Mean: ms(c.sum / time.Duration(c.requests)),
		P50: q(50), P90: q(90), P95: q(95), P99: q(99), Max: ms(c.max),
	}
	// A percentile reads the top of its histogram slot; it never says more
	// than the exact maximum.
	for _, p := range []*float64{&out.LatencyMs.P50, &out.LatencyMs.P90, &out.LatencyMs.P95, &out.LatencyMs.P99} {
		*p = math.Min(*p, out.LatencyMs.Max)
	}
	return out
}

func (r *Recorder) series() Series {
	s := Series{BucketMs: ms(r.width), Points: make([]Point, len(r.buckets))}
	if !r.origin.IsZero() {
		o := r.origin
		s.Start = &o
	}
	per := r.width.Seconds()
	for i, b := range r.buckets {
		p := Point{OffsetMs: ms(time.Duration(i) * r.width), Started: b.started, OK: b.ok, Failed: b.failed, Late: b.late,
			Rate: round(float64(b.started) / per)}
		if b.latency != nil {
			p.P50Ms = ms(time.Duration(b.latency.ValueAtQuantile(50)) * time.Microsecond)
			p.P99Ms = ms(time.Duration(b.latency.ValueAtQuantile(99)) * time.Microsecond)
		}
		s.Points[i] = p
	}
	return s
}

// bins is the latency distribution in 40 log-spaced bins from the
// fastest attempt to the slowest, empty ones included so that the bins
// make a log axis: each counts the attempts with latency in (from, to].
func bins(h *hdrhistogram.Histogram) []Bin {
	if h.TotalCount() == 0 {
		return []Bin{}
	}
	const n = 40
	lo, hi := float64(max(h.Min(), 1)), float64(max(h.Max(), 2))
	step := math.Max(math.Pow(hi/lo, 1.0/n), 1.001)
	out := make([]Bin, n)
	for k := range out {
		from := lo * math.Pow(step, float64(k))
		out[k] = Bin{FromMs: round(from / 1000), ToMs: round(from * step / 1000)}
	}
	if h.Min() == 0 {
		out[0].FromMs = 0
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		k := 0
		if v := float64(max(bar.From, 1)); v > lo {
			k = min(int(math.Log(v/lo)/math.Log(step)), n-1)
		}
		out[k].Count += bar.Count
	}
	return out
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// round keeps four decimals: ratios and rates need no more.
func round(f float64) float64 { return math.Round(f*1e4) / 1e4 }
