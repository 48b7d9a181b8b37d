package server

import (
	"encoding/json"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// Limits of the built-in receiver. A sink is created by the first request
// to its name, so the number of sinks is bounded, as is what each keeps.
const (
	DefaultSinkCapacity = 100
	MaxSinkCapacity     = 10_000
	MaxSinks            = 1_000
	// MaxSinkBytes bounds what all sinks hold together (bodies, raw and
	// parsed, and headers); past it the oldest requests are dropped first,
	// so an open receiving end cannot grow without bound.
	MaxSinkBytes = 256 << 20
	// MaxSinkDelay bounds a sink's answer delay. The delay is real time,
	// not mock time: a manual clock would otherwise hold the request until
	// someone moved it. It ends early when the sender gives up on the
	// attempt (its timeout, in mock time, cancels the request).
	MaxSinkDelay = time.Minute
)

var sinkName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// sinkSet is every sink of the server.
type sinkSet struct {
	clock   clock.Clock
	maxBody int64
	mu      sync.Mutex
	sinks   map[string]*sink
	bytes   int64 // held by every sink's requests, counted by recordSize
	budget  int64 // MaxSinkBytes; smaller in tests
	// changed is closed (and replaced) whenever a sink receives, so a
	// long-poll on a sink's requests wakes without polling.
	changed chan struct{}
}

// sink is one named receiver: its settings and a ring of what it got.
type sink struct {
	cfg      SinkConfig
	requests []SinkRequest // oldest first, at most cfg.Capacity
	received int           // requests since the last configure or reset
	accepted int           // of those, the ones not rejected or failed: indexes Statuses
	evicted  int
}

// SinkConfig is a sink's settings, the body of PUT /_mock/sink/{name}.
type SinkConfig struct {
	// Secret verifies X-Bullseye-Signature. Without one, a request from
	// the mock's own sender is verified with its webhook's current secret,
	// so a demo needs no sink setup; any other request is not verified.
	Secret string `json:"secret"`
	// Statuses answers the n-th request it accepts with Statuses[n-1]; past
	// the end the last one repeats, so [500, 500, 200] is "fail twice,
	// then succeed" and [500] is "always fail". Empty answers 200. A
	// request rejected for its signature, or failed by FailureRate, takes
	// no place in it.
	Statuses []int `json:"statuses"`
	// Delay holds every answer this long (a Go duration, real time); with
	// DelayMax, each answer waits a seeded time from Delay to DelayMax.
	Delay    string `json:"delay"`
	DelayMax string `json:"delayMax,omitempty"`
	Capacity int    `json:"capacity"`
	// FailureRate fails that share of requests (seeded), whatever Statuses
	// says, with FailureStatus (503 by default; a 429 carries Retry-After,
	// RetryAfter seconds, 1 by default).
	FailureRate   float64 `json:"failureRate,omitempty"`
	FailureStatus int     `json:"failureStatus,omitempty"`
	RetryAfter    int     `json:"retryAfter,omitempty"`
	// RejectInvalidSignatures answers 401 to a request whose signature is
	// missing or invalid, as a correct receiver does (one the sink has no
	// secret to check is let through).
	RejectInvalidSignatures bool `json:"rejectInvalidSignatures,omitempty"`
	// Seed draws the failures and the delays; 0 derives one from the
	// sink's name, so a sink behaves the same run after run.
	Seed int64 `json:"seed,omitempty"`

	delay, delayMax time.Duration
	rng             *rand.Rand
}

// SinkRequest is one request a sink recorded.
type SinkRequest struct {
	Seq        int             `json:"seq"`
	ReceivedAt time.Time       `json:"receivedAt"` // mock time
	Method     string          `json:"method"`
	Headers    http.Header     `json:"headers"`
	Body       json.RawMessage `json:"body,omitempty"` // when JSON
	BodyRaw    string          `json:"bodyRaw"`
	DeliveryID string          `json:"deliveryId,omitempty"`
	Attempt    int             `json:"attempt,omitempty"`
	// Signature is "valid", "invalid", "missing" or "unchecked" (no secret
	// configured); SignatureError says what is wrong with an invalid one.
	Signature      string `json:"signature"`
	SignatureError string `json:"signatureError,omitempty"`
	// SecretFrom says which secret verified it: "sink" (its own setting)
	// or "webhook" (the sink has none; the secret of the webhook that the
	// delivery named in X-Bullseye-Mock-Delivery was sent to).
	SecretFrom string `json:"secretFrom,omitempty"`
	Status     int    `json:"status"` // what the sink answered
}

func newSinkSet(c clock.Clock, maxBody int64) *sinkSet {
	return &sinkSet{clock: c, maxBody: maxBody, budget: MaxSinkBytes, sinks: map[string]*sink{}, changed: make(chan struct{})}
}

func (ss *sinkSet) clearRequests() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, sk := range ss.sinks {
		sk.requests, sk.received, sk.accepted, sk.evicted = nil, 0, 0, 0
	}
	ss.bytes = 0
}

