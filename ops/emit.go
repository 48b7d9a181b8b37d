package ops

import (
	"errors"
	"fmt"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// Emitted is what Emit created.
type Emitted struct {
	PartnerID   string
	DeliveryIDs []string // in the order sent, each duplicate after its original
}

// plan is a validated Send: everything Emit needs, nothing left to refuse.
type plan struct {
	partnerID string
	eventType string
	kind      string
	count     int
	interval  time.Duration
	orgs      []bullseye.Organization
	dialect   bullseye.Dialect
	overrides []byte
	faults    []fault
	at        time.Time // zero: now
	policy    *bullseye.Policy
	order     string
	same      bool
	jitter    time.Duration
	burst     int
}

// fault is a validated Fault.
type fault struct {
	signature bullseye.Fault
	duplicate bool
	after     time.Duration
	replay    time.Duration // a copy that long after delivery; 0: none
	events    []int
	share     float64
}

// applies reports whether the fault applies to event i (1-based). Shares
// are spread evenly and deterministically (share 0.5 of 4 events picks the
// 2nd and 4th), so a run needs no randomness to repeat.
func (f fault) applies(i int) bool {
	if len(f.events) > 0 {
		for _, e := range f.events {
			if e == i {
				return true
			}
		}
		return false
	}
	if f.share <= 0 || f.share >= 1 {
		return true
	}
	return int(float64(i)*f.share) != int(float64(i-1)*f.share)
}

// Emit creates the deliveries s asks for. It validates the whole request
// first, so a bad request creates nothing.
func (o *Ops) Emit(s Send) (Emitted, error) {
	p, err := o.prepare(s)
	if err != nil {
		return Emitted{}, err
	}
	release, err := o.reservePlan(p)
	if err != nil {
		return Emitted{}, err
	}
	defer release()
	start := p.at
	if start.IsZero() {
		start = o.clock.Now()
	}
	rank, jitter := o.schedule(p)
	// slot is when the r-th event happens: a rate spaces them, a burst
	// groups them; without a rate they all happen at start, one instant
	// for all even if the clock moves while they are handed over.
	slot := func(r int) time.Time {
		switch {
		case p.interval == 0:
			return start
		case p.burst > 1:
			return start.Add(time.Duration(r/p.burst*p.burst) * p.interval)
		}
		return start.Add(time.Duration(r) * p.interval)
	}
	batch, err := o.fixtures.Batch(p.eventType, p.dialect, p.overrides)
	if err != nil {
		return Emitted{PartnerID: p.partnerID}, fieldErr("overrides", "%v", err)
	}
	var thread *fixtures.Thread
	var one bullseye.Organization
	if p.same {
		thread, one = fixtures.NewThread(), o.pick(p.partnerID, p.orgs)
	}
	// Every payload's recipe first, in creation order (the order the seed
	// draws them in), so an event that cannot be drawn creates nothing.
	// The payloads are built at each attempt, not here: a pending delivery
	// holds its recipe.
	type event struct {
		d     sender.Delivery
		dups  []fault
		stamp time.Time
	}
	events := make([]event, p.count)
	for i := range events {
		org := one
		if !p.same {
			org = o.pick(p.partnerID, p.orgs)
		}
		at := slot(i)
		stamp := at
		if stamp.IsZero() {
			stamp = o.clock.Now()
		}
		if p.same && p.interval == 0 {
			// One visitor's sessions follow each other even when sent at
			// once: a second apart, the last one now.
			stamp = stamp.Add(-time.Duration(p.count-1-i) * time.Second)
		}
		var alloc *fixtures.Allocation
		if p.kind == bullseye.KindBilling {
			// One source of truth: the payload names the store's allocation.
			if a, err := o.store.Allocation(p.partnerID, org.ID); err == nil {
				alloc = &fixtures.Allocation{ID: a.ID, CreditsAllocated: a.CreditsAllocated, CreditsUsed: a.CreditsUsed, AllocatedAt: a.AllocatedAt}
			}
		}
		recipe, err := batch.Recipe(org, stamp, thread, alloc)
		if err != nil {
			// Unreachable from a checked request (its times and
			// organizations are checked above), so not the caller's error.
			return Emitted{PartnerID: p.partnerID}, fmt.Errorf("ops: draw event %d: %w", i+1, err)
		}
		due := slot(rank[i])
		if jitter != nil {
			if due.IsZero() {
				due = start
			}
			due = due.Add(jitter[i])
		}
		e := event{stamp: stamp, d: sender.Delivery{
			PartnerID: p.partnerID, Kind: p.kind, EventType: p.eventType, OrganizationID: org.ID,
			Payload: recipe, At: due, Policy: p.policy,
		}}
		for _, f := range p.faults {
			if !f.applies(i + 1) {
				continue
			}
			if f.signature != bullseye.FaultNone {
				e.d.Fault = f.signature
			}
			if f.duplicate {
				e.dups = append(e.dups, f)
			}
			if f.replay > 0 {
				e.d.ReplayAfter = f.replay
			}
		}
		events[i] = e
	}
	// Drawing took time: a send timed from now is due from now, after it,
	// not from before the recipes existed (which would make a large send's
	// events start late by the drawing time). One shift keeps the spacing.
	var shift time.Duration
	if p.at.IsZero() {
		shift = max(o.clock.Now().Sub(start), 0)
	}
	// Handed to the sender in the order they are due, so that events due
	// at one instant start in that order too.
	byRank := make([]int, p.count)
	for i, r := range rank {
		byRank[r] = i
	}
	ids := make([][]string, p.count)
	for _, i := range byRank {
		e := events[i]
		e.d.At = e.d.At.Add(shift)
		id, err := o.sender.Send(e.d)
		if err != nil {
			return Emitted{PartnerID: p.partnerID, DeliveryIDs: flatten(ids)}, senderErr(err)
		}
		ids[i] = append(ids[i], id)
		if p.kind == bullseye.KindIdentification {
			// Each identification uses one of the organization's credits
			// (a duplicate repeats it, and uses none).
			o.store.UseCredit(p.partnerID, e.d.OrganizationID)
		}
		for _, f := range e.dups {
			dup := e.d
			dup.DuplicateOf = id
			dup.At = e.stamp.Add(f.after)
			dupID, err := o.sender.Send(dup)
			if err != nil {
				return Emitted{PartnerID: p.partnerID, DeliveryIDs: flatten(ids)}, senderErr(err)
			}
			ids[i] = append(ids[i], dupID)
		}
	}
	o.noteRate(p.interval)
	return Emitted{PartnerID: p.partnerID, DeliveryIDs: flatten(ids)}, nil
}

// flatten lists the deliveries in event order, each event's duplicates
// after it.
func flatten(ids [][]string) []string {
	out := []string{}
	for _, l := range ids {
		out = append(out, l...)
	}
	return out
}

// schedule draws a plan's order and jitter: rank[i] is the slot event i's
// first attempt is due at, jitter[i] its extra wait (nil without jitter).
// Both come from the mock's seed, in creation order.
func (o *Ops) schedule(p plan) (rank []int, jitter []time.Duration) {
	rank = make([]int, p.count)
	for i := range rank {
		rank[i] = i
	}
	if p.order != OrderReversed && p.order != OrderShuffled && p.jitter == 0 {
		return rank, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch p.order {
	case OrderReversed:
		for i := range rank {
			rank[i] = p.count - 1 - i
		}
	case OrderShuffled:
		o.rng.Shuffle(len(rank), func(a, b int) { rank[a], rank[b] = rank[b], rank[a] })
	}
	if p.jitter > 0 {
		jitter = make([]time.Duration, p.count)
		for i := range jitter {
			jitter[i] = time.Duration(o.rng.Int64N(int64(p.jitter) + 1))
		}
	}
	return rank, jitter
}

func senderErr(err error) error {
	if errors.Is(err, sender.ErrClosed) {
		return fmt.Errorf("the mock is shutting down: %w", ErrConflict)
	}
	return err
}

// organizations returns the candidates for a request: the one it names (by
// id or externalId), else the partner's active organizations, else all.
func (o *Ops) organizations(partnerID, field, ref string) ([]bullseye.Organization, error) {
	if ref != "" {
		if org, err := o.store.Organization(partnerID, ref); err == nil {
			return []bullseye.Organization{org}, nil
		}
		if org, ok, _ := o.byExternalID(partnerID, ref); ok {
			return []bullseye.Organization{org}, nil
		}
		return nil, fieldErr(field, "organization %q is not one of partner %s's organizations (by id or externalId)", ref, partnerID)
	}
	all, _, err := o.store.Organizations(partnerID, store.OrgFilter{Page: 1, PageSize: store.MaxOrganizations})
	if err != nil {
		return nil, err
	}
	var active []bullseye.Organization
	for _, org := range all {
		if org.Status == bullseye.OrgActive {
			active = append(active, org)
		}
	}
	if len(active) > 0 {
		return active, nil
	}
	if len(all) == 0 {
		return nil, fieldErr("organization", "partner %s has no organization; create one first", partnerID)
	}
	return all, nil
}

// pick goes round the candidates so events spread evenly and the same run
// picks the same organizations, without a source of randomness.
func (o *Ops) pick(partnerID string, orgs []bullseye.Organization) bullseye.Organization {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.next[partnerID]
	o.next[partnerID] = n + 1
	return orgs[n%len(orgs)]
}
