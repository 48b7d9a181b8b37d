package traffic

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is what a load tool prints: the whole traffic at the top level,
// first attempts and retries apart, then the pictures' data. Durations are
// milliseconds of mock time; rates are per second of mock time.
type Report struct {
	Summary
	Histogram []Bin  `json:"histogram"`
	Series    Series `json:"series"`
}

// Summary is a report without its histogram and series: what a scenario
// run's report carries.
type Summary struct {
	Class
	// TargetRate is the intended first attempts per second, when known.
	TargetRate *float64 `json:"targetRate,omitempty"`
	// Throughput is successful attempts per second from the first start to
	// the last outcome.
	Throughput float64 `json:"throughput"`
	// DurationMs runs from the first attempt's due time (or its start, if
	// earlier) to the last start; WaitMs from the last start to the last
	// outcome.
	DurationMs    float64    `json:"durationMs"`
	WaitMs        float64    `json:"waitMs"`
	Late          Late       `json:"late"`
	Canceled      int64      `json:"canceled"`
	Deliveries    Deliveries `json:"deliveries"`
	FirstAttempts Class      `json:"firstAttempts"`
	Retries       Class      `json:"retries"`
	// Thresholds and Pass are set when thresholds were checked.
	Thresholds []Verdict `json:"thresholds,omitempty"`
	Pass       *bool     `json:"pass,omitempty"`
}

// Class is one class of attempts. Requests are HTTP attempts (canceled
// ones made none); Success is the share answered 2xx in full; Rate is
// attempts started per second from the first due time to the last start,
// so a slow first connection does not inflate it.
type Class struct {
	Requests    int64            `json:"requests"`
	Rate        float64          `json:"rate"`
	Success     float64          `json:"success"`
	StatusCodes map[string]int64 `json:"statusCodes"`
	Errors      map[string]int64 `json:"errors"`
	LatencyMs   Latency          `json:"latencyMs"`
}

// Latency is in milliseconds. Percentiles come from an HDR histogram with
// three significant figures (within 0.1%); Min, Mean and Max are exact.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Late counts attempts that started more than AfterMs behind their due
// time, because every worker or the endpoint's slots were busy: the
// schedule kept its times (an open model), the sender fell behind.
type Late struct {
	Count   int64   `json:"count"`
	AfterMs float64 `json:"afterMs"`
	P99Ms   float64 `json:"p99Ms"` // of every attempt's delay behind due
	MaxMs   float64 `json:"maxMs"`
}

// Deliveries counts the deliveries the recorded attempts ended.
type Deliveries struct {
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
	Canceled  int64 `json:"canceled"`
}

// Bin is one bar of the latency distribution: Count attempts took more
// than FromMs and at most ToMs.
type Bin struct {
	FromMs float64 `json:"fromMs"`
	ToMs   float64 `json:"toMs"`
	Count  int64   `json:"count"`
}

// Series is the traffic over time, in buckets of BucketMs from Start.
type Series struct {
	Start    *time.Time `json:"start,omitempty"`
	BucketMs float64    `json:"bucketMs"`
	Points   []Point    `json:"points"`
}

// Point is one bucket: attempts started in it, by outcome, their rate per
// second, and their latency's median and 99th percentile (one significant
// figure: within about 6%, enough for a picture over time).
type Point struct {
	OffsetMs float64 `json:"offsetMs"`
	Started  int64   `json:"started"`
	OK       int64   `json:"ok"`
	Failed   int64   `json:"failed"`
	Late     int64   `json:"late"`
	Rate     float64 `json:"rate"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
}

// WriteText prints the report as load tools do: a few aligned lines.
func (r Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	target := ""
	if r.TargetRate != nil {
		target = fmt.Sprintf(" (target %s/s)", num(*r.TargetRate))
	}
	fmt.Fprintf(&b, "requests      %d in %s, rate %s/s%s, throughput %s/s\n", r.Requests, msText(r.DurationMs), num2(r.Rate), target, num2(r.Throughput))
	fmt.Fprintf(&b, "success       %s (%d delivered, %d failed, %d canceled)\n", pct(r.Success), r.Deliveries.Delivered, r.Deliveries.Failed, r.Deliveries.Canceled)
	writeLatency(&b, "latency", r.Class)
	if r.Retries.Requests > 0 {
		writeLatency(&b, "  first", r.FirstAttempts)
		writeLatency(&b, "  retries", r.Retries)
	}
	fmt.Fprintf(&b, "status codes  %s\n", counts(r.StatusCodes))
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "errors        %s\n", counts(r.Errors))
	}
	fmt.Fprintf(&b, "late starts   %d (more than %s behind schedule; max %s, p99 %s)\n", r.Late.Count, msText(r.Late.AfterMs), msText(r.Late.MaxMs), msText(r.Late.P99Ms))
	for _, v := range r.Thresholds {
		mark := "ok  "
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "threshold     %s %s %s %s (actual %s)\n", mark, v.Metric, v.Op, v.Limit, v.Actual)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeLatency(b *strings.Builder, label string, c Class) {
	l := c.LatencyMs
	fmt.Fprintf(b, "%-13s min %s, mean %s, p50 %s, p90 %s, p95 %s, p99 %s, max %s\n", label,
		msText(l.Min), msText(l.Mean), msText(l.P50), msText(l.P90), msText(l.P95), msText(l.P99), msText(l.Max))
}

// counts prints a map sorted by key: "200: 98, 500: 2".
func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, ", ")
}

func msText(v float64) string {
	return time.Duration(v * float64(time.Millisecond)).Round(time.Microsecond).String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// num2 is a rate for reading: two decimals at most.
func num2(f float64) string { return num(float64(int64(f*100+0.5)) / 100) }

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }
