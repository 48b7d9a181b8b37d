package traffic

import (
	"strconv"
	"time"
)

// Thresholds turn a report into a verdict, as k6's do. Zero durations and
// nil pointers set no threshold.
type Thresholds struct {
	MaxP50, MaxP90, MaxP95, MaxP99, MaxLatency time.Duration
	MinSuccess                                 *float64 // share of attempts, 0..1
	MaxLate                                    *int64   // late starts
	// MinRate is the least achieved first-attempt rate, as a share of the
	// target rate (0.99: within 1% of it); it holds only with a target.
	MinRate *float64
}

// Verdict is one threshold checked.
type Verdict struct {
	Metric string `json:"metric"` // p99, success, late...
	Op     string `json:"op"`     // "<=" or ">="
	Limit  string `json:"limit"`
	Actual string `json:"actual"`
	Pass   bool   `json:"pass"`
}

// Any reports whether a threshold is set.
func (t Thresholds) Any() bool {
	return t.MaxP50 > 0 || t.MaxP90 > 0 || t.MaxP95 > 0 || t.MaxP99 > 0 || t.MaxLatency > 0 ||
		t.MinSuccess != nil || t.MaxLate != nil || t.MinRate != nil
}

// Check returns each threshold's verdict, in a fixed order.
func (t Thresholds) Check(r Summary) []Verdict {
	var out []Verdict
	lat := func(metric string, limit time.Duration, actual float64) {
		if limit > 0 {
			out = append(out, Verdict{Metric: metric, Op: "<=", Limit: limit.String(), Actual: msText(actual),
				Pass: actual <= ms(limit)})
		}
	}
	l := r.LatencyMs
	lat("p50", t.MaxP50, l.P50)
	lat("p90", t.MaxP90, l.P90)
	lat("p95", t.MaxP95, l.P95)
	lat("p99", t.MaxP99, l.P99)
	lat("max", t.MaxLatency, l.Max)
	if t.MinSuccess != nil {
		out = append(out, Verdict{Metric: "success", Op: ">=", Limit: num(*t.MinSuccess), Actual: num(r.Success),
			Pass: r.Requests > 0 && r.Success >= *t.MinSuccess})
	}
	if t.MaxLate != nil {
		out = append(out, Verdict{Metric: "late", Op: "<=", Limit: strconv.FormatInt(*t.MaxLate, 10),
			Actual: strconv.FormatInt(r.Late.Count, 10), Pass: r.Late.Count <= *t.MaxLate})
	}
	if t.MinRate != nil {
		v := Verdict{Metric: "rate", Op: ">=", Limit: num(*t.MinRate) + " of target", Actual: "no target"}
		if r.TargetRate != nil && *r.TargetRate > 0 {
			share := r.FirstAttempts.Rate / *r.TargetRate
			v.Actual = num(round(share)) + " of target"
			v.Pass = share >= *t.MinRate
		}
		out = append(out, v)
	}
	return out
}

// Judge checks t against r and records the verdicts in r.
func (t Thresholds) Judge(r *Summary) bool {
	r.Thresholds = t.Check(*r)
	pass := true
	for _, v := range r.Thresholds {
		pass = pass && v.Pass
	}
	r.Pass = &pass
	return pass
}
