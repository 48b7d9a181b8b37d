package ops

import (
	"strconv"
	"time"

	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// Thresholds are the load-test verdicts every surface takes with these
// keys: send's --max-p99 and --min-success flags, the query of GET
// /_mock/traffic, and a scenario's expect.traffic. Absent keys set none.
type Thresholds struct {
	MaxP50     *Duration `json:"maxP50,omitempty"`
	MaxP90     *Duration `json:"maxP90,omitempty"`
	MaxP95     *Duration `json:"maxP95,omitempty"`
	MaxP99     *Duration `json:"maxP99,omitempty"`
	MaxLatency *Duration `json:"maxLatency,omitempty"` // the slowest attempt
	// MinSuccess is the least share of attempts answered 2xx in full, 0..1.
	MinSuccess *float64 `json:"minSuccess,omitempty"`
	// MaxLate is the most attempts that may start behind schedule (see
	// traffic.LateAfter).
	MaxLate *int `json:"maxLate,omitempty"`
	// MinRate is the least achieved rate of first attempts as a share of
	// the target, 0..1 (0.99: within 1%); only where there is a target.
	MinRate *float64 `json:"minRate,omitempty"`
}

// ParseThresholds reads thresholds from text values by key (a query, the
// CLI's flags), refusing unknown keys under their name.
func ParseThresholds(values map[string]string) (Thresholds, error) {
	var t Thresholds
	for k, v := range values {
		d := Duration(v)
		switch k {
		case "maxP50":
			t.MaxP50 = &d
		case "maxP90":
			t.MaxP90 = &d
		case "maxP95":
			t.MaxP95 = &d
		case "maxP99":
			t.MaxP99 = &d
		case "maxLatency":
			t.MaxLatency = &d
		case "minSuccess", "minRate":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return t, fieldErr(k, "%s must be a number from 0 to 1, got %q", k, v)
			}
			if k == "minSuccess" {
				t.MinSuccess = &f
			} else {
				t.MinRate = &f
			}
		case "maxLate":
			n, err := strconv.Atoi(v)
			if err != nil {
				return t, fieldErr(k, "%s must be a whole number, got %q", k, v)
			}
			t.MaxLate = &n
		default:
			return t, fieldErr(k, "unknown threshold %q: known are %v", k, JSONKeys(Thresholds{}))
		}
	}
	_, err := t.Core()
	return t, err
}

// Core checks t and returns the traffic package's form. Every error is a
// *FieldError naming the key.
func (t Thresholds) Core() (traffic.Thresholds, error) {
	var out traffic.Thresholds
	for _, d := range []struct {
		field string
		in    *Duration
		out   *time.Duration
	}{{"maxP50", t.MaxP50, &out.MaxP50}, {"maxP90", t.MaxP90, &out.MaxP90}, {"maxP95", t.MaxP95, &out.MaxP95},
		{"maxP99", t.MaxP99, &out.MaxP99}, {"maxLatency", t.MaxLatency, &out.MaxLatency}} {
		if d.in == nil {
			continue
		}
		v, err := d.in.parse(d.field)
		if err != nil {
			return out, err
		}
		if v <= 0 {
			return out, fieldErr(d.field, "%s must be above 0, got %s", d.field, string(*d.in))
		}
		*d.out = v
	}
	for _, s := range []struct {
		field string
		v     *float64
	}{{"minSuccess", t.MinSuccess}, {"minRate", t.MinRate}} {
		if s.v != nil && !(*s.v >= 0 && *s.v <= 1) { // NaN fails too
			return out, fieldErr(s.field, "%s must be from 0 to 1, got %s", s.field, strconv.FormatFloat(*s.v, 'g', -1, 64))
		}
	}
	out.MinSuccess, out.MinRate = t.MinSuccess, t.MinRate
	if t.MaxLate != nil {
		if *t.MaxLate < 0 {
			return out, fieldErr("maxLate", "maxLate must not be negative, got %d", *t.MaxLate)
		}
		n := int64(*t.MaxLate)
		out.MaxLate = &n
	}
	return out, nil
}

// Traffic reports every attempt since start or the last reset, judged
// against th when it sets any threshold.
func (o *Ops) Traffic(th Thresholds) (traffic.Report, error) {
	core, err := th.Core()
	if err != nil {
		return traffic.Report{}, err
	}
	rep := o.traffic.Total().Report()
	if core.Any() {
		core.Judge(&rep.Summary)
	}
	return rep, nil
}

// TrafficGlance is the p99 and late count of the traffic so far, for a
// progress display.
func (o *Ops) TrafficGlance() traffic.Glance { return o.traffic.Total().Glance() }

// TrafficWindow records the attempts from now until close: a scenario
// run's own traffic in a mock that carries other traffic too.
func (o *Ops) TrafficWindow() (*traffic.Recorder, func()) { return o.traffic.Window() }

// noteRate tells the traffic report a rated request's target.
func (o *Ops) noteRate(interval time.Duration) {
	if interval > 0 {
		o.traffic.NoteTarget(float64(time.Second) / float64(interval))
	}
}
