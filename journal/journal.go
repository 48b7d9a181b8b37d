// Package journal keeps the Partner API requests the mock answered, so a
// test can assert what the app under test sent: method, path, headers (the
// API key masked), body, the status answered, latency, and the fault that
// answered when one did. It is bounded like the attempt log: a cap, the
// oldest evicted first, evictions counted.
package journal

import (
	"context"
	"net/textproto"
	"slices"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// DefaultCap is how many requests the journal keeps by default.
const DefaultCap = 5000

// MaxCap bounds the cap a user may set.
const MaxCap = 1_000_000

// MaxBody is how many bytes of each request and response body an entry
// keeps; the rest is counted, and the entry marked truncated.
const MaxBody = 8 << 10

// Entry is one request and its answer.
type Entry struct {
	ID       int64     `json:"id"`       // 1, 2, ... in arrival order; never reused until a reset
	Time     time.Time `json:"time"`     // mock time of arrival
	RealTime time.Time `json:"realTime"` // wall-clock time of arrival
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query"`
	// Headers as received. The journal keeps them as they came and masks
	// the API key (and any Authorization) in every entry it hands out.
	Headers   map[string][]string `json:"headers"`
	PartnerID string              `json:"partnerId,omitempty"` // empty when the key was not valid
	// Body is the request body as received, up to MaxBody bytes; base64
	// when BodyEncoding says so (it was not UTF-8).
	Body          string  `json:"body"`
	BodyEncoding  string  `json:"bodyEncoding,omitempty"`
	BodyBytes     int64   `json:"bodyBytes"`
	BodyTruncated bool    `json:"bodyTruncated"`
	Status        int     `json:"status"` // 0: the connection was closed without an answer
	Response      string  `json:"response"`
	ResponseBytes int64   `json:"responseBytes"`
	RespTruncated bool    `json:"responseTruncated"`
	LatencyMs     float64 `json:"latencyMs"`
	Fault         string  `json:"fault,omitempty"` // the id of the fault that answered
}

// Header names whose values are secrets, in canonical form.
var (
	apiKeyHeader = textproto.CanonicalMIMEHeaderKey(bullseye.APIKeyHeader)
	secret       = []string{apiKeyHeader, "Authorization"}
)

// apiKey is the key the request carried.
func (e *Entry) apiKey() string {
	if v := e.Headers[apiKeyHeader]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// masked is e as it is handed out: its secret headers masked, in a copy of
// the header map (the journal's own stays as received).
func (e Entry) masked() Entry {
	h := make(map[string][]string, len(e.Headers))
	for k, vs := range e.Headers {
		if slices.Contains(secret, k) {
			m := make([]string, len(vs))
			for i, v := range vs {
				m[i] = bullseye.MaskKey(v)
			}
			vs = m
		}
		h[k] = vs
	}
	e.Headers = h
	return e
}

// Journal is safe for concurrent use.
type Journal struct {
	mu      sync.Mutex
	cap     int
	ring    []Entry // oldest at head once full
	head    int
	last    int64 // the id of the newest entry
	evicted int64
	changed chan struct{} // made by a waiter, closed (and dropped) on the next change
}

// New returns an empty journal holding at most cap entries (DefaultCap
// when cap <= 0).
func New(cap int) *Journal {
	if cap <= 0 {
		cap = DefaultCap
	}
	return &Journal{cap: cap}
}

// Add records e, giving it the next id, and returns it.
func (j *Journal) Add(e Entry) Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.last++
	e.ID = j.last
	if len(j.ring) < j.cap {
		j.ring = append(j.ring, e)
	} else {
		j.ring[j.head] = e
		j.head = (j.head + 1) % j.cap
		j.evicted++
	}
	j.wake()
	return e
}

// Stats says how many entries are held and how many were evicted since
// the last reset.
type Stats struct {
	Held    int   `json:"held"`
	Cap     int   `json:"cap"`
	Evicted int64 `json:"evicted"`
}

// Stats reads the journal's counters.
func (j *Journal) Stats() Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Stats{Held: len(j.ring), Cap: j.cap, Evicted: j.evicted}
}

// Reset forgets every entry and restarts ids at 1.
func (j *Journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ring, j.head, j.last, j.evicted = nil, 0, 0, 0
	j.wake()
}

// wake tells the waiters that something changed; the caller holds the
// lock. Without waiters there is no channel, so recording costs none.
func (j *Journal) wake() {
	if j.changed != nil {
		close(j.changed)
		j.changed = nil
	}
}

// matching returns the entries f selects, newest first, and the channel
// that closes on the next change.
func (j *Journal) matching(f *Filter) ([]Entry, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	n := len(j.ring)
	for i := n - 1; i >= 0; i-- {
		e := &j.ring[(j.head+i)%n]
		if f.Match(e) {
			out = append(out, e.masked())
		}
	}
	if j.changed == nil {
		j.changed = make(chan struct{})
	}
	return out, j.changed
}

// List returns one page (1-based) of the entries f selects, newest first,
// and how many it selects in all.
func (j *Journal) List(f Filter, page, size int) ([]Entry, int) {
	all, _ := j.matching(&f)
	start := (page - 1) * size
	if page < 1 || size < 1 || start >= len(all) {
		return []Entry{}, len(all)
	}
	return all[start:min(start+size, len(all))], len(all)
}

// Count says how many entries f selects.
func (j *Journal) Count(f Filter) int {
	all, _ := j.matching(&f)
	return len(all)
}

// Wait returns once at least n entries match f, or when ctx ends; the
// entries are those matching when it returned, newest first, and
// satisfied says whether there were n.
func (j *Journal) Wait(ctx context.Context, f Filter, n int) (entries []Entry, satisfied bool) {
	for {
		all, changed := j.matching(&f)
		if len(all) >= n {
			return all, true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return all, false
		}
	}
}
