package ops

import "time"

// The range of mock time. The engine keeps instants as Unix nanoseconds,
// which run out in 2262; these bounds keep every instant the mock schedules
// (a retry's included) well inside, so nothing far off wraps round and
// fires at once.
var (
	MinInstant = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxInstant = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxAhead bounds every duration the grammar takes (a delay, a duplicate's
// wait, a rate's span, a clock move): a century of mock time.
const MaxAhead = 100 * 365 * 24 * time.Hour

// checkInstant refuses an instant outside the clock's range, naming field.
func checkInstant(field string, t time.Time) *FieldError {
	if t.Before(MinInstant) || t.After(MaxInstant) {
		return fieldErr(field, "%s must be from %s to %s (the range of mock time), got %s", lastName(field),
			MinInstant.Format(time.RFC3339), MaxInstant.Format(time.RFC3339), t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// checkAhead refuses a duration past MaxAhead, naming field.
func checkAhead(field string, d time.Duration) *FieldError {
	if d > MaxAhead {
		return fieldErr(field, "%s must be at most %s (100 years of mock time), got %s", lastName(field), MaxAhead, d)
	}
	return nil
}

// checkFrom refuses an instant that from + d would put past the range.
func checkFrom(field string, from time.Time, d time.Duration) *FieldError {
	if from.Add(d).After(MaxInstant) {
		return fieldErr(field, "%s would reach %s, past the end of mock time (%s)", lastName(field),
			from.Add(d).UTC().Format(time.RFC3339), MaxInstant.Format(time.RFC3339))
	}
	return nil
}

func spanOf(count int, interval time.Duration) time.Duration {
	if count < 2 || interval <= 0 {
		return 0
	}
	if interval > MaxAhead/time.Duration(count-1) {
		return MaxAhead + 1 // would overflow: past the bound anyway
	}
	return time.Duration(count-1) * interval
}
