package traffic

import "sync"

// Hub hands each attempt to the mock's running total and to every open
// window. It is safe for concurrent use.
type Hub struct {
	total   *Recorder
	mu      sync.RWMutex
	windows map[*Recorder]struct{}
}

// NewHub returns a hub with an empty total.
func NewHub() *Hub {
	return &Hub{total: NewRecorder(), windows: map[*Recorder]struct{}{}}
}

// Observe records a finished attempt. The sender calls it.
func (h *Hub) Observe(a Attempt) { h.each(func(r *Recorder) { r.Record(a) }) }

// NoteTarget tells the total and every open window of a rated send.
func (h *Hub) NoteTarget(perSec float64) { h.each(func(r *Recorder) { r.NoteTarget(perSec) }) }

// each calls f on the total and on every open window.
func (h *Hub) each(f func(*Recorder)) {
	f(h.total)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for w := range h.windows {
		f(w)
	}
}

// Total is everything since start or the last Reset.
func (h *Hub) Total() *Recorder { return h.total }

// Reset empties the total; open windows keep theirs.
func (h *Hub) Reset() { h.total.Reset() }

// Window returns a recorder of the attempts from now until close is
// called (a scenario run's traffic, in a mock that carries other traffic
// too).
func (h *Hub) Window() (r *Recorder, close func()) {
	r = NewRecorder()
	h.mu.Lock()
	h.windows[r] = struct{}{}
	h.mu.Unlock()
	return r, func() {
		h.mu.Lock()
		delete(h.windows, r)
		h.mu.Unlock()
	}
}
