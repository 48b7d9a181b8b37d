package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/journal"
)

// MaxRequestCount bounds how many requests a wait or an expectation counts
// to: more than the journal can hold would never be met.
const MaxRequestCount = journal.MaxCap

// WaitRequests waits until at least n journaled requests match m, or ctx
// ends; it returns the matching requests (newest first, the first
// pageSize of them) and how many match in all.
func (o *Ops) WaitRequests(ctx context.Context, m RequestMatch, n, pageSize int) (WaitedRequests, error) {
	f, err := o.filter(m)
	if err != nil {
		return WaitedRequests{}, err
	}
	if held := o.journal.Stats().Cap; n < 1 || n > held {
		return WaitedRequests{}, fieldErr("count", "count must be from 1 to %d (the requests the journal holds, --journal-cap), got %d", held, n)
	}
	list, count, ok := o.journal.Wait(ctx, f, n, max(pageSize, 0))
	return WaitedRequests{Satisfied: ok, Count: count, Requests: list}, nil
}

// WaitedRequests is what a wait for requests found.
type WaitedRequests struct {
	Satisfied bool
	Count     int
	Requests  []journal.Entry
}

// RequestExpectation is an expectation on the journal: requests matching
// RequestMatch happened exactly Count times, or at least AtLeast times
// (neither: at least once).
type RequestExpectation struct {
	RequestMatch
	Count   *int `json:"count,omitempty"`
	AtLeast *int `json:"atLeast,omitempty"`
}

// CheckRequestExpectation checks an expectation's grammar without a mock.
func CheckRequestExpectation(e RequestExpectation) error {
	switch {
	case e.Count != nil && e.AtLeast != nil:
		return fieldErr("atLeast", "count and atLeast exclude each other")
	case e.Count != nil && (*e.Count < 0 || *e.Count > MaxRequestCount):
		return fieldErr("count", "count must be from 0 to %d, got %d", MaxRequestCount, *e.Count)
	case e.AtLeast != nil && (*e.AtLeast < 1 || *e.AtLeast > MaxRequestCount):
		return fieldErr("atLeast", "atLeast must be from 1 to %d, got %d", MaxRequestCount, *e.AtLeast)
	}
	_, err := checkMatch(e.RequestMatch)
	return err
}

// Verdict is an expectation's outcome: whether it held, and a line saying
// what was expected and, when it failed, what was seen instead.
type Verdict struct {
	OK     bool
	Report string
}

// ExpectRequests checks an expectation on the journal as it is now.
func (o *Ops) ExpectRequests(e RequestExpectation) (Verdict, error) {
	if err := CheckRequestExpectation(e); err != nil {
		return Verdict{}, err
	}
	f, err := o.filter(e.RequestMatch)
	if err != nil {
		return Verdict{}, err
	}
	n := o.journal.Count(f)
	want, ok := describeCount(e), false
	switch {
	case e.Count != nil:
		ok = n == *e.Count
	case e.AtLeast != nil:
		ok = n >= *e.AtLeast
	default:
		ok = n >= 1
	}
	line := fmt.Sprintf("%s %s: saw %d", want, describeMatch(e.RequestMatch), n)
	if ev := o.journal.Stats().Evicted; ev > 0 {
		line += fmt.Sprintf(" (the journal evicted %d older requests: raise --journal-cap to keep them)", ev)
	}
	if !ok {
		line += "; " + o.seenInstead(f)
	}
	return Verdict{OK: ok, Report: line}, nil
}

func describeCount(e RequestExpectation) string {
	switch {
	case e.Count != nil && *e.Count == 1:
		return "exactly 1 request"
	case e.Count != nil:
		return fmt.Sprintf("exactly %d requests", *e.Count)
	case e.AtLeast != nil && *e.AtLeast > 1:
		return fmt.Sprintf("at least %d requests", *e.AtLeast)
	}
	return "at least 1 request"
}

// describeMatch writes a match the way a reader would say it.
func describeMatch(m RequestMatch) string {
	var parts []string
	method, path := m.Method, m.Path
	if method == "" {
		method = "any method"
	}
	if path == "" {
		path = "any path"
	}
	parts = append(parts, strings.ToUpper(method)+" "+path)
	if m.Status != "" {
		parts = append(parts, "answered "+string(m.Status))
	}
	if m.APIKey != "" {
		parts = append(parts, "with the key "+bullseye.MaskKey(m.APIKey))
	}
	if m.PartnerID != "" {
		parts = append(parts, "of partner "+m.PartnerID)
	}
	if len(m.Body) > 0 {
		parts = append(parts, "with a body containing "+compact(m.Body))
	}
	if len(m.Has) > 0 {
		parts = append(parts, "with "+strings.Join(m.Has, ", ")+" set")
	}
	return strings.Join(parts, ", ")
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// seenInstead says what the journal holds that comes nearest: the requests
// with the expected method and path (their status and body), else the
// paths that were called.
func (o *Ops) seenInstead(f journal.Filter) string {
	near := journal.Filter{Method: f.Method, Path: f.Path}
	list, total := o.journal.List(near, 1, 3)
	if total > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%d with that method and path:", total)
		for _, e := range list {
			body := e.Body
			if r := []rune(body); len(r) > 120 {
				body = string(r[:120]) + "…"
			}
			if body == "" {
				body = "(no body)"
			}
			fmt.Fprintf(&b, " #%d answered %d, body %s;", e.ID, e.Status, body)
		}
		return strings.TrimSuffix(b.String(), ";")
	}
	all, n := o.journal.List(journal.Filter{}, 1, 1000)
	if n == 0 {
		return "the journal is empty: the app made no Partner API request"
	}
	counts := map[string]int{}
	for _, e := range all {
		counts[e.Method+" "+e.Path]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 5 {
		keys = append(keys[:5], "…")
	}
	for i, k := range keys {
		if c := counts[k]; c > 0 {
			keys[i] = fmt.Sprintf("%s (%d)", k, c)
		}
	}
	return "none with that method and path; the journal has " + strings.Join(keys, ", ")
}
