package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Send asks for events: the body of POST /_mock/events and a scenario's send
// step are this object, with these keys. Pointers tell "absent" from zero,
// so an explicit zero is refused rather than read as the default.
type Send struct {
	Type  string `json:"type"`
	Count *int   `json:"count,omitempty"` // 1 to MaxCount; absent: 1
	// Rate spaces the events in mock time ("10/s", "30/m", "2/h"); absent
	// sends them all at once.
	Rate string `json:"rate,omitempty"`
	// APIKey or PartnerID choose the partner; neither: the default one (the
	// control API's first partner, a scenario's own).
	APIKey    string `json:"apiKey,omitempty"`
	PartnerID string `json:"partnerId,omitempty"`
	// Organization is an organization's id or externalId (in a scenario
	// file, also the name of one of its organizations); absent spreads the
	// events over the partner's active organizations.
	Organization string `json:"organization,omitempty"`
	// OrganizationID is the deprecated spelling of Organization.
	OrganizationID string          `json:"organizationId,omitempty"`
	Dialect        string          `json:"dialect,omitempty"`   // partner or integration; absent: the webhook's
	Overrides      json.RawMessage `json:"overrides,omitempty"` // a JSON merge patch of every payload
	Faults         []Fault         `json:"faults,omitempty"`
	// At or Delay set the mock time of the first event's first attempt;
	// neither means now.
	At     *time.Time `json:"at,omitempty"`
	Delay  *Duration  `json:"delay,omitempty"`
	Policy *Policy    `json:"policy,omitempty"` // the deliveries' retry policy; absent: the mock's
	// Order is the order the events' first attempts come in: creation (the
	// default), reversed or shuffled (seeded). Each payload keeps the time
	// it was created at, so a receiver sees older events after newer ones.
	Order string `json:"order,omitempty"`
	// SameVisitor makes identification events describe one visitor and
	// company in successive sessions (one organization, new session ids,
	// times increasing).
	SameVisitor bool `json:"sameVisitor,omitempty"`
	// Jitter delays each event's first attempt by a seeded time from 0 to
	// Jitter, as when the vendor's queue is busy.
	Jitter *Duration `json:"jitter,omitempty"`
	// Burst sends the events in groups of Burst at once, the groups spaced
	// so that Rate holds on average: the spike after an outage.
	Burst *int `json:"burst,omitempty"`
	// EvenIfDisabled creates the deliveries although the webhook is disabled
	// or has no URL; the sender then cancels them as the vendor does
	// ("canceled: webhook disabled"). Without it such a request is refused.
	EvenIfDisabled bool `json:"evenIfDisabled,omitempty"`
}

// The orders of Send.Order.
const (
	OrderCreation = "creation"
	OrderReversed = "reversed"
	OrderShuffled = "shuffled"
)

// Fault is a signature fault, a duplicate or a replay for some events of a
// request: those numbered in Events (1-based), else a Share of them spread
// evenly, else all. {"signature": NAME}, {"duplicate": "concurrent" |
// DURATION} or {"replay": DURATION} (several may be given).
type Fault struct {
	Signature string `json:"signature,omitempty"`
	// Duplicate sends the event again, the same bytes and signature:
	// "concurrent" at the same instant, or a duration later.
	Duplicate Duplicate `json:"duplicate,omitempty"`
	// DuplicateAfter is the deprecated spelling of a duplicate's delay, with
	// "duplicate": true.
	DuplicateAfter string `json:"duplicateAfter,omitempty"`
	// Replay sends the event again this long after it was delivered (not
	// after it was created, as a duplicate's duration does): the same bytes
	// and signature, as the vendor may after an incident.
	Replay *Duration `json:"replay,omitempty"`
	Events []int     `json:"events,omitempty"`
	Share  Share     `json:"share,omitempty"`
}

// Policy is a retry policy as every surface spells it: {delays, attempts,
// timeout}. Absent fields keep the mock's.
type Policy struct {
	Delays   []Duration `json:"delays,omitempty"`
	Attempts *int       `json:"attempts,omitempty"`
	Timeout  *Duration  `json:"timeout,omitempty"`
}

// Concurrent is the duplicate value for a copy sent at the same instant.
const Concurrent = "concurrent"

// Duplicate is a duplicate's spelling: "" (none), Concurrent, or a Go
// duration. The deprecated JSON true reads as Concurrent (its delay, if
// any, comes from duplicateAfter).
type Duplicate string

// UnmarshalJSON accepts a string, or the deprecated boolean.
func (d *Duplicate) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true":
		*d = Concurrent
		return nil
	case "false", "null":
		*d = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(duplicateHint)
	}
	*d = Duplicate(s)
	return nil
}

const duplicateHint = `duplicate must be "concurrent" or a non-negative duration such as "10s"`

