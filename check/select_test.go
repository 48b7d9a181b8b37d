package check_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/check"
)

func TestSelect(t *testing.T) {
	all := check.Names()
	tests := []struct {
		only, skip []string
		want       []string
		err        string
	}{
		{want: all},
		{only: []string{"duplicate"}, want: []string{"duplicate"}},
		{only: []string{" sig_missing ", "", "valid_billing"}, want: []string{"valid_billing", "sig_missing"}},
		{only: []string{"raw_*"}, skip: []string{"raw_emoji"},
			want: []string{"raw_escaped_unicode", "raw_escaped_slashes", "raw_whitespace", "raw_key_order"}},
		{skip: []string{"*"}, want: []string{}},
		{only: []string{"sig_*", "sig_empty"}, skip: []string{"sig_[a-o]*"},
			want: []string{"sig_wrong_secret", "sig_truncated", "sig_uppercase"}},
		{only: []string{"sig_mising"}, err: `no case matches "sig_mising"; cases: valid_identification,`},
		{skip: []string{"[x"}, err: `case pattern "[x": syntax error in pattern`},
	}
	for _, tt := range tests {
		got, err := check.Select(tt.only, tt.skip)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Select(%q, %q) err %v, want %q", tt.only, tt.skip, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Select(%q, %q) = %q, %v; want %q", tt.only, tt.skip, got, err, tt.want)
		}
	}
}

// Select reads user input (flags, environment): whatever it gets, it must
// not panic, and what it returns must be cases, in battery order, without
// those skipped.
func FuzzSelect(f *testing.F) {
	f.Add("sig_*,duplicate", "sig_empty")
	f.Add("[", "")
	f.Add("", "raw_\\*")
	f.Fuzz(func(t *testing.T, only, skip string) {
		o, s := strings.Split(only, ","), strings.Split(skip, ",")
		got, err := check.Select(o, s)
		if err != nil {
			if !strings.Contains(err.Error(), "cases: valid_identification") {
				t.Errorf("error %q does not list the cases", err)
			}
			return
		}
		all := check.Names()
		last := -1
		for _, n := range got {
			i := slices.Index(all, n)
			if i <= last {
				t.Fatalf("%q: not a case, or out of order in %q", n, got)
			}
			last = i
			for _, p := range s {
				if strings.TrimSpace(p) == n {
					t.Fatalf("%q selected though skipped", n)
				}
			}
		}
	})
}
