// Package sender delivers webhooks the way Bullseye does: signed with
// HMAC-SHA256, retried on the vendor's schedule (1m, 5m, 30m; four attempts
// in all), failing on any non-2xx status, connection error or missing
// response within 30 s, and recorded attempt by attempt in a bounded log.
//
// Every wait is in mock time (package clock), so a manual clock replays the
// whole schedule in microseconds. One scheduler goroutine keeps a heap of due
// attempts and arms one clock timer for its head; a fixed pool of workers
// does the HTTP over one keep-alive transport. Nothing is allocated per
// pending delivery beyond a small record and a heap entry, so a million
// pending retries cost about a hundred megabytes, not a goroutine each.
package sender

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"
	"unique"

	"github.com/google/uuid"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// Errors returned by Send, Redeliver and Wait.
var (
	ErrClosed      = errors.New("sender: shut down, not accepting deliveries")
	ErrUnknownKind = errors.New("sender: unknown webhook kind")
	ErrEmptyBody   = errors.New("sender: empty body")
	ErrNotFound    = errors.New("sender: no such delivery (unknown, or its details were evicted)")
)

// Defaults of Config.
const (
	DefaultWorkers     = 256
	DefaultPerEndpoint = 64
	DefaultLogCap      = 100_000
	DefaultDeliveryCap = 10_000
)

// Config configures a Sender. Only Targets is required.
type Config struct {
	Clock   clock.Clock // nil: the real clock
	Targets Targets
	Policy  bullseye.Policy // zero fields take DefaultPolicy's values
	// Workers is the number of HTTP workers, so the number of attempts in
	// flight at once. Default DefaultWorkers.
	Workers int
	// PerEndpoint bounds the attempts in flight to one URL host, so one slow
	// receiver cannot hold every worker. Default DefaultPerEndpoint (capped
	// at Workers).
	PerEndpoint int
	// LogCap is the number of attempt-log entries kept, all partners
	// together; the oldest are evicted first and counted. Default DefaultLogCap.
	LogCap int
	// DeliveryCap is the number of finished deliveries whose details
	// (payload, per-attempt request headers and response excerpts) are kept
	// for inspection and redelivery; pending deliveries are always kept.
	// Default DefaultDeliveryCap, and never more than LogCap.
	DeliveryCap int
	// CACertFile is a PEM bundle of extra roots for https receivers, trusted
	// besides the system roots.
	CACertFile         string
	InsecureSkipVerify bool
	// IDs is the randomness for delivery and log ids (UUID v4). nil means
	// crypto/rand; tests pass a seeded reader for reproducible ids.
	IDs io.Reader
	// UserAgent defaults to "bullseye-mock/<module version>".
	UserAgent string
	Logger    *slog.Logger
	// Transport replaces the HTTP transport (in-process receivers, tests,
	// benchmarks). nil builds a keep-alive transport from the fields above.
	Transport http.RoundTripper
	// Observe, when set, is told of every finished attempt, canceled ones
	// included (the traffic report's feed). It runs under the sender's lock,
	// so it must be quick and must not call the sender.
	Observe func(traffic.Attempt)
	// Feed, when set, is told of every delivery's change of state and every
	// finished attempt, once someone watches it (the inspector's stream).
	Feed *feed.Feed
}

// Sender schedules, signs, sends and logs deliveries. Its methods are safe
// for concurrent use.
type Sender struct {
	cfg     Config
	clock   clock.Clock
	policy  bullseye.Policy
	client  *http.Client
	ownTr   *http.Transport // closed at shutdown when we built it
	ua      string
	log     *slog.Logger
	perHost int // 0: no per-endpoint bound beyond the worker count

	ctx       context.Context // cancelled to abort in-flight HTTP at shutdown
	cancelCtx context.CancelFunc
	work      chan *delivery
	wake      chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	startOnce sync.Once

	hosts hostLimiter

	pmu      sync.Mutex
	policies map[policyKey]*bullseye.Policy // canonical per-delivery policies
	// handoff, when set before Start, replaces the whole attempt in the
	// workers: the scheduler benchmark measures hand-offs alone with it.
	handoff func(*delivery)

	mu       sync.Mutex
	closed   bool // Send refuses
	stopping bool // workers start no new attempt
	heap     dueHeap
	armed    int64 // head the scheduler sleeps until; math.MinInt64 while awake
	byID     index
	// order holds the known deliveries in creation order, so listings run
	// newest first without sorting; forgotten ones are skipped, and
	// compacted away once they are half of it.
	order    []*delivery
	holes    int
	seq      uint32
	ids      *bufio.Reader
	logs     attemptLog
	retained ring // finished deliveries still inspectable, oldest first
	changed  chan struct{}
	st       counters
}