// ParseDuplicate reads a duplicate's delay: 0 for "concurrent".
func ParseDuplicate(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == Concurrent {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s, got %q", duplicateHint, s)
	}
	if d > MaxAhead {
		return 0, fmt.Errorf("duplicate must be at most %s (100 years of mock time), got %s", MaxAhead, d)
	}
	return d, nil
}

// Share is a fraction of a request's events: a number (0.25) or a
// percentage string ("25%").
type Share float64

// UnmarshalJSON accepts 0.25 or "25%". An explicit zero is kept apart
// from an absent share (the zero value, "every event") so that it is
// refused, not read as "all".
func (s *Share) UnmarshalJSON(b []byte) error {
	var x float64
	if err := json.Unmarshal(b, &x); err == nil {
		*s = Share(x)
		if x == 0 {
			*s = Share(math.NaN())
		}
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		*s = Share(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(str), "%"), 64)
	if err != nil {
		v = math.NaN() // refused by the check, under the field's name
	}
	if strings.HasSuffix(strings.TrimSpace(str), "%") {
		v /= 100
	}
	if v == 0 {
		v = math.NaN()
	}
	*s = Share(v)
	return nil
}

// CheckShare is the one range check of a share, for the CLI's
// --fault-share too.
func CheckShare(x float64) error {
	switch {
	case math.IsNaN(x): // an explicit 0, or a string that is not a number
		return errors.New(shareHint)
	case !(x > 0 && x <= 1):
		return fmt.Errorf("%s, got %s", shareHint, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return nil
}

const shareHint = `share must be above 0 and at most 1 (0.25 or "25%")`

// Duration is a Go duration as every surface writes it: a string such as
// "1m30s". It is parsed where the request is checked, so that a bad one is
// refused under its field's name.
type Duration string

// D is a Duration's pointer, for the optional fields of Send, Policy and
// Advance.
func D(d time.Duration) *Duration { v := Duration(d.String()); return &v }

// N is an int's pointer, for Send.Count and Policy.Attempts.
func N(n int) *int { return &n }

// set reports whether d is given: absent and "" both mean "not given", as
// they did before the fields were typed.
func (d *Duration) set() bool { return d != nil && strings.TrimSpace(string(*d)) != "" }

// parse reads d for field, refusing negative durations.
func (d Duration) parse(field string) (time.Duration, *FieldError) {
	v, err := time.ParseDuration(strings.TrimSpace(string(d)))
	if err != nil {
		return 0, fieldErr(field, "%s must be a duration such as \"30s\" or \"1m\", got %q", lastName(field), string(d))
	}
	if v < 0 {
		return 0, fieldErr(field, "%s must not be negative, got %s", lastName(field), v)
	}
	if err := checkAhead(field, v); err != nil {
		return 0, err
	}
	return v, nil
}

// lastName is the last part of a field path, the name a message uses
// ("policy.delays[1]" -> "delays[1]").
func lastName(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

var rateRE = regexp.MustCompile(`^\s*([0-9]*\.?[0-9]+)\s*/\s*(s|m|h)\s*$`)

// ParseRate reads "N/s", "N/m" or "N/h" (N may be fractional) and returns the
// interval between events.
func ParseRate(s string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(s)
	var x float64
	if m != nil {
		x, _ = strconv.ParseFloat(m[1], 64)
	}
	if m == nil || x <= 0 {
		return 0, fmt.Errorf(`rate must be events per unit of mock time such as "10/s", "30/m" or "2/h", got %q`, s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
	d := time.Duration(float64(unit) / x)
	if d <= 0 {
		return 0, fmt.Errorf("rate %q is too fast: at most one event per nanosecond", s)
	}
	return d, nil
}

// ParseFaultFlag reads the CLI's compact spelling of a fault: a signature
// fault's name, "duplicate" (or "duplicate:concurrent"),
// "duplicate:DURATION", or "replay:DURATION". It is the same grammar as Fault, written short.
func ParseFaultFlag(s string) (Fault, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(s), "replay:"); ok {
		d := Duration(rest)
		if _, err := d.parse("replay"); err != nil {
			return Fault{}, errors.New(err.Msg)
		}
		return Fault{Replay: &d}, nil
	}
	if rest, ok := strings.CutPrefix(strings.TrimSpace(s), "duplicate"); ok && (rest == "" || rest[0] == ':') {
		v := Concurrent
		if rest != "" {
			v = rest[1:]
		}
		if _, err := ParseDuplicate(v); err != nil {
			return Fault{}, err
		}
		return Fault{Duplicate: Duplicate(v)}, nil
	}
	f := Fault{Signature: s}
	if _, err := signatureFault(s); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// JSONKeys lists the JSON keys of a struct's fields, in field order: how
// the scenario format and the documents' tests read the grammar off these
// types instead of writing it again.
func JSONKeys(v any) []string {
	t := reflect.TypeOf(v)
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Tag.Get("json") == "" {
			out = append(out, JSONKeys(reflect.Zero(f.Type).Interface())...) // promoted, as encoding/json reads them
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
