package journal

import (
	"fmt"
	"path"
	"reflect"
	"strings"
	"time"
)

// Filter selects entries; zero fields select all.
type Filter struct {
	Method    string
	Path      Pattern
	Status    int // an exact status
	Class     int // a class instead: 5 for 5xx
	PartnerID string
	APIKey    string
	Since     time.Time // mock time, inclusive
	After     int64     // only ids greater than this
	// Body, when set, must be contained in the request's JSON body:
	// objects match when each of Body's keys matches, other values when
	// they are equal.
	Body any
	// Has names fields of the JSON body (dotted for nested ones) that must
	// be present and neither null nor "".
	Has []string
}

// Match reports whether f selects e.
func (f *Filter) Match(e *Entry) bool {
	switch {
	case f.Method != "" && !strings.EqualFold(f.Method, e.Method),
		!f.Path.Match(e.Path),
		f.Class > 0 && e.Status/100 != f.Class,
		f.Class == 0 && f.Status > 0 && e.Status != f.Status,
		f.PartnerID != "" && e.PartnerID != f.PartnerID,
		f.APIKey != "" && e.apiKey() != f.APIKey,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		e.ID <= f.After:
		return false
	}
	if f.Body == nil && len(f.Has) == 0 {
		return true
	}
	body, ok := e.json()
	if !ok {
		return false // not the whole body, or not JSON: nothing to compare
	}
	if f.Body != nil && !contains(f.Body, body) {
		return false
	}
	for _, h := range f.Has {
		if v, ok := lookup(body, h); !ok || v == nil || v == "" {
			return false
		}
	}
	return true
}

// contains reports whether want is contained in got (both as
// encoding/json decodes into any).
func contains(want, got any) bool {
	w, ok := want.(map[string]any)
	if !ok {
		return reflect.DeepEqual(want, got)
	}
	g, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok || !contains(wv, gv) {
			return false
		}
	}
	return true
}

func lookup(v any, dotted string) (any, bool) {
	for _, k := range strings.Split(dotted, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Pattern matches request paths: segments are compared one by one as
// path.Match does ("*" within a segment, "?", "[a-z]"), and a segment "**"
// matches any number of segments. The zero Pattern matches every path.
type Pattern struct {
	text string
	segs []string
}

// MaxPattern bounds a pattern's length.
const MaxPattern = 1024

// ParsePattern reads a pattern such as "/api/v1/partner/webhooks/*".
func ParsePattern(s string) (Pattern, error) {
	if !strings.HasPrefix(s, "/") {
		return Pattern{}, fmt.Errorf("path pattern %q must start with /", s)
	}
	if len(s) > MaxPattern {
		return Pattern{}, fmt.Errorf("path pattern is %d bytes, at most %d", len(s), MaxPattern)
	}
	segs := strings.Split(s[1:], "/")
	for _, seg := range segs {
		if _, err := path.Match(seg, ""); err != nil {
			return Pattern{}, fmt.Errorf("path pattern %q: malformed segment %q", s, seg)
		}
	}
	return Pattern{text: s, segs: segs}, nil
}

// String is the pattern as written.
func (p Pattern) String() string { return p.text }

// IsZero reports whether p matches everything because it was never set.
func (p Pattern) IsZero() bool { return p.segs == nil }

// Match reports whether the path p matches.
func (p Pattern) Match(s string) bool {
	if p.segs == nil {
		return true
	}
	if !strings.HasPrefix(s, "/") {
		return false
	}
	return matchSegs(p.segs, strings.Split(s[1:], "/"))
}

// matchSegs matches segment by segment, keeping for each prefix of the
// pattern which prefixes of the path it matches: linear in each, however
// many "**" the pattern has.
func matchSegs(pat, segs []string) bool {
	cur := make([]bool, len(segs)+1)
	cur[0] = true
	for _, p := range pat {
		next := make([]bool, len(segs)+1)
		if p == "**" {
			seen := false
			for j := range cur {
				seen = seen || cur[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(segs); j++ {
				if cur[j-1] {
					next[j], _ = path.Match(p, segs[j-1])
				}
			}
		}
		cur = next
	}
	return cur[len(segs)]
}