type counters struct {
	scheduled, retrying, ready, inFlight                    int
	pendingBytes                                            int64 // Payload.Size of the deliveries not final
	sent, attempts, failedAttempts, delivered, failed, canc uint64
	ended                                                   uint64 // attempts that ended, cancels included
	// latency counts attempts by the first bound of latencyBounds their
	// mock-time duration fits in (the last slot: longer than every bound).
	latency    [len(latencyBounds) + 1]uint64
	latencySum time.Duration
}

// latencyBounds are the attempt-latency histogram's upper bounds, in
// seconds of mock time; the last is the vendor's 30 s timeout.
var latencyBounds = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30}

// observe counts one attempt's duration.
func (c *counters) observe(d time.Duration) {
	sec := d.Seconds()
	i := 0
	for i < len(latencyBounds) && sec > latencyBounds[i] {
		i++
	}
	c.latency[i]++
	c.latencySum += d
}

// meta is what deliveries share, interned with package unique so that a
// million deliveries of one partner cost one copy of these strings and an
// 8-byte handle each.
type meta struct {
	PartnerID      string
	Kind           string
	EventType      string
	OrganizationID string
	Secret         string // the target's secret when the delivery was created
	Fault          bullseye.Fault
	DuplicateOf    string
	ReplayAfter    time.Duration    // a copy that long after delivery; 0: none
	Policy         *bullseye.Policy // nil: the sender's policy; else canonical per value
	// Partner is PartnerID interned on its own, which the log keeps per
	// entry so that filtering by tenant is a pointer compare.
	Partner unique.Handle[string]
}

// delivery is the per-delivery record, kept to 64 bytes: with its payload's
// recipe, it is most of the memory a pending delivery costs.
type delivery struct {
	id       [16]byte
	meta     unique.Handle[meta]
	body     Payload
	due      int64  // mock Unix ns of the next attempt while scheduled
	wire     *wire  // set at the first attempt
	seq      uint32 // creation order
	attempts uint8  // HTTP attempts made
	state    uint8
	gone     bool // forgotten: no longer in the index, skipped in order
}

// wire is what a delivery's attempts send and what they got back. It is
// built at the first attempt, not at Send: the signature is a pure function
// of the secret captured at Send, the body and the fault, so every attempt
// still carries the same bytes and signature, while the millions of
// deliveries that wait for their first attempt do not each hold 64 bytes of
// hex.
type wire struct {
	sig      string
	hasSig   bool
	other    string // for FaultOtherBytes, the bytes sent instead of the body
	attempts []attemptRecord
}

type attemptRecord struct {
	entry   logEntry
	excerpt string
}

const (
	stScheduled uint8 = iota
	stReady
	stInFlight
	stDelivered
	stFailed
	stCanceled
	stDropped // removed by Reset; a worker holding it discards its result
)

func (d *delivery) final() bool { return d.state >= stDelivered }

func (d *delivery) stateWord() string {
	switch d.state {
	case stScheduled:
		if d.attempts > 0 {
			return bullseye.StateRetrying
		}
		return bullseye.StateScheduled
	case stReady:
		return bullseye.StateReady
	case stInFlight:
		return bullseye.StateInFlight
	case stDelivered:
		return bullseye.StateDelivered
	case stFailed:
		return bullseye.StateFailed
	}
	return bullseye.StateCanceled
}

