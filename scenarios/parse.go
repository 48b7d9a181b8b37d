package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/events"
)

// Keys lists the keys each object of the format accepts, by the object's
// name in schema.json's $defs. The parser rejects any other key, and a test
// keeps schema.json in step with this table.
var objectKeys = map[string][]string{
	"scenario":     {"name", "description", "seed", "clock", "partner", "webhooks", "organizations", "retry", "steps"},
	"clock":        {"scaled"},
	"partner":      {"api_key"},
	"webhooks":     {bullseye.KindIdentification, bullseye.KindBilling},
	"webhook":      {"url", "secret", "enabled", "dialect"},
	"organization": {"name", "external_id", "status", "tier", "credits"},
	"retry":        {"delays", "attempts", "timeout"},
	"step":         {"send", "webhook", "wait", "every", "expect"},
	"send":         {"type", "count", "rate", "organization", "dialect", "overrides", "faults"},
	"fault":        {"signature", "duplicate", "events", "share"},
	"webhook_step": {"kind", "url", "secret", "enabled", "dialect"},
	"every":        {"schedule", "count", "for", "steps"},
	"expect":       {"deliveries", "state", "states", "attempts", "offsets", "statuses", "faults", "duplicates"},
}

// Error is a problem in a scenario file, at a line and column (1-based).
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// cronParser accepts an optional seconds field and @every/@hourly
// descriptors, so both "*/10 * * * * *" and "@every 10s" work.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse parses a scenario from data; file names it in errors. YAML and JSON
// are both accepted (JSON is read as the YAML it is a subset of).
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, &Error{File: file, Line: line, Col: 1, Msg: "not valid YAML or JSON: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Line: 1, Col: 1, Msg: "empty file, expected a mapping with name and steps"}
	}
	s, err := p.scenario(deref(doc.Content[0]))
	if err != nil {
		return nil, err
	}
	s.File = file
	return s, nil
}

type parser struct {
	file  string
	depth int // every steps nested
	items int // list items read, aliases counted each time they are used
}

// Limits of what aliases can make of a small file: a step list that
// contains itself, or aliases of aliases that multiply a few lines into
// billions of steps.
const (
	maxDepth = 16
	maxItems = 100_000
)

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// fields checks that n is a mapping of known keys of object, each once, and
// returns the values by key and the keys in file order.
func (p *parser) fields(n *yaml.Node, object string) (map[string]*yaml.Node, []*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, p.errf(n, "%s is %s, expected a mapping with keys %s", object, kindName(n), strings.Join(objectKeys[object], ", "))
	}
	known := objectKeys[object]
	out := map[string]*yaml.Node{}
	var order []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, p.errf(k, "%s has a key that is %s, expected one of %s", object, kindName(k), strings.Join(known, ", "))
		}
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown key %q in %s", k.Value, object)
			if s := nearest(k.Value, known); s != "" {
				msg += fmt.Sprintf(", did you mean %q?", s)
			} else {
				msg += ", expected one of " + strings.Join(known, ", ")
			}
			return nil, nil, p.errf(k, "%s", msg)
		}
		if _, dup := out[k.Value]; dup {
			return nil, nil, p.errf(k, "key %q given twice in %s", k.Value, object)
		}
		out[k.Value] = deref(v)
		order = append(order, k)
	}
	return out, order, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nearest suggests the known key closest to a typo, when it is close enough
// to be what was meant.
func nearest(s string, known []string) string {
	best, bestD := "", math.MaxInt
	for _, k := range known {
		if d := levenshtein(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= max(2, len(s)/2) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func (p *parser) scalar(n *yaml.Node, what, expected string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, "%s is %s, expected %s", what, kindName(n), expected)
	}
	return n.Value, nil
}

func (p *parser) str(n *yaml.Node, what string) (string, error) {
	v, err := p.scalar(n, what, "a string")
	if err == nil && n.Tag != "!!str" {
		return "", p.errf(n, "%s is %s, expected a string (quote it)", what, kindName(n))
	}
	return v, err
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int) (int, error) {
	v, err := p.scalar(n, what, "a whole number")
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(v)
	if err != nil || n.Tag != "!!int" {
		return 0, p.errf(n, "%s is %s, expected a whole number", what, kindName(n))
	}
	if i < lo || i > hi {
		return 0, p.errf(n, "%s is %d, expected %d to %d", what, i, lo, hi)
	}
	return i, nil
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	v, err := p.scalar(n, what, "true or false")
	if err != nil {
		return false, err
	}
	if n.Tag != "!!bool" {
		return false, p.errf(n, "%s is %s, expected true or false", what, kindName(n))
	}
	return strings.EqualFold(v, "true"), nil
}

func (p *parser) duration(n *yaml.Node, what string, allowZero bool) (time.Duration, error) {
	v, err := p.scalar(n, what, `a duration such as "30s" or "1m"`)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d == 0 && !allowZero) {
		return 0, p.errf(n, `%s is %s, expected a positive duration such as "30s" or "1m"`, what, kindName(n))
	}
	return d, nil
}

