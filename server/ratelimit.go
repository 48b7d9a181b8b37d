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
	limit int
	// limitHdr and each window's resetHdr are header values made once and
	// shared by every answer (nothing appends to them), so a request does
	// not allocate them.
	limitHdr []string
	now      func() time.Time

	mu        sync.Mutex
	windows   map[string]*window
	lastSweep time.Time
}

type window struct {
	start    time.Time
	resetHdr []string // the Unix second of the reset, formatted once per window
	used     int
}

type rateState struct {
	Limit     int
	LimitHdr  []string
	Remaining int
	Reset     time.Time
	ResetHdr  []string
	Allowed   bool
}

func newRateLimiter(limit int, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: limit, limitHdr: []string{strconv.Itoa(limit)}, now: now, windows: map[string]*window{}}
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
		w = &window{start: start, resetHdr: []string{strconv.FormatInt(start.Add(time.Minute).Unix(), 10)}}
		l.windows[key] = w
	}
	allowed := w.used < l.limit
	if allowed {
		w.used++
	}
	return rateState{Limit: l.limit, LimitHdr: l.limitHdr, Remaining: l.limit - w.used, Reset: w.start.Add(time.Minute), ResetHdr: w.resetHdr, Allowed: allowed}
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