// New builds a Sender; Start sets it running.
func New(cfg Config) (*Sender, error) {
	if cfg.Targets == nil {
		return nil, errors.New("sender: Config.Targets is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	cfg.Policy = cfg.Policy.WithDefaults()
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("sender: policy: %w", err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PerEndpoint <= 0 {
		cfg.PerEndpoint = DefaultPerEndpoint
	}
	cfg.PerEndpoint = min(cfg.PerEndpoint, cfg.Workers)
	if cfg.LogCap <= 0 {
		cfg.LogCap = DefaultLogCap
	}
	if cfg.DeliveryCap <= 0 {
		cfg.DeliveryCap = DefaultDeliveryCap
	}
	cfg.DeliveryCap = min(cfg.DeliveryCap, cfg.LogCap)
	if cfg.IDs == nil {
		cfg.IDs = rand.Reader
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "bullseye-mock/" + moduleVersion()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{
		cfg:      cfg,
		clock:    cfg.Clock,
		policy:   cfg.Policy,
		ua:       cfg.UserAgent,
		log:      cfg.Logger,
		work:     make(chan *delivery, cfg.Workers),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		armed:    math.MinInt64,
		ids:      bufio.NewReaderSize(cfg.IDs, 4096),
		logs:     newAttemptLog(cfg.LogCap),
		retained: newRing(cfg.DeliveryCap),
		policies: make(map[policyKey]*bullseye.Policy),
	}
	if cfg.PerEndpoint < cfg.Workers {
		s.perHost = cfg.PerEndpoint
		s.hosts.m = make(map[string]*hostSlots)
	}
	tr := cfg.Transport
	if tr == nil {
		t, err := newTransport(cfg)
		if err != nil {
			return nil, err
		}
		s.ownTr, tr = t, t
	}
	s.client = &http.Client{
		Transport: tr,
		// The vendor counts a redirect as a failure and does not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.ctx, s.cancelCtx = context.WithCancel(context.Background())
	return s, nil
}

// Start starts the scheduler and the workers. Calling it again does nothing.
func (s *Sender) Start() {
	s.startOnce.Do(func() {
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		s.wg.Add(1 + s.cfg.Workers)
		go s.schedule()
		for range s.cfg.Workers {
			go s.worker()
		}
	})
}

// Send accepts a delivery and returns its id. The body is copied and signed
// with the target's secret as it is now (a later secret change does not
// affect this delivery's attempts). The first attempt is due at d.At, or now.
// A delivery to a partner with no webhook configured is accepted and its
// first attempt logged as canceled, like one to a disabled webhook.
func (s *Sender) Send(d Delivery) (string, error) {
	if d.Kind != bullseye.KindIdentification && d.Kind != bullseye.KindBilling {
		return "", fmt.Errorf("%w %q", ErrUnknownKind, d.Kind)
	}
	body := d.Payload
	switch {
	case body != nil && d.Body != nil:
		return "", errors.New("sender: a delivery has a Body or a Payload, not both")
	case body == nil && len(d.Body) == 0:
		return "", ErrEmptyBody
	case body == nil:
		body = literal(d.Body)
	}
	fault, err := bullseye.ParseFault(string(d.Fault)) // accepts "Wrong-Secret"; store the canonical name
	if err != nil {
		return "", fmt.Errorf("sender: %w", err)
	}
	t, _ := s.cfg.Targets.Target(d.PartnerID, d.Kind)
	m := meta{
		PartnerID: d.PartnerID, Kind: d.Kind, EventType: d.EventType,
		OrganizationID: d.OrganizationID, Secret: t.Secret, Fault: fault, DuplicateOf: d.DuplicateOf, ReplayAfter: d.ReplayAfter,
		Partner: unique.Make(d.PartnerID),
	}
	if d.Policy != nil {
		p := d.Policy.WithDefaults()
		if err := p.Validate(); err != nil {
			return "", fmt.Errorf("sender: policy: %w", err)
		}
		m.Policy = s.canonicalPolicy(p)
	}
	h := unique.Make(m)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	due := d.At
	if due.IsZero() {
		due = s.clock.Now()
	}
	rec, err := s.addLocked(h, body, due)
	if err != nil {
		return "", err
	}
	return uuid.UUID(rec.id).String(), nil
}

// addLocked creates a delivery due at due; the caller holds the lock.
func (s *Sender) addLocked(h unique.Handle[meta], body Payload, due time.Time) (*delivery, error) {
	id, err := s.newDeliveryID()
	if err != nil {
		return nil, err
	}
	s.seq++
	rec := &delivery{id: id, meta: h, body: body, seq: s.seq}
	s.byID.put(rec)
	s.order = append(s.order, rec)
	s.st.sent++
	s.st.pendingBytes += body.Size()
	s.scheduleLocked(rec, due.UnixNano())
	s.tellLocked(rec, true)
	s.notifyLocked()
	return rec, nil
}

// policyKey is a comparable form of a Policy, for interning.
type policyKey struct {
	delays   string
	attempts int
	timeout  time.Duration
}

// canonicalPolicy interns per-delivery policies so that equal policies share
// one pointer (and so one meta handle). The table is bounded: past 1024
// distinct policies a fresh copy is used, which costs memory but is correct.
func (s *Sender) canonicalPolicy(p bullseye.Policy) *bullseye.Policy {
	k := policyKey{bullseye.FormatDelays(p.Delays), p.Attempts, p.Timeout}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if c, ok := s.policies[k]; ok {
		return c
	}
	c := &p
	if len(s.policies) < 1024 {
		s.policies[k] = c
	}
	return c
}

func (s *Sender) policyOf(m *meta) *bullseye.Policy {
	if m.Policy != nil {
		return m.Policy
	}
	return &s.policy
}

// newDeliveryID draws a UUID v4 whose first 8 bytes are not yet an index
// key: the index keys on them, and drawing again on the (astronomically
// rare) clash keeps ids unique by construction.
func (s *Sender) newDeliveryID() ([16]byte, error) {
	for {
		id, err := s.newIDLocked()
		if err != nil || s.byID.get(idKey(id)) == nil {
			return id, err
		}
	}
}

func (s *Sender) newIDLocked() ([16]byte, error) {
	var id [16]byte
	if _, err := io.ReadFull(s.ids, id[:]); err != nil {
		return id, fmt.Errorf("sender: reading id randomness: %w", err)
	}
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id, nil
}

func idKey(id [16]byte) uint64 { return binary.LittleEndian.Uint64(id[:8]) }

// lookupLocked finds a delivery by its string id.
func (s *Sender) lookupLocked(id string) (*delivery, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, false
	}
	d := s.byID.get(idKey(u))
	if d == nil || d.id != u {
		return nil, false
	}
	return d, true
}
