package scenarios

import (
	"math"
	"strconv"
	"strings"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"gopkg.in/yaml.v3"
)

// states are the states an expectation can name: those a delivery can be
// in between steps (ready and in_flight pass while the clock stands still).
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

// numbers reads a list of delivery numbers (1-based).
func (p *parser) numbers(v *yaml.Node, what, of string) ([]int, error) {
	items, err := p.list(v, what, of)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(items))
	for _, it := range items {
		d, err := p.integer(it, "a delivery number", 1, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (p *parser) expect(n *yaml.Node) (*Expect, error) {
	f, order, err := p.fields(n, "expect")
	if err != nil {
		return nil, err
	}
	e := &Expect{}
	if v := f["deliveries"]; v != nil {
		if e.Deliveries, err = p.numbers(v, "deliveries", "delivery numbers"); err != nil {
			return nil, err
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
				return nil, p.errf(k, "fault %s, expected one of %s", kindName(k), strings.Join(bullseye.FaultNames(), ", "))
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
	if v := f["arrival"]; v != nil {
		if e.Arrival, err = p.numbers(v, "arrival", "delivery numbers in the order the receiver saw them"); err != nil {
			return nil, err
		}
		if len(e.Arrival) < 2 {
			return nil, p.errf(v, "arrival lists %d delivery, expected at least two to order", len(e.Arrival))
		}
	}
	if v := f["requests"]; v != nil {
		items, err := p.list(v, "requests", "expectations on Partner API requests, e.g. {method: PUT, path: ..., count: 1}")
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			var re ops.RequestExpectation
			if err := p.requestMatch(it, "requestExpectation", &re); err != nil {
				return nil, err
			}
			if err := ops.CheckRequestExpectation(re); err != nil {
				return nil, p.place(it, err)
			}
			e.Requests = append(e.Requests, re)
		}
	}
	if v := f["traffic"]; v != nil {
		var th ops.Thresholds
		if err := p.requestMatch(v, "traffic", &th); err != nil {
			return nil, err
		}
		core, err := th.Core()
		if err != nil {
			return nil, p.place(v, err)
		}
		if !core.Any() {
			return nil, p.errf(v, "traffic sets no threshold, expected some of %s", strings.Join(objectKeys["traffic"], ", "))
		}
		e.Traffic = &core
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
