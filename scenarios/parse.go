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
	"github.com/bullseye-mock/bullseye-mock/ops"
)

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
		key := k.Value
		if alias, ok := deprecatedKeys[object][key]; ok {
			key = alias
		}
		if !contains(known, key) {
			msg := fmt.Sprintf("unknown key %q in %s", k.Value, object)
			if s := ops.Nearest(k.Value, known); s != "" {
				msg += fmt.Sprintf(", did you mean %q?", s)
			} else {
				msg += ", expected one of " + strings.Join(known, ", ")
			}
			return nil, nil, p.errf(k, "%s", msg)
		}
		if _, dup := out[key]; dup {
			return nil, nil, p.errf(k, "key %q given twice in %s", key, object)
		}
		out[key] = deref(v)
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
	if d > ops.MaxAhead {
		return 0, p.errf(n, "%s must be at most %s (100 years of mock time), got %s", what, ops.MaxAhead, d)
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
		if k := pf["apiKey"]; k != nil {
			if s.APIKey, err = p.str(k, "apiKey"); err != nil {
				return nil, err
			}
			if strings.TrimSpace(s.APIKey) == "" {
				return nil, p.errf(k, "apiKey is empty, expected a key")
			}
		}
		if k := pf["keys"]; k != nil {
			s.KeysPos = Pos{k.Line, k.Column}
			if s.Keys, err = p.keys(k); err != nil {
				return nil, err
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
	if v := f["receiver"]; v != nil {
		if _, _, err := p.fields(v, "receiver"); err != nil {
			return nil, err
		}
		var x any
		if err := v.Decode(&x); err != nil {
			return nil, p.errf(v, "%v", err)
		}
		if s.Receiver, err = json.Marshal(x); err != nil {
			return nil, p.errf(v, "receiver cannot be read as JSON: %v", err)
		}
		s.ReceiverPos = Pos{v.Line, v.Column}
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

func (p *parser) dialect(n *yaml.Node) (bullseye.Dialect, error) {
	v, err := p.scalar(n, "dialect", "partner or integration")
	if err != nil {
		return "", err
	}
	if !contains(bullseye.Dialects(), v) {
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
	if v := f["externalId"]; v != nil {
		if o.ExternalID, err = p.str(v, "externalId"); err != nil {
			return o, err
		}
	}
	if v := f["status"]; v != nil {
		if o.Status, err = p.scalar(v, "status", "active, canceled or suspended"); err != nil {
			return o, err
		}
		if !contains(bullseye.OrgStatuses(), o.Status) {
			return o, p.errf(v, "status is %s, expected active, canceled or suspended", kindName(v))
		}
	}
	if v := f["tier"]; v != nil {
		if o.Tier, err = p.scalar(v, "tier", "trial or paid"); err != nil {
			return o, err
		}
		if !contains(bullseye.Tiers(), o.Tier) {
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

func (p *parser) retry(n *yaml.Node) (*ops.Policy, error) {
	if _, _, err := p.fields(n, "retry"); err != nil {
		return nil, err
	}
	pol := &ops.Policy{}
	if err := p.decode(n, pol); err != nil {
		return nil, err
	}
	if _, err := pol.Resolve(); err != nil {
		return nil, p.place(n, err)
	}
	return pol, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
