package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"typo suggests", "name: x\nstpes: []\n", `s.yaml:2:1: unknown key "stpes" in scenario, did you mean "steps"?`},
		{"unknown far key", "name: x\nzzzzzzzzzz: 1\n", `s.yaml:2:1: unknown key "zzzzzzzzzz" in scenario, expected one of name, description, seed, clock, partner, webhooks, organizations, retry, receiver, steps`},
		{"no steps", "name: x\n", `s.yaml:1:1: no steps, expected a steps list (send, webhook, wait, every, expect)`},
		{"empty file", "", `s.yaml:1:1: empty file, expected a mapping with name and steps`},
		{"not a mapping", "- a\n", `s.yaml:1:1: scenario is a list, expected a mapping with keys name, description, seed, clock, partner, webhooks, organizations, retry, receiver, steps`},
		{"bad yaml", "name: [\n", `s.yaml:1:1: not valid YAML or JSON: did not find expected node content`},
		{"duplicate key", "name: a\nname: b\nsteps: [{wait: settled}]\n", `s.yaml:2:1: key "name" given twice in scenario`},
		{"seed type", "seed: abc\nsteps: [{wait: settled}]\n", `s.yaml:1:7: seed is "abc", expected a whole number`},
		{"clock", "clock: fast\nsteps: [{wait: settled}]\n", `s.yaml:1:8: clock is "fast", expected real, manual or {scaled: N}`},
		{"clock scaled zero", "clock: {scaled: 0}\nsteps: [{wait: settled}]\n", `s.yaml:1:17: scaled is "0", expected a factor greater than 0`},
		{"webhook kind typo", "webhooks:\n  identificaton: {url: http://x}\nsteps: [{wait: settled}]\n", `s.yaml:2:3: unknown key "identificaton" in webhooks, did you mean "identification"?`},
		{"webhook url", "webhooks:\n  billing: {url: ftp://x}\nsteps: [{wait: settled}]\n", `s.yaml:2:18: url is "ftp://x", expected an http:// or https:// URL`},
		{"enabled type", "webhooks:\n  billing: {enabled: yes please}\nsteps: [{wait: settled}]\n", `s.yaml:2:22: enabled is "yes please", expected true or false`},
		{"retry delay", "retry: {delays: [1m, soon]}\nsteps: [{wait: settled}]\n", `s.yaml:1:22: delays[1] must be a duration such as "30s" or "1m", got "soon"`},
		{"retry attempts", "retry: {attempts: 0}\nsteps: [{wait: settled}]\n", `s.yaml:1:19: attempts must be from 1 to 100, got 0`},
		{"two actions", "steps:\n  - send: {type: credits.low}\n    wait: 1m\n", `s.yaml:2:5: a step has 2 actions, expected exactly one of send, webhook, wait, every, expect, apiFault, revokeKey`},
		{"step typo", "steps:\n  - sned: {type: credits.low}\n", `s.yaml:2:5: unknown key "sned" in step, did you mean "send"?`},
		{"event type typo", "steps:\n  - send: {type: visitor.identifed}\n", `s.yaml:2:18: unknown event type "visitor.identifed", did you mean "visitor.identified"?`},
		{"send without type", "steps:\n  - send: {count: 2}\n", `s.yaml:2:11: type is required, one of visitor.identified, credits.allocated, credits.low, credits.exhausted, billing.period_closed`},
		{"rate", "steps:\n  - send: {type: credits.low, rate: fast}\n", `s.yaml:2:37: rate must be events per unit of mock time such as "10/s", "30/m" or "2/h", got "fast"`},
		{"fault name typo", "steps:\n  - send:\n      type: credits.low\n      faults: [{signature: wrong-secet}]\n", `s.yaml:4:28: unknown signature fault "wrong-secet", did you mean "wrong_secret"?`},
		{"fault empty", "steps:\n  - send:\n      type: credits.low\n      faults: [{events: [1]}]\n", `s.yaml:4:16: a fault needs signature, duplicate or replay`},
		{"fault event out of range", "steps:\n  - send:\n      type: credits.low\n      count: 2\n      faults: [{duplicate: concurrent, events: [3]}]\n", `s.yaml:5:49: events names event 3, but the request has events 1 to 2`},
		{"duplicate value", "steps:\n  - send:\n      type: credits.low\n      faults: [{duplicate: sometimes}]\n", `s.yaml:4:28: duplicate must be "concurrent" or a non-negative duration such as "10s", got "sometimes"`},
		{"share", "steps:\n  - send:\n      type: credits.low\n      faults: [{duplicate: 1s, share: 2}]\n", `s.yaml:4:39: share must be above 0 and at most 1 (0.25 or "25%"), got 2`},
		{"wait", "steps:\n  - wait: forever\n", `s.yaml:2:11: wait is "forever", expected "settled", a duration such as "1m" or {requests: ...}`},
		{"cron", "steps:\n  - every: {schedule: \"61 * * * *\", count: 1, steps: [{wait: 1s}]}\n", `s.yaml:2:23: schedule "61 * * * *": end of range (61) above maximum (59): 61, expected a cron line such as "*/10 * * * * *" or "@every 10s"`},
		{"every without steps", "steps:\n  - every: {schedule: \"@every 1s\", count: 1}\n", `s.yaml:2:12: every has no steps, expected the steps to repeat`},
		{"expect nothing", "steps:\n  - expect: {deliveries: [1]}\n", `s.yaml:2:13: expect checks nothing, expected one of state, states, attempts, offsets, statuses, faults, duplicates, arrival, requests, traffic`},
		{"traffic share", "steps:\n  - expect:\n      traffic: {minSuccess: 1.5}\n", `s.yaml:3:29: minSuccess must be from 0 to 1, got 1.5`},
		{"traffic duration", "steps:\n  - expect:\n      traffic: {maxP99: soon}\n", `s.yaml:3:25: maxP99 must be a duration such as "30s" or "1m", got "soon"`},
		{"traffic key", "steps:\n  - expect:\n      traffic: {maxP98: 1s}\n", `s.yaml:3:17: unknown key "maxP98" in traffic, did you mean "maxP90"?`},
		{"traffic empty", "steps:\n  - expect:\n      traffic: {}\n", `s.yaml:3:16: traffic sets no threshold, expected some of maxP50, maxP90, maxP95, maxP99, maxLatency, minSuccess, maxLate, minRate`},
		{"expect state", "steps:\n  - expect: {state: done}\n", `s.yaml:2:21: state is "done", expected one of delivered, failed, canceled, scheduled, retrying`},
		{"expect status", "steps:\n  - expect: {statuses: [200, 7xx]}\n", `s.yaml:2:30: a status is "7xx", expected a status code (200), a class ("4xx") or "timeout"`},
		{"expect fault", "steps:\n  - expect: {faults: {bad: 4xx}}\n", `s.yaml:2:23: fault "bad", expected one of wrong_secret, missing, empty, non_hex, truncated, uppercase, other_bytes, reserialized`},
		{"string expected", "name: [a]\nsteps: [{wait: 1s}]\n", `s.yaml:1:7: name is a list, expected a string`},
		{"json typo", "{\n  \"name\": \"x\",\n  \"step\": []\n}\n", `s.yaml:3:3: unknown key "step" in scenario, did you mean "steps"?`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("no error, want %s", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want *Error", err)
			}
		})
	}
}

