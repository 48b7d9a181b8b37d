package bullseye

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNextDelay(t *testing.T) {
	def := DefaultPolicy()
	short := Policy{Delays: []time.Duration{time.Second}, Attempts: 4, Timeout: time.Second}
	for _, tc := range []struct {
		name    string
		p       Policy
		attempt int
		want    time.Duration
		ok      bool
	}{
		{"after first", def, 1, time.Minute, true},
		{"after second", def, 2, 5 * time.Minute, true},
		{"after third", def, 3, 30 * time.Minute, true},
		{"after fourth: none left", def, 4, 0, false},
		{"past the end", def, 9, 0, false},
		{"attempt 0 is not an attempt", def, 0, 0, false},
		{"negative", def, -1, 0, false},
		{"last delay repeats", short, 3, time.Second, true},
		{"single attempt", Policy{Attempts: 1, Timeout: time.Second}, 1, 0, false},
		{"more delays than attempts", Policy{Delays: def.Delays, Attempts: 2, Timeout: 1}, 2, 0, false},
	} {
		got, ok := tc.p.NextDelay(tc.attempt)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: NextDelay(%d) = %s, %v; want %s, %v", tc.name, tc.attempt, got, ok, tc.want, tc.ok)
		}
	}
}

// TestDefaultSchedule pins the vendor's offsets from the first attempt when
// every response is instant: +0, +1m, +6m, +36m.
func TestDefaultSchedule(t *testing.T) {
	p := DefaultPolicy()
	var at time.Duration
	offsets := []time.Duration{0}
	for n := 1; ; n++ {
		d, ok := p.NextDelay(n)
		if !ok {
			break
		}
		at += d
		offsets = append(offsets, at)
	}
	want := []time.Duration{0, time.Minute, 6 * time.Minute, 36 * time.Minute}
	if len(offsets) != len(want) {
		t.Fatalf("offsets %v, want %v", offsets, want)
	}
	for i := range want {
		if offsets[i] != want[i] {
			t.Fatalf("offsets %v, want %v", offsets, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string // substring of the error; "" = valid
	}{
		{DefaultPolicy(), ""},
		{Policy{Attempts: 1, Timeout: time.Second}, ""},
		{Policy{Delays: []time.Duration{0}, Attempts: 3, Timeout: time.Second}, ""},
		{Policy{Attempts: 0, Timeout: time.Second}, "attempts"},
		{Policy{Attempts: MaxAttempts + 1, Delays: []time.Duration{1}, Timeout: time.Second}, "attempts"},
		{Policy{Attempts: 2, Timeout: time.Second}, "retry delay"},
		{Policy{Attempts: 2, Delays: []time.Duration{-1}, Timeout: time.Second}, "negative"},
		{Policy{Attempts: 1}, "timeout"},
		{Policy{Attempts: 1, Timeout: -time.Second}, "timeout"},
	} {
		err := tc.p.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.p, err, tc.want)
		}
	}
	if got := (Policy{Attempts: 2}).WithDefaults(); got.Attempts != 2 || len(got.Delays) != 3 || got.Timeout != DefaultTimeout {
		t.Errorf("WithDefaults kept the wrong fields: %+v", got)
	}
}

func TestFailed(t *testing.T) {
	for _, tc := range []struct {
		code int
		err  error
		want bool
	}{
		{200, nil, false}, {201, nil, false}, {204, nil, false}, {299, nil, false},
		{199, nil, true}, {300, nil, true}, {301, nil, true}, {302, nil, true}, {304, nil, true},
		{400, nil, true}, {404, nil, true}, {429, nil, true}, {500, nil, true}, {503, nil, true},
		{0, nil, true}, {0, errors.New("connection reset"), true}, {200, errors.New("body read timeout"), true},
	} {
		if got := Failed(tc.code, tc.err); got != tc.want {
			t.Errorf("Failed(%d, %v) = %v, want %v", tc.code, tc.err, got, tc.want)
		}
	}
}

func TestParseDelays(t *testing.T) {
	for in, want := range map[string]string{
		"1m,5m,30m":       "1m0s,5m0s,30m0s",
		" 100ms , 1h30m ": "100ms,1h30m0s",
		"":                "",
		"0s":              "0s",
	} {
		got, err := ParseDelays(in)
		if err != nil || FormatDelays(got) != want {
			t.Errorf("ParseDelays(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"1m,,5m", "5", "-1m", "1m,x", ","} {
		if _, err := ParseDelays(in); err == nil {
			t.Errorf("ParseDelays(%q) accepted", in)
		}
	}
}

func FuzzParseDelays(f *testing.F) {
	for _, s := range []string{"1m,5m,30m", "", "1h,-1s", "9999999999h", " 1ms ,2ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseDelays(s)
		if err != nil {
			return
		}
		for _, d := range ds {
			if d < 0 {
				t.Fatalf("negative delay from %q", s)
			}
		}
		back, err := ParseDelays(FormatDelays(ds))
		if err != nil || FormatDelays(back) != FormatDelays(ds) {
			t.Fatalf("round trip of %q: %v, %v", s, back, err)
		}
	})
}