// recordSize is what a recorded request holds, roughly: its body twice
// (raw and parsed) and its headers.
func recordSize(r SinkRequest) int64 {
	n := int64(len(r.BodyRaw) + len(r.Body) + 256)
	for k, vs := range r.Headers {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// forget subtracts what sk holds from the total, before sk is dropped.
func (ss *sinkSet) forget(sk *sink) {
	for _, r := range sk.requests {
		ss.bytes -= recordSize(r)
	}
}

// dropOldest evicts sk's oldest request. Slicing from the front keeps it
// O(1); append reallocates with only the live requests once capacity runs out.
func (ss *sinkSet) dropOldest(sk *sink) {
	ss.bytes -= recordSize(sk.requests[0])
	sk.requests[0] = SinkRequest{}
	sk.requests = sk.requests[1:]
	sk.evicted++
}

// keep records rec in sk, evicting first what the capacity and the byte
// budget require: sk's own oldest requests, then other sinks' oldest.
func (ss *sinkSet) keep(sk *sink, rec SinkRequest) {
	size := recordSize(rec)
	for len(sk.requests) > 0 && (len(sk.requests) >= sk.cfg.Capacity || ss.bytes+size > ss.budget) {
		ss.dropOldest(sk)
	}
	for ss.bytes+size > ss.budget {
		var victim *sink
		for _, other := range ss.sinks {
			if len(other.requests) > 0 {
				victim = other
				break
			}
		}
		if victim == nil {
			break // one request alone is bounded by the body limit
		}
		ss.dropOldest(victim)
	}
	sk.requests = append(sk.requests, rec)
	ss.bytes += size
}

func sinkNameOf(r *http.Request) (string, error) {
	name := mux.Vars(r)["name"]
	if !sinkName.MatchString(name) {
		return "", Errorf(CodeBadRequest, "sink name must be 1 to 64 letters, digits, '.', '_' or '-', got %q", name).With("parameter", "name")
	}
	return name, nil
}

func (c *SinkConfig) validate() error {
	for i, st := range c.Statuses {
		// 1xx is no final answer: Go would send 200 after it.
		if st < 200 || st > 599 {
			return Errorf(CodeBadRequest, "statuses[%d] must be an HTTP status from 200 to 599, got %d", i, st).With("field", "statuses")
		}
	}
	if c.Delay != "" {
		d, err := time.ParseDuration(c.Delay)
		if err != nil || d < 0 || d > MaxSinkDelay {
			return Errorf(CodeBadRequest, "delay must be a Go duration from 0s to %s, got %q", MaxSinkDelay, c.Delay).With("field", "delay")
		}
		c.delay = d
	}
	if c.DelayMax != "" {
		d, err := time.ParseDuration(c.DelayMax)
		if err != nil || d < c.delay || d > MaxSinkDelay {
			return Errorf(CodeBadRequest, "delayMax must be a Go duration from delay (%s) to %s, got %q", c.delay, MaxSinkDelay, c.DelayMax).With("field", "delayMax")
		}
		c.delayMax = d
	}
	if !(c.FailureRate >= 0 && c.FailureRate <= 1) {
		return Errorf(CodeBadRequest, "failureRate must be from 0 to 1, got %g", c.FailureRate).With("field", "failureRate")
	}
	if c.FailureStatus == 0 {
		c.FailureStatus = http.StatusServiceUnavailable
	}
	if c.FailureStatus < 400 || c.FailureStatus > 599 {
		return Errorf(CodeBadRequest, "failureStatus must be from 400 to 599, got %d", c.FailureStatus).With("field", "failureStatus")
	}
	if c.RetryAfter < 0 || c.RetryAfter > 86400 {
		return Errorf(CodeBadRequest, "retryAfter must be from 0 to 86400 seconds, got %d", c.RetryAfter).With("field", "retryAfter")
	}
	if c.Capacity == 0 {
		c.Capacity = DefaultSinkCapacity
	}
	if c.Capacity < 1 || c.Capacity > MaxSinkCapacity {
		return Errorf(CodeBadRequest, "capacity must be from 1 to %d, got %d", MaxSinkCapacity, c.Capacity).With("field", "capacity")
	}
	if c.Statuses == nil {
		c.Statuses = []int{}
	}
	return nil
}

// SinkInfo is a sink as GET and PUT show it; the secret is not echoed.
type SinkInfo struct {
	Name                    string  `json:"name"`
	HasSecret               bool    `json:"hasSecret"`
	Statuses                []int   `json:"statuses"`
	Delay                   string  `json:"delay"`
	DelayMax                string  `json:"delayMax,omitempty"`
	FailureRate             float64 `json:"failureRate"`
	FailureStatus           int     `json:"failureStatus"`
	RetryAfter              int     `json:"retryAfter,omitempty"`
	RejectInvalidSignatures bool    `json:"rejectInvalidSignatures"`
	Seed                    int64   `json:"seed"`
	Capacity                int     `json:"capacity"`
	Received                int     `json:"received"`
	Kept                    int     `json:"kept"`
	Evicted                 int     `json:"evicted"`
}

func (sk *sink) json(name string) SinkInfo {
	out := SinkInfo{
		Name: name, HasSecret: sk.cfg.Secret != "", Statuses: sk.cfg.Statuses, Delay: sk.cfg.delay.String(),
		FailureRate: sk.cfg.FailureRate, FailureStatus: sk.cfg.FailureStatus, RetryAfter: sk.cfg.RetryAfter,
		RejectInvalidSignatures: sk.cfg.RejectInvalidSignatures, Seed: sk.cfg.Seed,
		Capacity: sk.cfg.Capacity, Received: sk.received, Kept: len(sk.requests), Evicted: sk.evicted,
	}
	if sk.cfg.delayMax > 0 {
		out.DelayMax = sk.cfg.delayMax.String()
	}
	return out
}

// seed makes the sink's draws: its own seed, or one derived from its name.
func (c *SinkConfig) seed(name string) {
	if c.Seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(name))
		c.Seed = int64(h.Sum64() >> 1)
	}
	c.rng = rand.New(rand.NewPCG(uint64(c.Seed), 0x73696e6b))
}

