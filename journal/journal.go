// Package journal keeps the Partner API requests the mock answered, so a
// test can assert what the app under test sent: method, path, headers (the
// API key masked), body, the status answered, latency, and the fault that
// answered when one did. It is bounded like the attempt log: a cap, the
// oldest evicted first, evictions counted.
package journal

import (
	"context"
	"encoding/json"
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

	parsed *parsedBody // the body decoded, once, for body filters
}

type parsedBody struct {
	v  any
	ok bool
}

// json is the body decoded, decoded on the first call (under the
// journal's lock) and kept: a wait with a body filter looks at each entry
// many times.
func (e *Entry) json() (any, bool) {
	if e.parsed == nil {
		p := &parsedBody{}
		if !e.BodyTruncated && e.BodyEncoding == "" {
			p.ok = json.Unmarshal([]byte(e.Body), &p.v) == nil
		}
		e.parsed = p
	}
	return e.parsed.v, e.parsed.ok
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
	e.parsed = nil
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
	resets  int64         // how many resets: a waiter's ids are void across one
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
	j.resets++
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

// at is the held entry with id, or nil; the caller holds the lock.
func (j *Journal) at(id int64) *Entry {
	n := int64(len(j.ring))
	oldest := j.last - n + 1
	if id < oldest || id > j.last {
		return nil
	}
	return &j.ring[(int64(j.head)+id-oldest)%n]
}

// scan visits the held entries f selects, newest first, until visit says
// stop; the caller holds the lock. Ids only grow, so f.After ends it early.
func (j *Journal) scan(f *Filter, visit func(*Entry) bool) {
	for id := j.last; id > max(f.After, j.last-int64(len(j.ring))); id-- {
		if e := j.at(id); f.Match(e) && !visit(e) {
			return
		}
	}
}

// List returns one page (1-based) of the entries f selects, newest first,
// and how many it selects in all. Only the page is copied (and masked).
func (j *Journal) List(f Filter, page, size int) ([]Entry, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out, skip, total := []Entry{}, (page-1)*size, 0
	j.scan(&f, func(e *Entry) bool {
		if total >= skip && len(out) < size {
			out = append(out, e.masked())
		}
		total++
		return true
	})
	return out, total
}

// Count says how many entries f selects.
func (j *Journal) Count(f Filter) int {
	_, n := j.List(f, 1, 0)
	return n
}

// Wait returns once at least n held entries match f, or when ctx ends,
// with the newest size of them and how many matched; satisfied says
// whether there were n. Each change costs a look at the entries added
// since the last one, not a scan of the journal.
func (j *Journal) Wait(ctx context.Context, f Filter, n, size int) (entries []Entry, matched int, satisfied bool) {
	var ids []int64 // matching ids, oldest first
	var seen int64  // the newest id looked at
	resets := int64(-1)
	for {
		j.mu.Lock()
		if j.resets != resets { // the first look, or a reset: start over
			ids, seen, resets = nil, 0, j.resets
		}
		oldest := j.last - int64(len(j.ring)) + 1
		for len(ids) > 0 && ids[0] < oldest { // evicted
			ids = ids[1:]
		}
		var fresh []int64
		g := f
		g.After = max(f.After, seen)
		j.scan(&g, func(e *Entry) bool { fresh = append(fresh, e.ID); return true })
		for k := len(fresh) - 1; k >= 0; k-- {
			ids = append(ids, fresh[k])
		}
		seen = j.last
		done := len(ids) >= n
		var changed <-chan struct{}
		if !done && ctx.Err() == nil {
			if j.changed == nil {
				j.changed = make(chan struct{})
			}
			changed = j.changed
		}
		if changed == nil {
			entries = []Entry{}
			for k := len(ids) - 1; k >= 0 && len(entries) < size; k-- {
				entries = append(entries, j.at(ids[k]).masked())
			}
			j.mu.Unlock()
			return entries, len(ids), done
		}
		j.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
		}
	}
}