func TestParseEverything(t *testing.T) {
	src := `
name: all
description: every key
seed: 7
clock: {scaled: 60}
partner: {api_key: k1}
webhooks:
  identification: {url: "http://h/x", secret: s, enabled: false, dialect: integration}
organizations:
  - {name: Acme, external_id: a1, status: suspended, tier: trial, credits: 10}
retry: {delays: [1s, 2s], attempts: 3, timeout: 5s}
steps:
  - send:
      type: visitor.identified
      count: 4
      rate: 2/s
      organization: Acme
      dialect: partner
      overrides: {visitor: {email: a@b.c}}
      faults:
        - {signature: Uppercase, share: "50%"}
        - {duplicate: 3s, events: [1, 4]}
  - webhook: {kind: billing, enabled: true}
  - wait: 10s
  - every: {schedule: "*/5 * * * * *", for: 1m, steps: [{wait: settled}]}
  - expect: {deliveries: [1], state: delivered, states: {failed: 0}, attempts: 2, offsets: [0s, 1s], statuses: [500, 2xx], faults: {uppercase: timeout}, duplicates: 200}
`
	s, err := Parse("all.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "all" || s.Seed != 7 || s.Clock != (Clock{Mode: ClockScaled, Factor: 60}) || s.APIKey != "k1" {
		t.Errorf("header %+v", s)
	}
	w := s.Webhooks[bullseye.KindIdentification]
	if *w.URL != "http://h/x" || *w.Secret != "s" || *w.Enabled || *w.Dialect != bullseye.DialectIntegration {
		t.Errorf("webhook %+v", w)
	}
	if want := (Organization{"Acme", "a1", "suspended", "trial", 10}); s.Organizations[0] != want {
		t.Errorf("organization %+v", s.Organizations[0])
	}
	if pol, err := s.Retry.Resolve(); err != nil || !reflect.DeepEqual(pol, bullseye.Policy{Delays: []time.Duration{time.Second, 2 * time.Second}, Attempts: 3, Timeout: 5 * time.Second}) {
		t.Errorf("retry %+v %v", pol, err)
	}
	send := s.Steps[0].Send
	wantFaults := []ops.Fault{{Signature: "Uppercase", Share: 0.5}, {Duplicate: "3s", Events: []int{1, 4}}}
	if *send.Count != 4 || send.Rate != "2/s" || send.Organization != "Acme" || !reflect.DeepEqual(send.Faults, wantFaults) {
		t.Errorf("send %+v", send)
	}
	if string(send.Overrides) != `{"visitor":{"email":"a@b.c"}}` {
		t.Errorf("overrides %s", send.Overrides)
	}
	if s.Steps[0].Pos != (Pos{13, 5}) {
		t.Errorf("first step at %+v", s.Steps[0].Pos)
	}
	if st := s.Steps[1].Webhook; st.Kind != bullseye.KindBilling || !*st.Enabled {
		t.Errorf("webhook step %+v", st)
	}
	if s.Steps[2].Wait.Duration != 10*time.Second || !s.Steps[3].Every.Steps[0].Wait.Settled || s.Steps[3].Every.For != time.Minute {
		t.Errorf("wait/every %+v %+v", s.Steps[2].Wait, s.Steps[3].Every)
	}
	e := s.Steps[4].Expect
	if e.State != "delivered" || e.Attempts != 2 || len(e.Offsets) != 2 || e.Statuses[1] != (Status{Class: 2}) ||
		e.Faults[bullseye.FaultUppercase] != (Status{}) || *e.Duplicates != (Status{Code: 200}) || e.States["failed"] != 0 {
		t.Errorf("expect %+v", e)
	}
}

