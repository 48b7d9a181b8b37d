package server

import (
	"strconv"
	"sync"
	"time"
)

// rateLimiter counts requests per partner in fixed one-minute windows, the
// way the vendor reports its limit: a limit, what is left, and the Unix
// second at which the window resets. It runs on real time, not mock time: a
// manual clock that never moves must not freeze the window.
type rateLimiter struct {
	limit     int
	limitText string
	now       func() time.Time

	mu        sync.Mutex
	windows   map[string]*window
	lastSweep time.Time
}

type window struct {
	start     time.Time
	resetText string // the Unix second of the reset, formatted once per window
	used      int
}

type rateState struct {
	Limit     int
	LimitText string
	Remaining int
	Reset     time.Time
	ResetText string
	Allowed   bool
}

func newRateLimiter(limit int, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: limit, limitText: strconv.Itoa(limit), now: now, windows: map[string]*window{}}
}

// take counts one request of key and reports the state after it.
func (l *rateLimiter) take(key string) rateState {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w == nil {
			l.evictStale(now)
		}
		start := now.Truncate(time.Minute)
		w = &window{start: start, resetText: strconv.FormatInt(start.Add(time.Minute).Unix(), 10)}
		l.windows[key] = w
	}
	allowed := w.used < l.limit
	if allowed {
		w.used++
	}
	return rateState{Limit: l.limit, LimitText: l.limitText, Remaining: l.limit - w.used, Reset: w.start.Add(time.Minute), ResetText: w.resetText, Allowed: allowed}
}

// evictStale drops finished windows, so keys seen once (such as the
// addresses of unauthenticated clients) do not pile up.
func (l *rateLimiter) evictStale(now time.Time) {
	// At most once a minute: every window is a minute long, so sweeping
	// more often finds nothing new, and many fresh keys would make each
	// new key pay for a scan.
	if len(l.windows) < 1024 || now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, w := range l.windows {
		if now.Sub(w.start) >= time.Minute {
			delete(l.windows, k)
		}
	}
}
