package ops

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/apifault"
	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/journal"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// Limits of a Partner API fault.
const (
	MaxFaultLatency    = time.Minute // the server extends the request's deadlines past it
	MaxFaultTimes      = 1_000_000
	MaxFaultRetryAfter = 86400 // seconds
	MaxKeyLength       = 256
)

// Key is an API key to add: the body of POST /_mock/keys and an entry of a
// scenario's partner.keys.
type Key struct {
	// PartnerID owns the key; absent: the default partner.
	PartnerID string `json:"partnerId,omitempty"`
	// APIKey is the key itself; absent: one is made from the mock's seed.
	APIKey string   `json:"apiKey,omitempty"`
	Scopes []string `json:"scopes,omitempty"` // read, write, admin; none: full access
}

// CheckKey checks a key's scopes and spelling (an absent apiKey is made
// later, so it passes).
func CheckKey(k Key) error {
	for i, sc := range k.Scopes {
		if err := bullseye.CheckScope(sc); err != nil {
			return fieldErr(fmt.Sprintf("scopes[%d]", i), "%v", err)
		}
	}
	if i := strings.IndexFunc(k.APIKey, func(r rune) bool { return r <= ' ' || r > '~' || r == '/' }); i >= 0 || len(k.APIKey) > MaxKeyLength {
		return fieldErr("apiKey", "apiKey must be 1 to %d printable ASCII characters without spaces or /, so that it fits a header and a URL path", MaxKeyLength)
	}
	return nil
}

// AddKey gives a partner another API key with scopes.
func (o *Ops) AddKey(k Key) (store.Key, error) {
	if err := CheckKey(k); err != nil {
		return store.Key{}, err
	}
	id, err := o.Partner("", k.PartnerID)
	if err != nil {
		return store.Key{}, err
	}
	if k.APIKey == "" {
		k.APIKey = o.newKey()
	}
	added, err := o.store.AddKey(store.Key{Key: k.APIKey, PartnerID: id, Scopes: k.Scopes})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return store.Key{}, fieldErr("apiKey", "%v", err)
	}
	return added, err
}

// newKey makes a key from the mock's seed, so one seed gives the same keys.
func (o *Ops) newKey() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(o.rng.Uint32())
	}
	return "bm_key_" + hex.EncodeToString(b)
}

// RevokeKey revokes an API key: it gets 401 from then on, like an unknown
// key. Reset does not bring it back; adding it again does.
func (o *Ops) RevokeKey(apiKey string) (store.Key, error) {
	k, err := o.store.RevokeKey(apiKey)
	if err != nil {
		return k, fmt.Errorf("no API key %s is in force: %w", bullseye.MaskKey(apiKey), ErrNotFound)
	}
	return k, nil
}

// Keys lists the API keys in force.
func (o *Ops) Keys() []store.Key { return o.store.Keys() }

// Authenticate finds the partner and the key of an API key.
func (o *Ops) Authenticate(apiKey string) (store.Partner, store.Key, bool) {
	return o.store.Authenticate(apiKey)
}

// APIFault is a fault on the Partner API: the body of POST /_mock/faults
// and a scenario's apiFault step. For requests matching Method and Path
// (and the partner of APIKey or PartnerID), answer Status with the
// vendor's error JSON, or Close the connection, after Latency; Times
// times, or on a Share of the matching requests, then behave normally.
type APIFault struct {
	Method     string    `json:"method,omitempty"` // absent: every method
	Path       string    `json:"path"`             // a pattern: "*" within a segment, "**" for any segments
	APIKey     string    `json:"apiKey,omitempty"`
	PartnerID  string    `json:"partnerId,omitempty"`
	Status     int       `json:"status,omitempty"`     // 400 to 599
	RetryAfter *int      `json:"retryAfter,omitempty"` // seconds, with status
	Message    string    `json:"message,omitempty"`    // the error JSON's message; absent: one naming the fault
	Latency    *Duration `json:"latency,omitempty"`    // real time, up to MaxFaultLatency
	Close      bool      `json:"close,omitempty"`      // close the connection without an answer
	Times      *int      `json:"times,omitempty"`      // absent: until removed
	Share      Share     `json:"share,omitempty"`      // absent: every matching request
}