// schema.json is what editors check files with; it must name exactly the
// keys the parser accepts, and the same enumerations.
func TestSchemaMatchesParser(t *testing.T) {
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Enum       []string                   `json:"enum"`
			Ref        string                     `json:"$ref"`
			OneOf      []struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"oneOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	for object, keys := range objectKeys {
		def, ok := schema.Defs[object]
		if !ok {
			t.Errorf("schema has no $defs/%s", object)
			continue
		}
		if ref, isRef := strings.CutPrefix(def.Ref, "#/$defs/"); isRef {
			def = schema.Defs[ref] // retry is a policy
		}
		// An object that may also be written as a scalar (clock) has its
		// properties in one branch of a oneOf.
		var got []string
		for k := range def.Properties {
			got = append(got, k)
		}
		for _, alt := range def.OneOf {
			for k := range alt.Properties {
				got = append(got, k)
			}
		}
		want := append([]string(nil), keys...)
		for old := range deprecatedKeys[object] {
			want = append(want, old) // still read, so the schema admits it (as deprecated)
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("$defs/%s properties %v; the parser knows %v", object, got, want)
		}
	}
	for name, def := range schema.Defs {
		if _, ok := objectKeys[name]; !ok && def.Properties != nil {
			t.Errorf("$defs/%s has properties the parser does not know of", name)
		}
	}
	enums := map[string][]string{"signatureFault": bullseye.FaultNames(), "state": states, "dialect": bullseye.Dialects()}
	for name, want := range enums {
		if got := schema.Defs[name].Enum; !reflect.DeepEqual(got, want) {
			t.Errorf("$defs/%s enum %v, want %v", name, got, want)
		}
	}
	var send struct {
		Defs struct {
			Send struct {
				Properties struct {
					Type struct{ Enum []string } `json:"type"`
				} `json:"properties"`
			} `json:"send"`
		} `json:"$defs"`
	}
	_ = json.Unmarshal(data, &send)
	if got := send.Defs.Send.Properties.Type.Enum; !reflect.DeepEqual(got, bullseye.EventTypes()) {
		t.Errorf("$defs/send type enum %v, want %v", got, bullseye.EventTypes())
	}
}

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("examples/*")
	if len(files) < 9 {
		t.Fatalf("%d examples", len(files))
	}
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if s.Name == "" || !strings.HasPrefix(s.File, "examples/") {
			t.Errorf("%s: name %q file %q", f, s.Name, s.File)
		}
	}
}