func (p *parser) list(n *yaml.Node, what, of string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "%s is %s, expected a list of %s", what, kindName(n), of)
	}
	p.items += len(n.Content)
	if p.items > maxItems {
		return nil, p.errf(n, "%s makes the file hold more than %d items (through aliases?), expected a smaller file", what, maxItems)
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		items[i] = deref(it)
	}
	return items, nil
}

// deref follows YAML aliases (*name) to their anchored node, so a file can
// define a fault list or a webhook once and reuse it.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func (p *parser) scenario(n *yaml.Node) (*Scenario, error) {
	f, _, err := p.fields(n, "scenario")
	if err != nil {
		return nil, err
	}
	s := &Scenario{Seed: 1, Clock: Clock{Mode: ClockManual}, Webhooks: map[string]Webhook{}}
	if v := f["name"]; v != nil {
		if s.Name, err = p.str(v, "name"); err != nil {
			return nil, err
		}
	}
	if v := f["description"]; v != nil {
		if s.Description, err = p.str(v, "description"); err != nil {
			return nil, err
		}
	}
	if v := f["seed"]; v != nil {
		seed, err := p.integer(v, "seed", math.MinInt, math.MaxInt)
		if err != nil {
			return nil, err
		}
		s.Seed = int64(seed)
	}
	if v := f["clock"]; v != nil {
		if s.Clock, err = p.clock(v); err != nil {
			return nil, err
		}
	}
	if v := f["partner"]; v != nil {
		pf, _, err := p.fields(v, "partner")
		if err != nil {
			return nil, err
		}
		if k := pf["api_key"]; k != nil {
			if s.APIKey, err = p.str(k, "api_key"); err != nil {
				return nil, err
			}
			if strings.TrimSpace(s.APIKey) == "" {
				return nil, p.errf(k, "api_key is empty, expected a key")
			}
		}
	}
	if v := f["webhooks"]; v != nil {
		wf, order, err := p.fields(v, "webhooks")
		if err != nil {
			return nil, err
		}
		for _, k := range order {
			w, err := p.webhook(wf[k.Value], "webhook", k.Value)
			if err != nil {
				return nil, err
			}
			s.Webhooks[k.Value] = w
		}
	}
	if v := f["organizations"]; v != nil {
		items, err := p.list(v, "organizations", "organizations")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o, err := p.organization(it)
			if err != nil {
				return nil, err
			}
			s.Organizations = append(s.Organizations, o)
		}
	}
	if v := f["retry"]; v != nil {
		if s.Retry, err = p.retry(v); err != nil {
			return nil, err
		}
	}
	v := f["steps"]
	if v == nil {
		return nil, p.errf(n, "no steps, expected a steps list (send, webhook, wait, every, expect)")
	}
	if s.Steps, err = p.steps(v, s); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) clock(n *yaml.Node) (Clock, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case ClockReal, ClockManual:
			return Clock{Mode: n.Value}, nil
		}
		msg := fmt.Sprintf("clock is %s, expected real, manual or {scaled: N}", kindName(n))
		if n.Value == ClockScaled {
			msg = "clock scaled needs a factor, expected {scaled: N}"
		}
		return Clock{}, p.errf(n, "%s", msg)
	}
	f, _, err := p.fields(n, "clock")
	if err != nil {
		return Clock{}, err
	}
	v := f["scaled"]
	if v == nil {
		return Clock{}, p.errf(n, "clock mapping needs scaled, expected {scaled: N}")
	}
	s, err := p.scalar(v, "scaled", "a factor greater than 0")
	if err != nil {
		return Clock{}, err
	}
	x, perr := strconv.ParseFloat(s, 64)
	if perr != nil || (v.Tag != "!!int" && v.Tag != "!!float") || !(x > 0) || math.IsInf(x, 0) {
		return Clock{}, p.errf(v, "scaled is %s, expected a factor greater than 0", kindName(v))
	}
	return Clock{Mode: ClockScaled, Factor: x}, nil
}