// methods a fault may name: the Partner API's, and the ones it refuses.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// AddAPIFault checks a fault and puts it in force.
func (o *Ops) AddAPIFault(f APIFault) (apifault.Fault, error) {
	out, err := CheckAPIFault(f)
	if err != nil {
		return out, err
	}
	if f.APIKey != "" || f.PartnerID != "" {
		if out.PartnerID, err = o.Partner(f.APIKey, f.PartnerID); err != nil {
			return out, err
		}
	}
	added, err := o.faults.Add(out)
	if errors.Is(err, apifault.ErrFull) {
		return added, fmt.Errorf("the mock holds at most %d Partner API faults; remove some or reset: %w", apifault.MaxFaults, ErrConflict)
	}
	return added, err
}

// CheckAPIFault checks everything about a fault that needs no mock (all
// but its partner), and returns it as the fault set holds it.
func CheckAPIFault(f APIFault) (apifault.Fault, error) {
	out := apifault.Fault{Method: strings.ToUpper(f.Method), Status: f.Status, Message: f.Message, Close: f.Close}
	if out.Method == "*" {
		out.Method = ""
	}
	if out.Method != "" && !slices.Contains(methods, out.Method) {
		return out, fieldErr("method", "method must be one of %s, got %q", strings.Join(methods, ", "), f.Method)
	}
	if f.Path == "" {
		return out, fieldErr("path", "path is required: a path such as %q, with * for a segment", "/api/v1/partner/webhooks/*")
	}
	if !strings.HasPrefix(f.Path, "/api/v1/") && f.Path != "/api/v1" && !strings.HasPrefix(f.Path, "/**") {
		return out, fieldErr("path", "path must be a Partner API path under /api/v1/, got %q", f.Path)
	}
	var err error
	if out.Path, err = journal.ParsePattern(f.Path); err != nil {
		return out, fieldErr("path", "%v", err)
	}
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return out, fieldErr("status", "status must be from 400 to 599, got %d", f.Status)
	case f.Status != 0 && f.Close:
		return out, fieldErr("close", "close and status exclude each other: a closed connection has no status")
	case f.Status == 0 && !f.Close && !f.Latency.set():
		return out, fieldErr("", "a fault needs status, close or latency")
	case f.RetryAfter != nil && f.Status == 0:
		return out, fieldErr("retryAfter", "retryAfter goes with a status")
	case f.RetryAfter != nil && (*f.RetryAfter < 0 || *f.RetryAfter > MaxFaultRetryAfter):
		return out, fieldErr("retryAfter", "retryAfter must be from 0 to %d seconds, got %d", MaxFaultRetryAfter, *f.RetryAfter)
	case f.Times != nil && (*f.Times < 1 || *f.Times > MaxFaultTimes):
		return out, fieldErr("times", "times must be from 1 to %d, got %d", MaxFaultTimes, *f.Times)
	}
	if f.RetryAfter != nil {
		out.RetryAfter = *f.RetryAfter
	}
	if f.Times != nil {
		out.Times = *f.Times
	}
	if f.Share != 0 {
		if err := CheckShare(float64(f.Share)); err != nil {
			return out, fieldErr("share", "%v", err)
		}
		out.Share = float64(f.Share)
	}
	if f.Latency.set() {
		d, ferr := f.Latency.parse("latency")
		if ferr != nil {
			return out, ferr
		}
		if d > MaxFaultLatency {
			return out, fieldErr("latency", "latency must be at most %s, got %s", MaxFaultLatency, d)
		}
		out.Latency = d
	}
	return out, nil
}

// APIFaults lists the faults in force and spent, with how often each fired.
func (o *Ops) APIFaults() []apifault.Fault { return o.faults.List() }

// APIFault returns one fault.
func (o *Ops) APIFault(id string) (apifault.Fault, error) {
	f, err := o.faults.Get(id)
	if err != nil {
		return f, fmt.Errorf("fault %q: %w", id, ErrNotFound)
	}
	return f, nil
}

// RemoveAPIFault takes a fault out of force.
func (o *Ops) RemoveAPIFault(id string) (apifault.Fault, error) {
	f, err := o.faults.Remove(id)
	if err != nil {
		return f, fmt.Errorf("fault %q: %w", id, ErrNotFound)
	}
	return f, nil
}

// APIFaultFirings counts the Partner API requests faults answered since
// the last reset.
func (o *Ops) APIFaultFirings() int { return o.faults.Fired() }

// ClearAPIFaults takes every fault out of force and says how many.
func (o *Ops) ClearAPIFaults() int { return o.faults.Clear() }

