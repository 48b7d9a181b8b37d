package ops

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// The checks of a request: everything Emit refuses, field by field, with
// the messages every surface gives.

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
	hook, err := o.store.Webhook(p.partnerID, p.kind)
	if err != nil {
		return p, err
	}
	if p.dialect == "" {
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
	// Last: a request wrong in itself hears about that first.
	if !s.EvenIfDisabled {
		if err := WebhookReady(hook, p.kind); err != nil {
			return p, &FieldError{Field: "type", Msg: err.Error() + " (or set evenIfDisabled to have the deliveries canceled, as the vendor does)"}
		}
	}
	return p, nil
}

// WebhookReady refuses a webhook that the vendor would not deliver to: one
// with no URL or disabled. The sender cancels such deliveries when they fall
// due; a caller that did not mean that gets told at once instead.
func WebhookReady(hook store.Webhook, kind string) error {
	switch {
	case hook.URL == "":
		return fmt.Errorf("the %s webhook has no url: configure it with PUT %s/partner/webhooks/%s", kind, bullseye.APIPrefix, kind)
	case !hook.Enabled:
		return fmt.Errorf("the %s webhook is disabled: enable it with PUT %s/partner/webhooks/%s", kind, bullseye.APIPrefix, kind)
	}
	return nil
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
