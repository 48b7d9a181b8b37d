// Package apifault keeps the faults scripted on the Partner API: for
// requests matching a method and a path pattern (and a partner), answer a
// status, add latency or close the connection, for the next N matching
// requests or a seeded share of them, then behave normally.
package apifault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/journal"
)

// MaxFaults bounds how many faults are held at once, spent ones included.
const MaxFaults = 100

// ErrNotFound is returned for an unknown fault id.
var ErrNotFound = errors.New("not found")

// ErrFull is returned when MaxFaults are held.
var ErrFull = errors.New("the set holds MaxFaults faults")

// Fault is one scripted fault and what it did so far.
type Fault struct {
	ID         string
	Method     string // "" matches every method
	Path       journal.Pattern
	PartnerID  string // "" matches every partner, and unauthenticated requests
	Status     int    // 0: answer normally (after Latency), unless Close
	RetryAfter int    // seconds, sent as Retry-After with Status; 0: none
	Message    string
	Latency    time.Duration
	Close      bool    // close the connection without an answer
	Times      int     // how many times it fires; 0: until removed
	Share      float64 // the share of matching requests it fires on; 0 or 1: all
	Fired      int     // requests it answered
	Matched    int     // matching requests it saw while active
}

// Spent reports whether the fault has fired Times times.
func (f Fault) Spent() bool { return f.Times > 0 && f.Fired >= f.Times }

// Set is safe for concurrent use.
type Set struct {
	mu     sync.Mutex
	faults []*Fault
	next   int
	fired  int // every firing since the last reset, removed faults' too
	seed   uint64
	rng    *rand.Rand
}

// NewSet returns an empty set whose shares are drawn from seed.
func NewSet(seed int64) *Set {
	s := &Set{seed: uint64(seed)}
	s.rng = rand.New(rand.NewPCG(s.seed, 0x617069))
	return s
}

// Add stores f and returns it with its id.
func (s *Set) Add(f Fault) (Fault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) >= MaxFaults {
		return Fault{}, ErrFull
	}
	s.next++
	f.ID = "flt_" + strconv.Itoa(s.next)
	f.Method = strings.ToUpper(f.Method)
	f.Fired, f.Matched = 0, 0
	s.faults = append(s.faults, &f)
	return f, nil
}

// List returns the faults in the order they were added.
func (s *Set) List() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return out
}

// Fired counts every firing since the last reset, of the faults held and
// of those removed since: a counter that only grows between resets.
func (s *Set) Fired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

// Get returns one fault.
func (s *Set) Get(id string) (Fault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.ID == id {
			return *f, nil
		}
	}
	return Fault{}, fmt.Errorf("fault %q: %w", id, ErrNotFound)
}

// Remove deletes one fault and returns it as it was.
func (s *Set) Remove(id string) (Fault, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == id {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return *f, nil
		}
	}
	return Fault{}, fmt.Errorf("fault %q: %w", id, ErrNotFound)
}

// Clear removes every fault and says how many there were; ids go on.
func (s *Set) Clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.faults)
	s.faults = nil
	return n
}

// Reset removes every fault, restarts ids and the share draws.
func (s *Set) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.next, s.fired = nil, 0, 0
	s.rng = rand.New(rand.NewPCG(s.seed, 0x617069))
}

// Fire finds the fault that answers a request, counts it, and returns it;
// false means the request is answered normally. Faults are tried in the
// order they were added; one that is spent, or whose share draw says no,
// lets the next one try.
func (s *Set) Fire(method, path, partnerID string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Spent() || (f.Method != "" && f.Method != method) || (f.PartnerID != "" && f.PartnerID != partnerID) || !f.Path.Match(path) {
			continue
		}
		f.Matched++
		if f.Share > 0 && f.Share < 1 && s.rng.Float64() >= f.Share {
			continue
		}
		f.Fired++
		s.fired++
		return *f, true
	}
	return Fault{}, false
}
