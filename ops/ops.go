// Package ops is every operation of the mock, written once: configure
// partners, webhooks and organizations; emit events (validated once, with
// field-tagged errors); inspect and wait for deliveries; settle; move a
// manual clock (one algorithm, one rule for a hanging receiver); redeliver;
// reset. Every surface (the control API, scenario files, the in-process Go
// API, the CLI's send) is a thin adapter over it, so a request means the
// same thing, and is refused with the same message, on every surface.
//
// Data flows one way: ops asks the fixtures for payloads and hands the
// sender deliveries; the store and the sender keep what happened.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/apifault"
	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/journal"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// MaxCount bounds one request, so a typo cannot queue a billion deliveries.
const MaxCount = 100000

// DefaultGrace is how long, in real time, a clock move waits for a sender
// that makes no progress (no attempt starts or ends) before it treats the
// receiver of an attempt in flight as hanging and lets mock time run to the
// attempt's timeout. Mock time cannot pass while a receiver is still
// working, so without it a hanging receiver would stop a manual clock for
// ever; a sender busy with a backlog makes progress, and is waited for.
const DefaultGrace = 5 * time.Second

// Config is what the operations act on.
type Config struct {
	Store    *store.Store
	Sender   *sender.Sender
	Fixtures *fixtures.Generator
	Clock    clock.Clock
	Logger   *slog.Logger
	// Grace: see DefaultGrace; 0 means DefaultGrace.
	Grace time.Duration
	// Seed makes generated API keys and Partner API fault shares
	// reproducible.
	Seed int64
	// JournalCap bounds the journal of Partner API requests;
	// 0 means journal.DefaultCap.
	JournalCap int
	// Budget bounds pending work; zero fields take the defaults.
	Budget Budget
	// Traffic is the hub the sender reports its attempts to; nil starts an
	// empty one that nothing feeds.
	Traffic *traffic.Hub
	// Feed is the change feed the sender tells; nil starts one that only
	// ops and the sinks tell.
	Feed *feed.Feed
}

// Ops runs the mock's operations. It is safe for concurrent use.
type Ops struct {
	store    *store.Store
	sender   *sender.Sender
	fixtures *fixtures.Generator
	clock    clock.Clock
	manual   *clock.Manual // nil unless the clock is manual
	log      *slog.Logger
	grace    time.Duration
	budget   Budget

	budgetMu sync.Mutex
	reserved struct{ n, bytes int64 } // room held by requests being created

	journal *journal.Journal
	faults  *apifault.Set
	traffic *traffic.Hub
	feed    *feed.Feed

	// stopped ends when the mock begins to shut down: every open wait
	// answers at once with what it has.
	stopped context.Context
	stop    context.CancelFunc

	mu      sync.Mutex
	next    map[string]int // per partner: which organization gets the next event
	rng     *rand.Rand     // generated API keys
	onReset []func()
}

// New returns the operations over cfg's parts.
func New(cfg Config) *Ops {
	o := &Ops{store: cfg.Store, sender: cfg.Sender, fixtures: cfg.Fixtures, clock: cfg.Clock, log: cfg.Logger, grace: cfg.Grace, next: map[string]int{},
		journal: journal.New(cfg.JournalCap), faults: apifault.NewSet(cfg.Seed), rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6b6579))}
	o.manual, _ = cfg.Clock.(*clock.Manual)
	if o.traffic = cfg.Traffic; o.traffic == nil {
		o.traffic = traffic.NewHub()
	}
	if o.feed = cfg.Feed; o.feed == nil {
		o.feed = feed.New(0)
	}
	o.budget = cfg.Budget.WithDefaults()
	o.stopped, o.stop = context.WithCancel(context.Background())
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.grace <= 0 {
		o.grace = DefaultGrace
	}
	return o
}

// Stop begins a shutdown: the sender starts no new attempt (those in
// flight go on), and every open and future wait answers at once.
func (o *Ops) Stop() {
	if o.sender != nil {
		o.sender.Quiesce()
	}
	o.stop()
}

// Stopping reports whether Stop was called.
func (o *Ops) Stopping() bool { return o.stopped.Err() != nil }

// Stopped is a context that ends when Stop is called.
func (o *Ops) Stopped() context.Context { return o.stopped }

// Clock is the mock's clock.
func (o *Ops) Clock() clock.Clock { return o.clock }

// Manual is the manual clock, or nil when mock time runs by itself.
func (o *Ops) Manual() *clock.Manual { return o.manual }

// Partner is one API key, what it owns, as the store has it now.
type Partner struct {
	ID              string
	Key             string
	OrganizationIDs []string
}

// Partners lists the partners in the order they were added, read from the
// store on each call (so organizations created since are listed), each
// partner's organizations in creation order.
func (o *Ops) Partners() []Partner {
	var out []Partner
	for _, p := range o.store.Partners() {
		out = append(out, Partner{ID: p.ID, Key: p.Key, OrganizationIDs: append([]string{}, o.store.OrganizationIDs(p.ID)...)})
	}
	return out
}

// AddPartner registers an API key (or finds the partner that has it).
func (o *Ops) AddPartner(key string) (string, error) {
	p, err := o.store.AddPartner(key)
	if err != nil {
		return "", fieldErr("apiKey", "%v", err)
	}
	return p.ID, nil
}

