package ops

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The deprecated spellings keep working: "duplicate": true with
// "duplicateAfter", and organizationId.
func TestDeprecatedSpellings(t *testing.T) {
	var s Send
	if err := Decode([]byte(`{"type": "visitor.identified", "organizationId": "o1", "faults": [{"duplicate": true, "duplicateAfter": "10s"}, {"duplicate": true}]}`), &s); err != nil {
		t.Fatal(err)
	}
	p, err := checkSend(s)
	if err != nil {
		t.Fatal(err)
	}
	if f := p.faults[0]; !f.duplicate || f.after != 10*time.Second {
		t.Errorf("duplicate true + duplicateAfter = %+v", f)
	}
	if f := p.faults[1]; !f.duplicate || f.after != 0 {
		t.Errorf("duplicate true = %+v", f)
	}
	if s.OrganizationID != "o1" {
		t.Errorf("organizationId = %q", s.OrganizationID)
	}
}

// The CLI's compact fault spelling is the same grammar as the object.
func TestParseFaultFlag(t *testing.T) {
	for in, want := range map[string]Fault{
		"uppercase": {Signature: "uppercase"}, "wrong-secret": {Signature: "wrong-secret"},
		"duplicate": {Duplicate: Concurrent}, "duplicate:concurrent": {Duplicate: Concurrent}, "duplicate:10s": {Duplicate: "10s"},
	} {
		got, err := ParseFaultFlag(in)
		if err != nil || got.Signature != want.Signature || got.Duplicate != want.Duplicate {
			t.Errorf("ParseFaultFlag(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if _, err := checkFault(got, 1); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	for _, in := range []string{"bogus", "duplicate:soon", "duplicate:-1s", ""} {
		if _, err := ParseFaultFlag(in); err == nil {
			t.Errorf("ParseFaultFlag(%q) accepted", in)
		}
	}
}

// Each field's problem is named by its path.
func TestCheckSendFields(t *testing.T) {
	for body, field := range map[string]string{
		`{"type": "visitor.identified", "faults": [{}, {"share": 2, "duplicate": "concurrent"}]}`: "faults[0]",
		`{"type": "visitor.identified", "faults": [{"duplicate": "1s", "share": 2}]}`:             "faults[0].share",
		`{"type": "visitor.identified", "faults": [{"duplicate": "1s", "share": "x%"}]}`:          "faults[0].share",
		`{"type": "visitor.identified", "policy": {"delays": ["1m", "soon"]}}`:                    "policy.delays[1]",
		`{"type": "visitor.identified", "policy": {"attempts": 0}}`:                               "policy.attempts",
		`{"type": "visitor.identified", "delay": "later"}`:                                        "delay",
		`{"type": "visitor.identified", "rate": "fast"}`:                                          "rate",
		`{"type": "visitor.identified", "count": "2"}`:                                            "count",
		`{"type": "visitor.identified", "faults": [{"duplicate": "1s", "share": 0}]}`:             "faults[0].share",
		`{"type": "visitor.identified", "faults": [{"duplicate": "1s", "share": "0%"}]}`:          "faults[0].share",
		`{"type": "visitor.identified", "faults": [{"sig": "x"}]}`:                                "sig", // encoding/json names the key, not its path
	} {
		var s Send
		err := Decode([]byte(body), &s)
		if err == nil {
			err = CheckSend(s)
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v (field %q), want field %q", body, err, fieldOf(fe), field)
		}
	}
}

func fieldOf(fe *FieldError) string {
	if fe == nil {
		return "<none>"
	}
	return fe.Field
}

// Whatever a client sends, decoding and checking a request answers an
// error or a plan, and never panics.
func FuzzSend(f *testing.F) {
	f.Add([]byte(`{"type": "visitor.identified", "count": 3, "rate": "10/s", "faults": [{"signature": "uppercase", "share": "50%"}, {"duplicate": "concurrent", "events": [1]}], "policy": {"delays": ["1s"], "attempts": 2, "timeout": "5s"}}`))
	f.Add([]byte(`{"type": "credits.low", "delay": "1m", "overrides": {"a": null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Send
		if err := Decode(data, &s); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("decode error %T: %v", err, err)
			}
			return
		}
		_ = CheckSend(s)
	})
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]time.Duration{"10/s": 100 * time.Millisecond, "30/m": 2 * time.Second, "0.5/h": 2 * time.Hour, " 4 / s ": 250 * time.Millisecond} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0/s", "10", "10/d", "-1/s", "1e400/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// "none" is no signature fault, as bullseye.ParseFault reads it; empty
// durations are absent, as before the fields were typed.
func TestNoneAndEmpty(t *testing.T) {
	var s Send
	if err := Decode([]byte(`{"type": "visitor.identified", "delay": "", "faults": [{"signature": "none", "duplicate": true}], "policy": {"timeout": ""}}`), &s); err != nil {
		t.Fatal(err)
	}
	p, err := checkSend(s)
	if err != nil {
		t.Fatal(err)
	}
	if f := p.faults[0]; f.signature != "" || !f.duplicate || !p.at.IsZero() || p.policy.Timeout != 0 {
		t.Errorf("plan %+v", p)
	}
	s.Faults = []Fault{{Signature: "none"}}
	if err := CheckSend(s); err == nil || !strings.Contains(err.Error(), "needs signature, duplicate or replay") {
		t.Errorf("none alone: %v", err)
	}
}
