package ops

import (
	"strings"
	"testing"
	"time"
)

func TestParseThresholds(t *testing.T) {
	th, err := ParseThresholds(map[string]string{"maxP99": "200ms", "minSuccess": "0.99", "maxLate": "3", "minRate": "1"})
	if err != nil {
		t.Fatal(err)
	}
	core, err := th.Core()
	if err != nil || core.MaxP99 != 200*time.Millisecond || *core.MinSuccess != 0.99 || *core.MaxLate != 3 || *core.MinRate != 1 {
		t.Errorf("%+v %v", core, err)
	}
	for values, want := range map[string]string{
		"maxP50=0s":      "maxP50 must be above 0, got 0s",
		"maxP90=-1s":     "maxP90 must not be negative, got -1s",
		"minSuccess=NaN": "minSuccess must be from 0 to 1, got NaN",
		"minRate=x":      `minRate must be a number from 0 to 1, got "x"`,
		"maxLate=1.5":    `maxLate must be a whole number, got "1.5"`,
		"p99=1s":         `unknown threshold "p99": known are [maxP50 maxP90 maxP95 maxP99 maxLatency minSuccess maxLate minRate]`,
	} {
		k, v, _ := strings.Cut(values, "=")
		_, err := ParseThresholds(map[string]string{k: v})
		fe, ok := err.(*FieldError)
		if !ok || fe.Msg != want || fe.Field != k {
			t.Errorf("%s: %v, want %q under %s", values, err, want, k)
		}
	}
}

// FuzzParseThresholds: a query's thresholds never panic, and what is
// accepted is in range.
func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"200ms", "0.99", "3", "-1", "NaN", "1e309", "99999999h", ""} {
		f.Add("maxP99", s)
		f.Add("minSuccess", s)
		f.Add("maxLate", s)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		th, err := ParseThresholds(map[string]string{key: value})
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		core, err := th.Core()
		if err != nil {
			t.Fatalf("accepted, then refused: %v", err)
		}
		if core.MinSuccess != nil && !(*core.MinSuccess >= 0 && *core.MinSuccess <= 1) ||
			core.MaxLate != nil && *core.MaxLate < 0 || core.MaxP99 < 0 || core.MaxP99 > MaxAhead {
			t.Fatalf("out of range: %+v", core)
		}
	})
}
