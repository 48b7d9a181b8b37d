package check

import (
	"fmt"
	"path"
	"strings"
)

// Select returns the case names to run, in battery order: those matching a
// pattern of only (every case when only is empty), minus those matching a
// pattern of skip. A pattern is a case name or a path.Match glob such as
// "sig_*". Items are trimmed and empty items ignored, so "a, b," reads as
// two names. A malformed pattern, or one matching no case, is an error that
// lists the cases: a typo must not silently run (or skip) nothing.
func Select(only, skip []string) ([]string, error) {
	onlyM, err := matcher(only)
	if err != nil {
		return nil, err
	}
	skipM, err := matcher(skip)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, n := range Names() {
		if (len(onlyM) == 0 || matchAny(onlyM, n)) && !matchAny(skipM, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func matcher(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("case pattern %q: %v; cases: %s", p, err, strings.Join(Names(), ", "))
		}
		if !matchAny([]string{p}, Names()...) {
			return nil, fmt.Errorf("no case matches %q; cases: %s", p, strings.Join(Names(), ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// matchAny reports whether a pattern matches one of the names.
func matchAny(patterns []string, names ...string) bool {
	for _, p := range patterns {
		for _, n := range names {
			if ok, _ := path.Match(p, n); ok {
				return true
			}
		}
	}
	return false
}
