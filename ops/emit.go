package ops

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
	// groups them; without a rate they all happen now (or at at).
	slot := func(r int) time.Time {
		switch {
		case p.interval == 0:
			return p.at
		case p.burst > 1:
			return start.Add(time.Duration(r/p.burst*p.burst) * p.interval)
		}
		return start.Add(time.Duration(r) * p.interval)
	}
	var thread *fixtures.Thread
	var one bullseye.Organization
	if p.same {
		thread, one = fixtures.NewThread(), o.pick(p.partnerID, p.orgs)
	}
	// Every payload first, in creation order (the order the seed draws
	// them in), so a payload that cannot be built creates nothing.
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
			// One visitor's sessions follow each other even when sent at once.
			stamp = stamp.Add(time.Duration(i) * time.Second)
		}
		ev := fixtures.Event{Type: p.eventType, Dialect: p.dialect, Org: org, At: stamp, Overrides: p.overrides, Thread: thread}
		if p.kind == bullseye.KindBilling {
			// One source of truth: the payload names the store's allocation.
			if a, err := o.store.Allocation(p.partnerID, org.ID); err == nil {
				ev.Allocation = &fixtures.Allocation{ID: a.ID, CreditsAllocated: a.CreditsAllocated, CreditsUsed: a.CreditsUsed, AllocatedAt: a.AllocatedAt}
			}
		}
		body, err := o.fixtures.Payload(ev)
		if err != nil {
			return Emitted{PartnerID: p.partnerID}, fieldErr("overrides", "%v", err)
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
			Body: body, At: due, Policy: p.policy,
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
	// Handed to the sender in the order they are due, so that events due
	// at one instant start in that order too.
	byRank := make([]int, p.count)
	for i, r := range rank {
		byRank[r] = i
	}
	ids := make([][]string, p.count)
	for _, i := range byRank {
		e := events[i]
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

var burstRE = regexp.MustCompile(`^\s*(\d+)\s+every\s+(\S+)\s*$`)

// burstShape reads a rate written "N every DURATION".
func burstShape(rate string) (int, time.Duration, bool) {
	m := burstRE.FindStringSubmatch(rate)
	if m == nil {
		return 0, 0, false
	}
	n, err := strconv.Atoi(m[1])
	d, derr := time.ParseDuration(m[2])
	if err != nil || derr != nil {
		return -1, 0, true
	}
	return n, d, true
}

func senderErr(err error) error {
	if errors.Is(err, sender.ErrClosed) {
		return fmt.Errorf("the mock is shutting down: %w", ErrConflict)
	}
	return err
}

// CheckSend validates everything of s that does not depend on the mock's
// state (partners, organizations): what a scenario file or the CLI can
// check before anything runs. Emit checks the rest.
func CheckSend(s Send) error {
	_, err := checkSend(s)
	return err
}

// prepare validates s field by field, in the order of the fields, so that
// every surface reports the same first problem with the same message.
func (o *Ops) prepare(s Send) (plan, error) {
	p, err := checkSend(s)
	if err != nil {
		return p, err
	}
	if p.partnerID, err = o.Partner(s.APIKey, s.PartnerID); err != nil {
		return p, err
	}
	orgField, orgRef := "organization", s.Organization
	if s.OrganizationID != "" {
		orgField, orgRef = "organizationId", s.OrganizationID
	}
	if p.orgs, err = o.organizations(p.partnerID, orgField, orgRef); err != nil {
		return p, err
	}
	if p.dialect == "" {
		hook, err := o.store.Webhook(p.partnerID, p.kind)
		if err != nil {
			return p, err
		}
		p.dialect = hook.Dialect
	}
	now := o.clock.Now()
	if s.Delay.set() {
		d, _ := s.Delay.parse("delay") // checkSend parsed it
		if err := checkFrom("delay", now, d); err != nil {
			return p, err
		}
		p.at = now.Add(d)
	}
	start := p.at
	if start.Before(now) {
		start = now // an instant already past is due at once
	}
	span := spanOf(p.count, p.interval)
	if err := checkFrom("rate", start, span); err != nil {
		return p, err
	}
	if err := checkFrom("jitter", start.Add(span), p.jitter); err != nil {
		return p, err
	}
	for i, f := range p.faults {
		if err := checkFrom(fmt.Sprintf("faults[%d].duplicate", i), start.Add(span), f.after); f.duplicate && err != nil {
			return p, err
		}
		if err := checkFrom(fmt.Sprintf("faults[%d].replay", i), start.Add(span).Add(p.jitter), f.replay); err != nil {
			return p, err
		}
	}
	return p, nil
}

func checkSend(s Send) (plan, error) {
	var p plan
	types := bullseye.EventTypes()
	if s.Type == "" {
		return p, fieldErr("type", "type is required, one of %s", strings.Join(types, ", "))
	}
	kind, err := bullseye.KindOf(s.Type)
	if err != nil {
		msg := fmt.Sprintf("unknown event type %q, expected one of %s", s.Type, strings.Join(types, ", "))
		if near := Nearest(s.Type, types); near != "" {
			msg = fmt.Sprintf("unknown event type %q, did you mean %q?", s.Type, near)
		}
		return p, fieldErr("type", "%s", msg)
	}
	p.eventType, p.kind, p.count = s.Type, kind, 1
	if s.Count != nil {
		if *s.Count < 1 || *s.Count > MaxCount {
			return p, fieldErr("count", "count must be from 1 to %d, got %d", MaxCount, *s.Count)
		}
		p.count = *s.Count
	}
	if s.Rate != "" {
		if n, every, ok := burstShape(s.Rate); ok {
			// "100 every 10s": a burst of 100 every 10 s, written as a rate.
			if s.Burst != nil {
				return p, fieldErr("burst", "burst is given twice: in rate (%q) and as burst", s.Rate)
			}
			if n < 1 || every <= 0 {
				return p, fieldErr("rate", "a burst rate is N every DURATION with N at least 1, such as \"100 every 10s\", got %q", s.Rate)
			}
			s.Burst, p.interval = &n, every/time.Duration(n)
		} else if p.interval, err = ParseRate(s.Rate); err != nil {
			return p, fieldErr("rate", "%v", err)
		}
		if span := spanOf(p.count, p.interval); span > MaxAhead {
			return p, fieldErr("rate", "%d events at %s span more than %s (100 years of mock time)", p.count, s.Rate, MaxAhead)
		}
	}
	if s.APIKey != "" && s.PartnerID != "" {
		return p, fieldErr("partnerId", "apiKey and partnerId exclude each other")
	}
	if s.Organization != "" && s.OrganizationID != "" {
		return p, fieldErr("organizationId", "organization and organizationId (its deprecated spelling) exclude each other")
	}
	if s.Dialect != "" {
		if p.dialect, err = bullseye.ParseDialect(s.Dialect); err != nil {
			return p, fieldErr("dialect", "%v", err)
		}
	}
	if len(s.Overrides) > 0 && string(s.Overrides) != "null" {
		if !strings.HasPrefix(strings.TrimSpace(string(s.Overrides)), "{") {
			return p, fieldErr("overrides", "overrides must be a JSON object (a merge patch of the payload)")
		}
		p.overrides = s.Overrides
	}
	for i, f := range s.Faults {
		pf, err := checkFault(f, p.count)
		if err != nil {
			err.Field = fmt.Sprintf("faults[%d]%s", i, prefixed(err.Field))
			return p, err
		}
		p.faults = append(p.faults, pf)
	}
	switch {
	case s.At != nil && s.Delay.set():
		return p, fieldErr("delay", "at and delay exclude each other")
	case s.At != nil:
		if err := checkInstant("at", *s.At); err != nil {
			return p, err
		}
		p.at = s.At.UTC()
	case s.Delay.set():
		if _, err := s.Delay.parse("delay"); err != nil {
			return p, err
		}
	}
	switch s.Order {
	case "", OrderCreation, OrderReversed, OrderShuffled:
		p.order = s.Order
	default:
		return p, fieldErr("order", "order must be one of %s, %s, %s, got %q", OrderCreation, OrderReversed, OrderShuffled, s.Order)
	}
	if s.SameVisitor {
		if p.kind != bullseye.KindIdentification {
			return p, fieldErr("sameVisitor", "sameVisitor goes with identification events (%s), not %s", bullseye.EventVisitorIdentified, s.Type)
		}
		p.same = true
	}
	if s.Jitter.set() {
		d, ferr := s.Jitter.parse("jitter")
		if ferr != nil {
			return p, ferr
		}
		p.jitter = d
	}
	if s.Burst != nil {
		switch {
		case s.Rate == "":
			return p, fieldErr("burst", "burst goes with rate: groups of burst events at once, spaced so that the rate holds")
		case *s.Burst < 1 || *s.Burst > p.count:
			return p, fieldErr("burst", "burst must be from 1 to count (%d), got %d", p.count, *s.Burst)
		}
		p.burst = *s.Burst
	}
	if s.Policy != nil {
		pol, err := s.Policy.Resolve()
		if err != nil {
			return p, prefixField("policy", err)
		}
		p.policy = &pol
	}
	return p, nil
}

// prefixField puts a FieldError's field under parent.
func prefixField(parent string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: parent + prefixed(fe.Field), Msg: fe.Msg}
	}
	return err
}