var dialects = []string{string(bullseye.DialectPartner), string(bullseye.DialectIntegration)}

func (p *parser) dialect(n *yaml.Node) (bullseye.Dialect, error) {
	v, err := p.scalar(n, "dialect", "partner or integration")
	if err != nil {
		return "", err
	}
	if !contains(dialects, v) {
		return "", p.errf(n, "dialect is %s, expected partner or integration", kindName(n))
	}
	return bullseye.Dialect(v), nil
}

func (p *parser) webhook(n *yaml.Node, object, kind string) (Webhook, error) {
	f, _, err := p.fields(n, object)
	if err != nil {
		return Webhook{}, err
	}
	w := Webhook{Kind: kind}
	if v := f["kind"]; v != nil {
		k, err := p.scalar(v, "kind", "identification or billing")
		if err != nil {
			return w, err
		}
		if k != bullseye.KindIdentification && k != bullseye.KindBilling {
			return w, p.errf(v, "kind is %s, expected identification or billing", kindName(v))
		}
		w.Kind = k
	}
	if v := f["url"]; v != nil {
		u, err := p.str(v, "url")
		if err != nil {
			return w, err
		}
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return w, p.errf(v, "url is %q, expected an http:// or https:// URL", u)
		}
		w.URL = &u
	}
	if v := f["secret"]; v != nil {
		sec, err := p.str(v, "secret")
		if err != nil {
			return w, err
		}
		w.Secret = &sec
	}
	if v := f["enabled"]; v != nil {
		b, err := p.boolean(v, "enabled")
		if err != nil {
			return w, err
		}
		w.Enabled = &b
	}
	if v := f["dialect"]; v != nil {
		d, err := p.dialect(v)
		if err != nil {
			return w, err
		}
		w.Dialect = &d
	}
	return w, nil
}