// Partner resolves an API key or a partner id; neither means the first
// partner, which is the only one in most setups.
func (o *Ops) Partner(apiKey, partnerID string) (string, error) {
	switch {
	case apiKey != "" && partnerID != "":
		return "", fieldErr("partnerId", "apiKey and partnerId exclude each other")
	case apiKey != "":
		p, _, ok := o.store.Authenticate(apiKey)
		if !ok {
			return "", fieldErr("apiKey", "no partner has apiKey %q", apiKey)
		}
		return p.ID, nil
	}
	partners := o.store.Partners()
	if len(partners) == 0 {
		return "", fmt.Errorf("the mock has no partner: %w", ErrConflict)
	}
	if partnerID == "" {
		return partners[0].ID, nil
	}
	for _, p := range partners {
		if p.ID == partnerID {
			return partnerID, nil
		}
	}
	return "", fieldErr("partnerId", "no partner has id %q", partnerID)
}

// Webhook is a change of one webhook's configuration; nil fields are left
// as they are.
type Webhook struct {
	URL     *string
	Secret  *string
	Enabled *bool
	Dialect *bullseye.Dialect
}

// SetWebhook changes a partner's webhook of kind, as a PUT through the
// Partner API would.
func (o *Ops) SetWebhook(partnerID, kind string, w Webhook) error {
	_, err := o.store.UpdateWebhook(partnerID, kind, store.WebhookPatch{URL: w.URL, Secret: w.Secret, Enabled: w.Enabled, Dialect: w.Dialect})
	return err
}

// Organization is an organization to create; zero fields get fake values.
type Organization struct {
	Name       string
	ExternalID string
	Status     string    // default active
	Tier       string    // default paid
	Credits    int       // 0: a fake allocation that fits the pool
	At         time.Time // the mock time it is made at (its createdAt lies weeks before); zero: now
}

// AddOrganization creates an organization for a partner. One whose
// externalId the partner already has is that organization, as it is: the
// same setup run twice on one mock acts on the same organization.
func (o *Ops) AddOrganization(partnerID string, spec Organization) (bullseye.Organization, error) {
	if spec.ExternalID != "" {
		if found, ok, err := o.byExternalID(partnerID, spec.ExternalID); ok || err != nil {
			return found, err
		}
	}
	now := spec.At
	if now.IsZero() {
		now = o.clock.Now()
	}
	org := o.fixtures.NewOrganization(now)
	if spec.Name != "" {
		org.Name, org.Domain = spec.Name, ""
	}
	if spec.ExternalID != "" {
		org.ExternalID = spec.ExternalID
	}
	if spec.Status != "" {
		org.Status = spec.Status
	}
	if spec.Tier != "" {
		org.Tier = spec.Tier
	}
	if spec.Credits > 0 {
		org.Credits = spec.Credits
	} else if b, err := o.store.Billing(partnerID, now); err == nil {
		// Many organizations share the credit pool: later ones get what
		// is left rather than failing.
		org.Credits = min(org.Credits, b.PoolTotal-b.PoolUsed)
	}
	added, err := o.store.AddOrganization(partnerID, org)
	if errors.Is(err, store.ErrConflict) && spec.ExternalID != "" {
		// Another setup added it since we looked.
		if found, ok, lerr := o.byExternalID(partnerID, spec.ExternalID); ok || lerr != nil {
			return found, lerr
		}
	}
	return added, err
}

func (o *Ops) byExternalID(partnerID, externalID string) (bullseye.Organization, bool, error) {
	found, _, err := o.store.Organizations(partnerID, store.OrgFilter{ExternalID: externalID, Page: 1, PageSize: 1})
	if err != nil || len(found) == 0 {
		return bullseye.Organization{}, false, err
	}
	return found[0], true, nil
}

// OnReset registers f to run on every Reset: the surfaces' own records
// (the sinks' requests) are forgotten with the deliveries.
func (o *Ops) OnReset(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onReset = append(o.onReset, f)
}

// bigReset is how many deliveries (pending and retained) make a reset hand
// memory back at once: well above the default delivery cap, so that a
// suite's resets between tests do not each force a collection, and under
// one request's largest count, so that the largest request, posted once
// and reset, is handed back.
const bigReset = 50_000

// Reset forgets deliveries, the attempt log, counters, the journal of
// Partner API requests, the Partner API faults and what the surfaces
// recorded. Partners, their API keys, webhooks, organizations and the
// clock are kept: they are the setup a test suite makes once, while
// deliveries, requests and faults are what each test makes and looks at.
func (o *Ops) Reset() {
	st := o.sender.Stats()
	big := st.Pending+st.Retained >= bigReset
	o.sender.Reset()
	if big {
		// A large store's memory goes back to the OS now rather than over
		// the next minutes; small resets (a test suite's, between tests)
		// skip the forced collection.
		go debug.FreeOSMemory()
	}
	o.journal.Reset()
	o.faults.Reset()
	o.traffic.Reset()
	o.mu.Lock()
	hooks := append([]func(){}, o.onReset...)
	o.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	o.feed.Publish(feed.Reset, feed.Attrs{}, struct{}{})
}