func prefixed(field string) string {
	if field == "" {
		return ""
	}
	return "." + field
}

func signatureFault(name string) (bullseye.Fault, error) {
	f, err := bullseye.ParseFault(name)
	if err == nil && f != bullseye.FaultNone {
		return f, nil
	}
	names := bullseye.FaultNames()
	if near := Nearest(name, names); near != "" {
		return "", fmt.Errorf("unknown signature fault %q, did you mean %q?", name, near)
	}
	return "", fmt.Errorf("unknown signature fault %q, expected one of %s", name, strings.Join(names, ", "))
}

// checkFault validates one fault of a request of count events.
func checkFault(f Fault, count int) (fault, *FieldError) {
	var out fault
	if f.Signature != "" {
		if none, err := bullseye.ParseFault(f.Signature); err != nil || none != bullseye.FaultNone {
			sig, err := signatureFault(f.Signature)
			if err != nil {
				return out, fieldErr("signature", "%v", err)
			}
			out.signature = sig
		} // "none" is no signature fault, as bullseye.ParseFault reads it
	}
	if f.Duplicate != "" {
		after, err := ParseDuplicate(string(f.Duplicate))
		if err != nil {
			return out, fieldErr("duplicate", "%v", err)
		}
		out.duplicate, out.after = true, after
	}
	if f.DuplicateAfter != "" {
		if f.Duplicate != Concurrent || !out.duplicate {
			return out, fieldErr("duplicateAfter", `duplicateAfter (deprecated) goes with "duplicate": true; write "duplicate": %q instead`, f.DuplicateAfter)
		}
		after, err := ParseDuplicate(f.DuplicateAfter)
		if err != nil {
			return out, fieldErr("duplicateAfter", "%v", err)
		}
		out.after = after
	}
	if f.Replay.set() {
		d, ferr := f.Replay.parse("replay")
		if ferr != nil {
			return out, ferr
		}
		if d == 0 {
			return out, fieldErr("replay", "replay must be a positive duration such as \"1h\" (the wait after delivery), got 0s")
		}
		out.replay = d
	}
	if out.signature == bullseye.FaultNone && !out.duplicate && out.replay == 0 {
		return out, fieldErr("", "a fault needs signature, duplicate or replay")
	}
	for i, e := range f.Events {
		if e < 1 || e > count {
			return out, fieldErr(fmt.Sprintf("events[%d]", i), "events names event %d, but the request has events 1 to %d", e, count)
		}
	}
	out.events = f.Events
	if f.Share != 0 {
		if err := CheckShare(float64(f.Share)); err != nil {
			return out, fieldErr("share", "%v", err)
		}
		if len(f.Events) > 0 {
			return out, fieldErr("share", "events and share exclude each other")
		}
		out.share = float64(f.Share)
	}
	return out, nil
}

// Resolve turns the grammar's policy into the engine's, refusing explicit
// zeros and values out of range with bullseye.Policy's own messages. Its
// error is a *FieldError.
func (p Policy) Resolve() (bullseye.Policy, error) {
	var out bullseye.Policy
	for i, d := range p.Delays {
		v, err := d.parse(fmt.Sprintf("delays[%d]", i))
		if err != nil {
			return out, err
		}
		out.Delays = append(out.Delays, v)
	}
	if p.Attempts != nil {
		out.Attempts = *p.Attempts
		if err := bullseye.CheckAttempts(out.Attempts); err != nil {
			return out, fieldErr("attempts", "%v", err)
		}
	}
	if p.Timeout.set() {
		v, ferr := p.Timeout.parse("timeout")
		if ferr != nil {
			return out, ferr
		}
		out.Timeout = v
		if err := bullseye.CheckTimeout(out.Timeout); err != nil {
			return out, fieldErr("timeout", "%v", err)
		}
	}
	if err := out.WithDefaults().Validate(); err != nil {
		return out, fieldErr("", "%v", err)
	}
	return out, nil
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
