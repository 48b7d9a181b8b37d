package sender

import (
	"math"
	"time"
	"unique"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/google/uuid"
)

// logEntry is the attempt log's compact form of an Attempt (about 120
// bytes, no pointer to the delivery, so an entry never keeps a payload
// alive). The log holds LogCap of them in one flat ring.
type logEntry struct {
	id       [16]byte
	delivery [16]byte
	meta     unique.Handle[meta]
	partner  unique.Handle[string] // compared by handle: tenant filtering is one compare per entry
	url      string
	err      string
	at       int64         // attemptedAt, mock Unix ns
	next     int64         // nextAttemptAt, mock Unix ns; 0 when none
	elapsed  time.Duration // mock time from start to outcome
	code     int32
	kind     uint8
	status   uint8
	attempt  uint8
}

const (
	logDelivered uint8 = iota
	logRetrying
	logFailed
	logCanceled
)

var statusWords = [...]string{logDelivered: bullseye.StatusDelivered, logRetrying: bullseye.StatusRetrying, logFailed: bullseye.StatusFailed, logCanceled: bullseye.StatusCanceled}

func statusCode(word string) (uint8, bool) {
	for i, w := range statusWords {
		if w == word {
			return uint8(i), true
		}
	}
	return 0, false
}

func kindCode(kind string) uint8 {
	if kind == bullseye.KindBilling {
		return 1
	}
	return 0
}

// toAttempt converts the entry to the API's form.
func (e *logEntry) toAttempt() Attempt {
	m := e.meta.Value()
	a := Attempt{
		ID:             uuid.UUID(e.id).String(),
		Type:           m.Kind,
		OrganizationID: m.OrganizationID,
		Status:         statusWords[e.status],
		StatusCode:     int(e.code),
		AttemptedAt:    time.Unix(0, e.at).UTC(),
		ResponseTimeMs: e.elapsed.Milliseconds(),
		DeliveryID:     uuid.UUID(e.delivery).String(),
		Attempt:        int(e.attempt),
		EventType:      m.EventType,
		URL:            e.url,
		Error:          e.err,
		PartnerID:      m.PartnerID,
	}
	if e.next != 0 {
		t := time.Unix(0, e.next).UTC()
		a.NextAttemptAt = &t
	}
	return a
}

// attemptLog is a ring of the newest entries across all partners. It grows
// lazily up to its cap, so a mock with a big cap and little traffic does not
// hold the whole ring from the start.
type attemptLog struct {
	buf     []logEntry
	start   int // index of the oldest entry once the ring is full
	n       int
	cap     int
	evicted uint64
}

func newAttemptLog(capacity int) attemptLog { return attemptLog{cap: capacity} }

func (l *attemptLog) add(e logEntry) {
	if l.n < l.cap {
		l.buf = append(l.buf, e) // start is 0 until the ring is full
		l.n++
		return
	}
	l.buf[l.start] = e
	l.start = (l.start + 1) % l.n
	l.evicted++
}

// newest returns the i-th newest entry (0 is the newest).
func (l *attemptLog) newest(i int) *logEntry {
	return &l.buf[(l.start+l.n-1-i)%len(l.buf)]
}

// Logs returns one page of q.PartnerID's attempt log, newest first, and the
// number of entries matching the filters. Entries are ordered by when their
// outcome was recorded. An unknown status or type matches nothing.
func (s *Sender) Logs(q LogQuery) ([]Attempt, int) {
	if q.PartnerID == "" && !q.AllPartners {
		return []Attempt{}, 0
	}
	page, size := q.Page, q.PageSize
	if page < 1 {
		page = 1
	}
	if size < 1 {
		size = 20
	}
	var status uint8
	if q.Status != "" {
		var ok bool
		if status, ok = statusCode(q.Status); !ok {
			return []Attempt{}, 0
		}
	}
	var kind uint8
	if q.Type != "" {
		if q.Type != bullseye.KindIdentification && q.Type != bullseye.KindBilling {
			return []Attempt{}, 0
		}
		kind = kindCode(q.Type)
	}
	partner := unique.Make(q.PartnerID)
	first := math.MaxInt // a page past any possible total
	if page-1 <= (math.MaxInt-size)/size {
		first = (page - 1) * size
	}

	s.mu.Lock()
	var picked []logEntry
	total := 0
	for i := range s.logs.n {
		e := s.logs.newest(i)
		if !q.AllPartners && e.partner != partner {
			continue
		}
		if (q.Status != "" && e.status != status) || (q.Type != "" && e.kind != kind) {
			continue
		}
		if q.OrganizationID != "" && e.meta.Value().OrganizationID != q.OrganizationID {
			continue
		}
		if total >= first && total-first < size {
			picked = append(picked, *e)
		}
		total++
	}
	s.mu.Unlock()

	out := make([]Attempt, len(picked))
	for i := range picked {
		out[i] = picked[i].toAttempt()
	}
	return out, total
}

// ring is a FIFO of finished deliveries kept for inspection; pushing onto a
// full ring evicts the oldest.
type ring struct {
	buf   []*delivery
	start int
	cap   int
}

func newRing(capacity int) ring { return ring{cap: capacity} }

func (r *ring) push(d *delivery) (old *delivery, evicted bool) {
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, d)
		return nil, false
	}
	old = r.buf[r.start]
	r.buf[r.start] = d
	r.start = (r.start + 1) % len(r.buf)
	return old, true
}