func defaultSink(name string) *sink {
	sk := &sink{cfg: SinkConfig{Statuses: []int{}, Capacity: DefaultSinkCapacity, FailureStatus: http.StatusServiceUnavailable}}
	sk.cfg.seed(name)
	return sk
}

// sinkConfigure replaces a sink's settings and clears what it recorded, so
// a status sequence always starts from its first entry.
func (s *sinkAPI) sinkConfigure(w http.ResponseWriter, r *http.Request) error {
	name, err := sinkNameOf(r)
	if err != nil {
		return err
	}
	var cfg SinkConfig
	if err := decodeBody(w, r, s.sinks.maxBody, &cfg); err != nil {
		return err
	}
	sj, err := s.ConfigureSink(name, cfg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sj)
	return nil
}

// ConfigureSink creates or replaces the sink name with cfg (validated as
// the control API does) and clears what it recorded.
func (s *sinkAPI) ConfigureSink(name string, cfg SinkConfig) (SinkInfo, error) {
	if !sinkName.MatchString(name) {
		return SinkInfo{}, Errorf(CodeBadRequest, "sink name must be 1 to 64 letters, digits, '.', '_' or '-', got %q", name)
	}
	if err := cfg.validate(); err != nil {
		return SinkInfo{}, err
	}
	ss := s.sinks
	ss.mu.Lock()
	defer ss.mu.Unlock()
	old, ok := ss.sinks[name]
	if !ok && len(ss.sinks) >= MaxSinks {
		return SinkInfo{}, Errorf(CodeConflict, "there are already %d sinks; delete one first", MaxSinks)
	}
	if ok {
		ss.forget(old)
	}
	cfg.seed(name)
	sk := &sink{cfg: cfg}
	ss.sinks[name] = sk
	return sk.json(name), nil
}

