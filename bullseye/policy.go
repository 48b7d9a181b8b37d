package bullseye

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Policy is the retry schedule. It is plain data with pure methods so that
// it can be table-tested without a server and set per flag or per scenario.
type Policy struct {
	// Delays[i-1] is the wait after failed attempt i before attempt i+1,
	// counted from the mock time the failed attempt ended (its timeout, for a
	// receiver that never answered). When there are more retries than
	// delays, the last delay repeats.
	Delays []time.Duration
	// Attempts is the number of attempts in all, the first included.
	Attempts int
	// Timeout is the mock time allowed for a complete response (headers and
	// body) to one attempt.
	Timeout time.Duration
}

// The vendor's documented defaults: retries 1m, 5m and 30m after each
// failure, four attempts in all, 30 s to answer.
const (
	DefaultAttempts = 4
	DefaultTimeout  = 30 * time.Second
	// MaxAttempts bounds Attempts; the log keeps the attempt number small.
	MaxAttempts = 100
	// MaxDelay bounds each retry delay and the attempt timeout: a
	// delivery's last attempt (MaxAttempts of each) is then under 55 years
	// past its first, inside the clock's range (instants up to 2200, Unix
	// nanoseconds to 2262).
	MaxDelay = 100 * 24 * time.Hour
)

// DefaultDelays returns the vendor's retry delays: 1m, 5m, 30m.
func DefaultDelays() []time.Duration {
	return []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute}
}

// DefaultPolicy is the vendor's documented schedule.
func DefaultPolicy() Policy {
	return Policy{Delays: DefaultDelays(), Attempts: DefaultAttempts, Timeout: DefaultTimeout}
}

// WithDefaults fills the zero fields of p from DefaultPolicy, so that a
// config that sets only the attempt count keeps the vendor's delays.
func (p Policy) WithDefaults() Policy {
	if p.Delays == nil {
		p.Delays = DefaultDelays()
	}
	if p.Attempts == 0 {
		p.Attempts = DefaultAttempts
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	return p
}

// Validate reports what makes p unusable.
func (p Policy) Validate() error {
	var errs []error
	if err := CheckAttempts(p.Attempts); err != nil {
		errs = append(errs, err)
	}
	if p.Attempts > 1 && len(p.Delays) == 0 {
		errs = append(errs, fmt.Errorf("%d attempts need at least one retry delay", p.Attempts))
	}
	for i, d := range p.Delays {
		if d < 0 {
			errs = append(errs, fmt.Errorf("retry delay %d is negative (%s)", i+1, d))
		}
		if d > MaxDelay {
			errs = append(errs, fmt.Errorf("retry delay %d must be at most %s (100 days), got %s", i+1, MaxDelay, d))
		}
	}
	if err := CheckTimeout(p.Timeout); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckAttempts is the one range check of an attempt count.
func CheckAttempts(n int) error {
	if n < 1 || n > MaxAttempts {
		return fmt.Errorf("attempts must be from 1 to %d, got %d", MaxAttempts, n)
	}
	return nil
}

// CheckTimeout is the one range check of an attempt's timeout.
func CheckTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("timeout must be positive, got %s", d)
	}
	if d > MaxDelay {
		return fmt.Errorf("timeout must be at most %s (100 days), got %s", MaxDelay, d)
	}
	return nil
}

// NextDelay returns the wait before the attempt after attempt number
// attempt (1-based, the one just made and failed), and false when that was
// the last attempt the policy allows.
func (p Policy) NextDelay(attempt int) (time.Duration, bool) {
	if attempt < 1 || attempt >= p.Attempts || len(p.Delays) == 0 {
		return 0, false
	}
	i := min(attempt, len(p.Delays)) - 1
	return p.Delays[i], true
}

// Failed reports whether an attempt that got statusCode (0 when there was no
// response) and err failed: any error, and any status outside 200-299.
// Redirects count as failures: the vendor does not follow them.
func Failed(statusCode int, err error) bool {
	return err != nil || statusCode < 200 || statusCode > 299
}

// ParseDelays parses a comma-separated list of Go durations ("1m,5m,30m"),
// the form a flag or an environment variable gives. Spaces around items are
// ignored; an empty string is an empty list.
func ParseDelays(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []time.Duration{}, nil
	}
	parts := strings.Split(s, ",")
	out := make([]time.Duration, 0, len(parts))
	for i, part := range parts {
		part = strings.TrimSpace(part)
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("retry delay %d: %w", i+1, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("retry delay %d: %q is negative", i+1, part)
		}
		out = append(out, d)
	}
	return out, nil
}

// FormatDelays is the inverse of ParseDelays.
func FormatDelays(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
}