func (p *parser) organization(n *yaml.Node) (Organization, error) {
	f, _, err := p.fields(n, "organization")
	if err != nil {
		return Organization{}, err
	}
	o := Organization{Status: bullseye.OrgActive, Tier: bullseye.TierPaid}
	v := f["name"]
	if v == nil {
		return o, p.errf(n, "organization has no name, expected name")
	}
	if o.Name, err = p.str(v, "name"); err != nil {
		return o, err
	}
	if v := f["external_id"]; v != nil {
		if o.ExternalID, err = p.str(v, "external_id"); err != nil {
			return o, err
		}
	}
	if v := f["status"]; v != nil {
		if o.Status, err = p.scalar(v, "status", "active, canceled or suspended"); err != nil {
			return o, err
		}
		if !contains([]string{bullseye.OrgActive, bullseye.OrgCanceled, bullseye.OrgSuspended}, o.Status) {
			return o, p.errf(v, "status is %s, expected active, canceled or suspended", kindName(v))
		}
	}
	if v := f["tier"]; v != nil {
		if o.Tier, err = p.scalar(v, "tier", "trial or paid"); err != nil {
			return o, err
		}
		if o.Tier != bullseye.TierTrial && o.Tier != bullseye.TierPaid {
			return o, p.errf(v, "tier is %s, expected trial or paid", kindName(v))
		}
	}
	if v := f["credits"]; v != nil {
		if o.Credits, err = p.integer(v, "credits", 0, math.MaxInt32); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (p *parser) retry(n *yaml.Node) (*bullseye.Policy, error) {
	f, _, err := p.fields(n, "retry")
	if err != nil {
		return nil, err
	}
	pol := &bullseye.Policy{}
	if v := f["delays"]; v != nil {
		items, err := p.list(v, "delays", "durations")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			d, err := p.duration(it, "a retry delay", false)
			if err != nil {
				return nil, err
			}
			pol.Delays = append(pol.Delays, d)
		}
	}
	if v := f["attempts"]; v != nil {
		if pol.Attempts, err = p.integer(v, "attempts", 1, bullseye.MaxAttempts); err != nil {
			return nil, err
		}
	}
	if v := f["timeout"]; v != nil {
		if pol.Timeout, err = p.duration(v, "timeout", false); err != nil {
			return nil, err
		}
	}
	if err := pol.WithDefaults().Validate(); err != nil {
		return nil, p.errf(n, "retry: %v", err)
	}
	return pol, nil
}

func (p *parser) steps(n *yaml.Node, s *Scenario) ([]Step, error) {
	items, err := p.list(n, "steps", "steps (send, webhook, wait, every, expect)")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, p.errf(n, "steps is empty, expected at least one step")
	}
	var out []Step
	for _, it := range items {
		st, err := p.step(it, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (p *parser) step(n *yaml.Node, s *Scenario) (Step, error) {
	f, order, err := p.fields(n, "step")
	if err != nil {
		return Step{}, err
	}
	st := Step{Pos: Pos{n.Line, n.Column}}
	if len(order) != 1 {
		return st, p.errf(n, "a step has %d actions, expected exactly one of send, webhook, wait, every, expect", len(order))
	}
	key := order[0].Value
	v := f[key]
	switch key {
	case "send":
		st.Send, err = p.send(v)
	case "webhook":
		var w Webhook
		w, err = p.webhook(v, "webhook_step", bullseye.KindIdentification)
		st.Webhook = &w
	case "wait":
		st.Wait, err = p.wait(v)
	case "every":
		st.Every, err = p.every(v, s)
	case "expect":
		st.Expect, err = p.expect(v)
	}
	return st, err
}

func (p *parser) send(n *yaml.Node) (*Send, error) {
	f, _, err := p.fields(n, "send")
	if err != nil {
		return nil, err
	}
	s := &Send{Count: 1}
	v := f["type"]
	if v == nil {
		return nil, p.errf(n, "send has no type, expected one of %s", strings.Join(bullseye.EventTypes(), ", "))
	}
	if s.Type, err = p.scalar(v, "type", "an event type"); err != nil {
		return nil, err
	}
	if _, err := bullseye.KindOf(s.Type); err != nil {
		msg := fmt.Sprintf("type is %s, expected one of %s", kindName(v), strings.Join(bullseye.EventTypes(), ", "))
		if near := nearest(s.Type, bullseye.EventTypes()); near != "" {
			msg = fmt.Sprintf("type is %s, did you mean %q?", kindName(v), near)
		}
		return nil, p.errf(v, "%s", msg)
	}
	if v := f["count"]; v != nil {
		if s.Count, err = p.integer(v, "count", 1, events.MaxCount); err != nil {
			return nil, err
		}
	}
	if v := f["rate"]; v != nil {
		r, err := p.scalar(v, "rate", `a rate such as "10/s", "30/m" or "2/h"`)
		if err != nil {
			return nil, err
		}
		if s.Interval, err = ParseRate(r); err != nil {
			return nil, p.errf(v, `rate is %s, expected a rate such as "10/s", "30/m" or "2/h"`, kindName(v))
		}
	}
	if v := f["organization"]; v != nil {
		if s.Organization, err = p.str(v, "organization"); err != nil {
			return nil, err
		}
	}
	if v := f["dialect"]; v != nil {
		if s.Dialect, err = p.dialect(v); err != nil {
			return nil, err
		}
	}
	if v := f["overrides"]; v != nil {
		if v.Kind != yaml.MappingNode {
			return nil, p.errf(v, "overrides is %s, expected a mapping of payload fields (a JSON merge patch)", kindName(v))
		}
		var x any
		if err := v.Decode(&x); err != nil {
			return nil, p.errf(v, "overrides: %v", err)
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, p.errf(v, "overrides cannot be JSON: %v, expected string keys and plain values", err)
		}
		s.Overrides = b
	}
	if v := f["faults"]; v != nil {
		items, err := p.list(v, "faults", "faults")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			ft, err := p.fault(it, s.Count)
			if err != nil {
				return nil, err
			}
			s.Faults = append(s.Faults, ft)
		}
	}
	return s, nil
}

func faultNames() []string {
	var out []string
	for _, f := range bullseye.Faults() {
		out = append(out, string(f))
	}
	return out
}

func (p *parser) fault(n *yaml.Node, count int) (events.Fault, error) {
	f, _, err := p.fields(n, "fault")
	if err != nil {
		return events.Fault{}, err
	}
	var ft events.Fault
	if v := f["signature"]; v != nil {
		name, err := p.scalar(v, "signature", "a signature fault")
		if err != nil {
			return ft, err
		}
		sf, perr := bullseye.ParseFault(name)
		if perr != nil || sf == bullseye.FaultNone {
			msg := fmt.Sprintf("signature is %s, expected one of %s", kindName(v), strings.Join(faultNames(), ", "))
			if near := nearest(name, faultNames()); near != "" {
				msg = fmt.Sprintf("signature is %s, did you mean %q?", kindName(v), near)
			}
			return ft, p.errf(v, "%s", msg)
		}
		ft.Signature = sf
	}
	if v := f["duplicate"]; v != nil {
		d, err := p.scalar(v, "duplicate", `"concurrent" or a delay such as "10s"`)
		if err != nil {
			return ft, err
		}
		ft.Duplicate = true
		if d != "concurrent" {
			if ft.DuplicateAfter, err = p.duration(v, "duplicate", true); err != nil {
				return ft, p.errf(v, `duplicate is %s, expected "concurrent" or a delay such as "10s"`, kindName(v))
			}
		}
	}
	if ft.Signature == bullseye.FaultNone && !ft.Duplicate {
		return ft, p.errf(n, "a fault needs signature or duplicate")
	}
	if v := f["events"]; v != nil {
		items, err := p.list(v, "events", "event numbers")
		if err != nil {
			return ft, err
		}
		for _, it := range items {
			e, err := p.integer(it, "an event number", 1, count)
			if err != nil {
				return ft, err
			}
			ft.Events = append(ft.Events, e)
		}
	}
	if v := f["share"]; v != nil {
		s, err := p.scalar(v, "share", "a fraction between 0 and 1")
		if err != nil {
			return ft, err
		}
		x, perr := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if strings.HasSuffix(s, "%") {
			x /= 100
		}
		if perr != nil || !(x > 0 && x <= 1) {
			return ft, p.errf(v, `share is %s, expected a fraction above 0 and at most 1 (0.25 or "25%%")`, kindName(v))
		}
		ft.Share = x
	}
	if ft.Share > 0 && len(ft.Events) > 0 {
		return ft, p.errf(n, "a fault has both events and share, expected one of them")
	}
	return ft, nil
}

func (p *parser) wait(n *yaml.Node) (*Wait, error) {
	if n.Kind == yaml.ScalarNode && n.Value == "settled" {
		return &Wait{Settled: true}, nil
	}
	d, err := p.duration(n, "wait", false)
	if err != nil {
		return nil, p.errf(n, `wait is %s, expected "settled" or a duration such as "1m"`, kindName(n))
	}
	return &Wait{Duration: d}, nil
}

func (p *parser) every(n *yaml.Node, s *Scenario) (*Every, error) {
	f, _, err := p.fields(n, "every")
	if err != nil {
		return nil, err
	}
	e := &Every{}
	if p.depth++; p.depth > maxDepth {
		return nil, p.errf(n, "every nested more than %d deep (an alias of its own steps?), expected less nesting", maxDepth)
	}
	defer func() { p.depth-- }()
	v := f["schedule"]
	if v == nil {
		return nil, p.errf(n, `every has no schedule, expected a cron line such as "*/10 * * * * *" or "@every 10s"`)
	}
	if e.Spec, err = p.str(v, "schedule"); err != nil {
		return nil, err
	}
	if e.Schedule, err = cronParser.Parse(e.Spec); err != nil {
		return nil, p.errf(v, `schedule %q: %v, expected a cron line such as "*/10 * * * * *" or "@every 10s"`, e.Spec, err)
	}
	if v := f["count"]; v != nil {
		if e.Count, err = p.integer(v, "count", 1, events.MaxCount); err != nil {
			return nil, err
		}
	}
	if v := f["for"]; v != nil {
		if e.For, err = p.duration(v, "for", false); err != nil {
			return nil, err
		}
	}
	v = f["steps"]
	if v == nil {
		return nil, p.errf(n, "every has no steps, expected the steps to repeat")
	}
	if e.Steps, err = p.steps(v, s); err != nil {
		return nil, err
	}
	return e, nil
}

var states = []string{bullseye.StateDelivered, bullseye.StateFailed, bullseye.StateCanceled, bullseye.StateScheduled, bullseye.StateRetrying}

func (p *parser) status(n *yaml.Node, what string) (Status, error) {
	v, err := p.scalar(n, what, `a status code (200), a class ("4xx") or "timeout"`)
	if err != nil {
		return Status{}, err
	}
	switch {
	case v == "timeout" || v == "error":
		return Status{}, nil
	case len(v) == 3 && v[0] >= '1' && v[0] <= '5' && strings.EqualFold(v[1:], "xx"):
		return Status{Class: int(v[0] - '0')}, nil
	}
	c, cerr := strconv.Atoi(v)
	if cerr != nil || c < 100 || c > 599 {
		return Status{}, p.errf(n, `%s is %s, expected a status code (200), a class ("4xx") or "timeout"`, what, kindName(n))
	}
	return Status{Code: c}, nil
}

func (p *parser) expect(n *yaml.Node) (*Expect, error) {
	f, order, err := p.fields(n, "expect")
	if err != nil {
		return nil, err
	}
	e := &Expect{}
	if v := f["deliveries"]; v != nil {
		items, err := p.list(v, "deliveries", "delivery numbers")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			d, err := p.integer(it, "a delivery number", 1, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			e.Deliveries = append(e.Deliveries, d)
		}
	}
	if v := f["state"]; v != nil {
		if e.State, err = p.scalar(v, "state", strings.Join(states, ", ")); err != nil {
			return nil, err
		}
		if !contains(states, e.State) {
			return nil, p.errf(v, "state is %s, expected one of %s", kindName(v), strings.Join(states, ", "))
		}
	}
	if v := f["states"]; v != nil {
		if v.Kind != yaml.MappingNode {
			return nil, p.errf(v, "states is %s, expected a mapping of state to count, e.g. {delivered: 3}", kindName(v))
		}
		e.States = map[string]int{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			if !contains(states, k.Value) {
				return nil, p.errf(k, "state %s, expected one of %s", kindName(k), strings.Join(states, ", "))
			}
			if _, dup := e.States[k.Value]; dup {
				return nil, p.errf(k, "state %q given twice in states", k.Value)
			}
			if e.States[k.Value], err = p.integer(deref(v.Content[i+1]), k.Value, 0, math.MaxInt32); err != nil {
				return nil, err
			}
		}
	}
	if v := f["attempts"]; v != nil {
		if e.Attempts, err = p.integer(v, "attempts", 1, bullseye.MaxAttempts); err != nil {
			return nil, err
		}
	}
	if v := f["offsets"]; v != nil {
		items, err := p.list(v, "offsets", "durations from the first attempt")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			d, err := p.duration(it, "an offset", true)
			if err != nil {
				return nil, err
			}
			e.Offsets = append(e.Offsets, d)
		}
	}
	if v := f["statuses"]; v != nil {
		items, err := p.list(v, "statuses", "status codes")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			s, err := p.status(it, "a status")
			if err != nil {
				return nil, err
			}
			e.Statuses = append(e.Statuses, s)
		}
	}
	if v := f["faults"]; v != nil {
		if v.Kind != yaml.MappingNode {
			return nil, p.errf(v, `faults is %s, expected a mapping of fault to status, e.g. {wrong_secret: "4xx"}`, kindName(v))
		}
		e.Faults = map[bullseye.Fault]Status{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			sf, perr := bullseye.ParseFault(k.Value)
			if perr != nil || sf == bullseye.FaultNone {
				return nil, p.errf(k, "fault %s, expected one of %s", kindName(k), strings.Join(faultNames(), ", "))
			}
			if _, dup := e.Faults[sf]; dup {
				return nil, p.errf(k, "fault %q given twice in faults", k.Value)
			}
			if e.Faults[sf], err = p.status(deref(v.Content[i+1]), k.Value); err != nil {
				return nil, err
			}
		}
	}
	if v := f["duplicates"]; v != nil {
		s, err := p.status(v, "duplicates")
		if err != nil {
			return nil, err
		}
		e.Duplicates = &s
	}
	checks := 0
	for _, k := range order {
		if k.Value != "deliveries" {
			checks++
		}
	}
	if checks == 0 {
		return nil, p.errf(n, "expect checks nothing, expected one of %s", strings.Join(objectKeys["expect"][1:], ", "))
	}
	return e, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