func (s *sinkAPI) sinkShow(w http.ResponseWriter, r *http.Request) error {
	name, err := sinkNameOf(r)
	if err != nil {
		return err
	}
	ss := s.sinks
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sk, ok := ss.sinks[name]
	if !ok {
		return Errorf(CodeNotFound, "no sink %q: it is created by PUT or by the first request it receives", name).With("name", name)
	}
	writeJSON(w, http.StatusOK, sk.json(name))
	return nil
}

func (s *sinkAPI) sinkList(w http.ResponseWriter, r *http.Request) error {
	ss := s.sinks
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]SinkInfo, 0, len(ss.sinks))
	for name, sk := range ss.sinks {
		out = append(out, sk.json(name))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"sinks": out})
	return nil
}

func (s *sinkAPI) sinkDelete(w http.ResponseWriter, r *http.Request) error {
	name, err := sinkNameOf(r)
	if err != nil {
		return err
	}
	ss := s.sinks
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sk, ok := ss.sinks[name]
	if !ok {
		return Errorf(CodeNotFound, "no sink %q", name).With("name", name)
	}
	ss.forget(sk)
	delete(ss.sinks, name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sinkListRequests answers what a sink recorded, oldest first, paged.
// With ?atLeast=N it first waits (a long-poll bounded by ?timeout, real
// time) until the sink has received N requests since it was configured
// or reset, answering "timedOut": true if it has not by then; the sink
// need not exist yet. This makes "trigger, then read" a script without
// sleeps.
func (s *sinkAPI) sinkListRequests(w http.ResponseWriter, r *http.Request) error {
	name, err := sinkNameOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, size, err := paging(q)
	if err != nil {
		return err
	}
	atLeast := 0
	if _, ok := q["atLeast"]; ok {
		if atLeast, err = intParam(q, "atLeast", 1, 1, 1_000_000); err != nil {
			return err
		}
	}
	ctx, cancel, err := longPoll(w, r, s.stopped)
	if err != nil {
		return err
	}
	defer cancel()
	ss := s.sinks
	timedOut := false
	ss.mu.Lock()
	for {
		sk, ok := ss.sinks[name]
		if atLeast == 0 || (ok && sk.received >= atLeast) {
			break
		}
		changed := ss.changed
		ss.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			timedOut = true
		}
		ss.mu.Lock()
		if timedOut {
			break
		}
	}
	defer ss.mu.Unlock()
	if r.Context().Err() != nil {
		return nil // the client went away
	}
	sk, ok := ss.sinks[name]
	if !ok && !timedOut {
		return Errorf(CodeNotFound, "no sink %q: it is created by PUT or by the first request it receives", name).With("name", name)
	}
	if !ok {
		sk = defaultSink(name)
	}
	items := store.Page(sk.requests, page, size)
	if items == nil {
		items = []SinkRequest{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"requests": items, "total": len(sk.requests), "page": page, "pageSize": size,
		"received": sk.received, "evicted": sk.evicted, "timedOut": timedOut, "stopping": s.stopped.Err() != nil,
	})
	return nil
}