// FireAPIFault finds the fault that answers a Partner API request, if any,
// and counts it.
func (o *Ops) FireAPIFault(method, path, partnerID string) (apifault.Fault, bool) {
	return o.faults.Fire(method, path, partnerID)
}

// RecordRequest journals one Partner API request, stamped with mock time.
func (o *Ops) RecordRequest(e journal.Entry) {
	e.Time = o.clock.Now()
	o.tellRequest(o.journal.Add(e))
}

// JournalStats reads the journal's counters.
func (o *Ops) JournalStats() journal.Stats { return o.journal.Stats() }

// RequestMatch selects journaled requests: the filters of GET
// /_mock/requests, and what a scenario's or a Go test's expectation
// matches. Zero fields select all.
type RequestMatch struct {
	Method    string          `json:"method,omitempty"`
	Path      string          `json:"path,omitempty"`   // a pattern, as a fault's
	Status    Status          `json:"status,omitempty"` // 503, or a class "5xx"
	APIKey    string          `json:"apiKey,omitempty"`
	PartnerID string          `json:"partnerId,omitempty"`
	Since     *time.Time      `json:"since,omitempty"` // mock time, inclusive
	After     int64           `json:"after,omitempty"` // ids above this one
	Body      json.RawMessage `json:"body,omitempty"`  // contained in the request's JSON body
	Has       []string        `json:"has,omitempty"`   // body fields present, neither null nor ""
}

// Status is a status as a match spells it: a code (503) or a class ("5xx").
type Status string

// UnmarshalJSON accepts a number or a string.
func (s *Status) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*s = Status(n.String())
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return &FieldError{Field: "status", Msg: `status must be a code such as 503 or a class such as "5xx"`}
	}
	*s = Status(str)
	return nil
}

func (s Status) parse() (code, class int, err error) {
	v := strings.ToLower(strings.TrimSpace(string(s)))
	if v == "" {
		return 0, 0, nil
	}
	if len(v) == 3 && v[0] >= '1' && v[0] <= '5' && v[1:] == "xx" {
		return 0, int(v[0] - '0'), nil
	}
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 100 || n > 599 || fmt.Sprint(n) != v {
		return 0, 0, fieldErr("status", `status must be a code from 100 to 599 or a class such as "5xx", got %q`, string(s))
	}
	return n, 0, nil
}

// checkMatch checks everything of a match that needs no mock, and returns
// the journal's filter of it (the partner aside).
func checkMatch(m RequestMatch) (journal.Filter, error) {
	f := journal.Filter{Method: strings.ToUpper(m.Method), After: m.After, Has: m.Has, APIKey: m.APIKey}
	var err error
	if m.Path != "" {
		if f.Path, err = journal.ParsePattern(m.Path); err != nil {
			return f, fieldErr("path", "%v", err)
		}
	}
	if f.Status, f.Class, err = m.Status.parse(); err != nil {
		return f, err
	}
	if m.APIKey != "" && m.PartnerID != "" {
		return f, fieldErr("partnerId", "apiKey and partnerId exclude each other")
	}
	if m.Since != nil {
		f.Since = *m.Since
	}
	if m.After < 0 {
		return f, fieldErr("after", "after must be a request id (0 or more), got %d", m.After)
	}
	if len(m.Body) > 0 && string(m.Body) != "null" {
		if err := json.Unmarshal(m.Body, &f.Body); err != nil {
			return f, fieldErr("body", "body must be JSON: %v", err)
		}
	}
	for i, h := range m.Has {
		if h == "" || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") {
			return f, fieldErr(fmt.Sprintf("has[%d]", i), "has names body fields such as \"secret\" or \"metadata.plan\", got %q", h)
		}
	}
	return f, nil
}

// filter checks a match and makes the journal's filter of it. A key is
// matched as sent (it may be revoked or unknown since); a partner id must
// exist.
func (o *Ops) filter(m RequestMatch) (journal.Filter, error) {
	f, err := checkMatch(m)
	if err != nil || m.PartnerID == "" {
		return f, err
	}
	f.PartnerID, err = o.Partner("", m.PartnerID)
	return f, err
}

// Requests returns a page (1-based) of the journaled requests m selects,
// newest first, and how many it selects.
func (o *Ops) Requests(m RequestMatch, page, pageSize int) ([]journal.Entry, int, error) {
	f, err := o.filter(m)
	if err != nil {
		return nil, 0, err
	}
	list, total := o.journal.List(f, page, pageSize)
	return list, total, nil
}
