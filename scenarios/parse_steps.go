package scenarios

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"gopkg.in/yaml.v3"
)

func (p *parser) steps(n *yaml.Node, s *Scenario) ([]Step, error) {
	items, err := p.list(n, "steps", "steps ("+strings.Join(objectKeys["step"], ", ")+")")
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
		return st, p.errf(n, "a step has %d actions, expected exactly one of %s", len(order), strings.Join(objectKeys["step"], ", "))
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
	case "apiFault":
		st.APIFault, err = p.apiFault(v)
	case "revokeKey":
		if st.RevokeKey, err = p.str(v, "revokeKey"); err == nil && strings.TrimSpace(st.RevokeKey) == "" {
			err = p.errf(v, "revokeKey is empty, expected the API key to revoke")
		}
	}
	return st, err
}

// apiFault reads a fault on the Partner API: the body of POST /_mock/faults.
func (p *parser) apiFault(n *yaml.Node) (*ops.APIFault, error) {
	if _, _, err := p.fields(n, "apiFault"); err != nil {
		return nil, err
	}
	f := &ops.APIFault{}
	if err := p.decode(n, f); err != nil {
		return nil, err
	}
	if _, err := ops.CheckAPIFault(*f); err != nil {
		return nil, p.place(n, err)
	}
	return f, nil
}

// keys reads partner.keys: the bodies of POST /_mock/keys, without
// partnerId (they are the scenario's partner's).
func (p *parser) keys(n *yaml.Node) ([]ops.Key, error) {
	items, err := p.list(n, "keys", "API keys ({apiKey, scopes})")
	if err != nil {
		return nil, err
	}
	var out []ops.Key
	for _, it := range items {
		f, _, err := p.fields(it, "key")
		if err != nil {
			return nil, err
		}
		if f["apiKey"] == nil {
			return nil, p.errf(it, "a key needs apiKey, the key the app will send")
		}
		var k ops.Key
		if err := p.decode(it, &k); err != nil {
			return nil, err
		}
		if strings.TrimSpace(k.APIKey) == "" {
			return nil, p.errf(f["apiKey"], "apiKey is empty, expected a key")
		}
		if err := ops.CheckKey(k); err != nil {
			return nil, p.place(it, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// requestMatch reads a match on the journal (the filters of GET
// /_mock/requests) into v, an ops.RequestMatch or RequestExpectation.
func (p *parser) requestMatch(n *yaml.Node, object string, v any) error {
	if _, _, err := p.fields(n, object); err != nil {
		return err
	}
	return p.decode(n, v)
}

func (p *parser) send(n *yaml.Node) (*ops.Send, error) {
	f, _, err := p.fields(n, "send")
	if err != nil {
		return nil, err
	}
	if v := f["faults"]; v != nil {
		items, err := p.list(v, "faults", "faults")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if _, _, err := p.fields(it, "fault"); err != nil {
				return nil, err
			}
		}
	}
	if v := f["policy"]; v != nil {
		if _, _, err := p.fields(v, "policy"); err != nil {
			return nil, err
		}
	}
	s := &ops.Send{}
	if err := p.decode(n, s); err != nil {
		return nil, err
	}
	// Everything that does not need a running mock is checked now, with the
	// messages every surface gives.
	if err := ops.CheckSend(*s); err != nil {
		return nil, p.place(n, err)
	}
	return s, nil
}

// decode reads n into v through ops.Decode, the decoder of the control API's
// JSON bodies, so a scenario step and a request body are read by one
// grammar; a FieldError is placed at the node it names.
func (p *parser) decode(n *yaml.Node, v any) error {
	var x any
	if err := n.Decode(&x); err != nil {
		return p.errf(n, "%v", err)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return p.errf(n, "cannot be read as JSON: %v, expected string keys and plain values", err)
	}
	if err := ops.Decode(b, v); err != nil {
		return p.place(n, err)
	}
	return nil
}

// place turns an ops.FieldError into an Error at the node its field names
// under n (the innermost one that exists).
func (p *parser) place(n *yaml.Node, err error) error {
	var fe *ops.FieldError
	if !errors.As(err, &fe) {
		return p.errf(n, "%v", err)
	}
	return p.errf(nodeAt(n, fe.Field), "%s", fe.Msg)
}

var pathTokenRE = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// nodeAt follows a field path ("faults[0].signature") from n.
func nodeAt(n *yaml.Node, path string) *yaml.Node {
	for _, tok := range pathTokenRE.FindAllString(path, -1) {
		var next *yaml.Node
		if strings.HasPrefix(tok, "[") {
			i, _ := strconv.Atoi(strings.Trim(tok, "[]"))
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = deref(n.Content[i])
			}
		} else if n.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == tok {
					next = deref(n.Content[j+1])
				}
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func (p *parser) wait(n *yaml.Node) (*Wait, error) {
	if n.Kind == yaml.ScalarNode && n.Value == "settled" {
		return &Wait{Settled: true}, nil
	}
	if n.Kind == yaml.MappingNode {
		return p.waitRequests(n)
	}
	d, err := p.duration(n, "wait", false)
	if err != nil {
		return nil, p.errf(n, `wait is %s, expected "settled", a duration such as "1m" or {requests: ...}`, kindName(n))
	}
	return &Wait{Duration: d}, nil
}

// waitRequests reads wait: {requests: MATCH, count: N, timeout: D}.
func (p *parser) waitRequests(n *yaml.Node) (*Wait, error) {
	f, _, err := p.fields(n, "waitRequests")
	if err != nil {
		return nil, err
	}
	w := &Wait{Requests: &ops.RequestMatch{}, Count: 1, Timeout: ops.DefaultWaitTimeout}
	v := f["requests"]
	if v == nil {
		return nil, p.errf(n, "wait has no requests, expected the Partner API requests to wait for, e.g. {method: PUT, path: /api/v1/partner/webhooks/*}")
	}
	if err := p.requestMatch(v, "requestMatch", w.Requests); err != nil {
		return nil, err
	}
	if err := ops.CheckRequestExpectation(ops.RequestExpectation{RequestMatch: *w.Requests}); err != nil {
		return nil, p.place(v, err)
	}
	if c := f["count"]; c != nil {
		if w.Count, err = p.integer(c, "count", 1, ops.MaxRequestCount); err != nil {
			return nil, err
		}
	}
	if t := f["timeout"]; t != nil {
		raw, err := p.str(t, "timeout")
		if err != nil {
			return nil, err
		}
		if w.Timeout, err = ops.ParseWaitTimeout(raw); err != nil {
			return nil, p.place(t, err)
		}
	}
	return w, nil
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
		if e.Count, err = p.integer(v, "count", 1, ops.MaxCount); err != nil {
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