func TestNearest(t *testing.T) {
	keys := objectKeys["scenario"]
	for in, want := range map[string]string{"Steps": "steps", "seeds": "seed", "retries": "retry", "organisations": "organizations", "x": ""} {
		if got := ops.Nearest(in, keys); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("examples/*")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte("steps: [{every: {schedule: '@every 1s', steps: [{expect: {states: {x: 1}}}]}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		if err == nil && len(s.Steps) == 0 {
			t.Error("parsed a scenario without steps")
		}
		var pe *Error
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("error %T without a position: %v", err, err)
		}
	})
}

// Anchors and aliases let a file reuse a piece; merge keys are not part of
// the format (they would hide unknown keys).
func TestParseAliases(t *testing.T) {
	src := `
webhooks:
  identification: &hook {url: "http://h/x", secret: s}
  billing: *hook
steps:
  - send: {type: visitor.identified, faults: &faults [{signature: missing}]}
  - send: {type: credits.low, faults: *faults}
  - expect: {states: {delivered: 2, delivered: 3}}
`
	_, err := Parse("a.yaml", []byte(src))
	if err == nil || err.Error() != `a.yaml:8:37: state "delivered" given twice in states` {
		t.Fatalf("err %v", err)
	}
	s, err := Parse("a.yaml", []byte(strings.Replace(src, ", delivered: 3", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if *s.Webhooks["billing"].URL != "http://h/x" || s.Steps[1].Send.Faults[0].Signature != "missing" {
		t.Errorf("aliases not followed: %+v", s)
	}
	if _, err := Parse("r.yaml", []byte("steps: &s [{every: {schedule: '@every 1s', count: 1, steps: *s}}]")); err == nil || !strings.Contains(err.Error(), "every nested more than 16 deep") {
		t.Error("a recursive alias parsed")
	}
}

func TestParseAliasBomb(t *testing.T) {
	// Each level is a list of ten every steps over the level before: seven
	// levels are ten million steps from a dozen lines.
	var b strings.Builder
	b.WriteString("steps:\n  - every: {schedule: '@every 1s', count: 1, steps: &l0 [" + strings.TrimSuffix(strings.Repeat("{wait: 1s}, ", 10), ", ") + "]}\n")
	for i := 1; i <= 7; i++ {
		item := fmt.Sprintf("{every: {schedule: '@every 1s', count: 1, steps: *l%d}}", i-1)
		fmt.Fprintf(&b, "  - every: {schedule: '@every 1s', count: 1, steps: &l%d [%s]}\n", i, strings.TrimSuffix(strings.Repeat(item+", ", 10), ", "))
	}
	_, err := Parse("b.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "more than 100000 items") {
		t.Fatalf("err %v", err)
	}
}
