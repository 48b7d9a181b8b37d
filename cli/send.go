package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

type sendCmd struct {
	Type        string   `arg:"" default:"visitor.identified" help:"Event type: ${event_types}."`
	URL         string   `name:"url" required:"" env:"BULLSEYE_MOCK_URL" help:"Receiver URL."`
	Secret      string   `env:"BULLSEYE_MOCK_SECRET" help:"Webhook secret; without one, requests carry no signature (as the vendor does)."`
	Count       int      `default:"1" help:"Events to send."`
	Rate        string   `help:"Events per unit of mock time (10/s, 30/m, 2/h); all at once when omitted."`
	Fault       []string `sep:"," placeholder:"FAULT" help:"Fault on the events: a signature fault (${faults}), duplicate or duplicate:concurrent (a copy at the same instant) or duplicate:10s (a copy later), or replay:1h (a copy 1h after delivery). Repeatable."`
	FaultShare  float64  `name:"fault-share" default:"1" help:"Share of the events that get each fault, spread evenly (0.25: every fourth)."`
	Order       string   `enum:"creation,reversed,shuffled" default:"creation" help:"Order of the events' first attempts: creation, reversed or shuffled (seeded); payloads keep their creation times."`
	SameVisitor bool     `name:"same-visitor" help:"The events describe one visitor and company in successive sessions."`
	Jitter      string   `help:"Delay each event's first attempt by a seeded time up to this duration (mock time)."`
	Burst       int      `help:"With --rate: send the events in groups of this many at once, spaced so that the rate holds."`
	Dialect     string   `default:"partner" enum:"partner,integration" env:"BULLSEYE_MOCK_DIALECT" help:"partner (full, event_type) or integration (short, event)."`
	Seed        int64    `default:"1" env:"BULLSEYE_MOCK_SEED" help:"Seed of the fake values."`
	StartTime   string   `name:"start-time" env:"BULLSEYE_MOCK_START_TIME" placeholder:"RFC3339" help:"The instant mock time starts at (RFC 3339); default now."`
	TimeScale   float64  `name:"time-scale" default:"1" env:"BULLSEYE_MOCK_TIME_SCALE" help:"Run mock time N times faster: retry delays, the timeout and the rate."`
	retryFlags
	loadFlags
	Progress string `default:"auto" enum:"auto,always,never" help:"Progress bar on stderr: auto shows it on a terminal only."`
}

// send is the request the flags make: the same ops.Send the control API
// and scenario files take, with the faults' compact spelling parsed by ops.
func (c *sendCmd) send() (ops.Send, error) {
	s := ops.Send{Type: c.Type, Count: ops.N(c.Count), Rate: c.Rate, Dialect: c.Dialect, Order: c.Order, SameVisitor: c.SameVisitor}
	if c.Jitter != "" {
		j := ops.Duration(c.Jitter)
		s.Jitter = &j
	}
	if c.Burst != 0 {
		s.Burst = ops.N(c.Burst)
	}
	if err := ops.CheckShare(c.FaultShare); err != nil {
		return s, &ops.FieldError{Field: "faults[0].share", Msg: err.Error()}
	}
	for i, spec := range c.Fault {
		f, err := ops.ParseFaultFlag(spec)
		if err != nil {
			return s, &ops.FieldError{Field: fmt.Sprintf("faults[%d]", i), Msg: err.Error()}
		}
		if c.FaultShare < 1 {
			f.Share = ops.Share(c.FaultShare)
		}
		s.Faults = append(s.Faults, f)
	}
	return s, ops.CheckSend(s)
}

// flagOf names the flag a field of ops.Send comes from, so the CLI says
// "--count: ..." where the control API says details.field "count".
func flagOf(field string) string {
	switch {
	case field == "type":
		return "TYPE"
	case strings.HasPrefix(field, "faults") && strings.HasSuffix(field, "share"):
		return "--fault-share"
	case strings.HasPrefix(field, "faults"):
		return "--fault"
	case field == "policy.delays" || strings.HasPrefix(field, "policy.delays["):
		return "--retry-delays"
	case field == "policy.attempts":
		return "--max-attempts"
	case field == "policy.timeout":
		return "--timeout"
	case field == "sameVisitor":
		return "--same-visitor"
	case thresholdFlags[field] != "":
		return thresholdFlags[field]
	case field == "":
		return ""
	}
	return "--" + field
}

// flagError renders an ops.FieldError under its flag's name.
func flagError(err error) error {
	var fe *ops.FieldError
	if errors.As(err, &fe) {
		if f := flagOf(fe.Field); f != "" {
			return usagef("%s: %s", f, fe.Msg)
		}
	}
	return usageError{err}
}

// Run sends through an in-process sender, the same code the server uses,
// with no listener, waits until every delivery settled, and reports the
// traffic as a load tool does. Exit 0 when the thresholds held (without
// thresholds: when every delivery was delivered), 1 otherwise.
func (c *sendCmd) Run(e *env) error {
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return usagef("--url %q: expected an http:// or https:// URL", c.URL)
	}
	req, err := c.send()
	if err != nil {
		return flagError(err)
	}
	th, err := c.thresholds()
	if err != nil {
		return flagError(err)
	}
	policy, err := c.policy()
	if err != nil {
		return flagError(err)
	}
	startAt, err := parseStartTime(c.StartTime)
	if err != nil {
		return err
	}
	kind, _ := bullseye.KindOf(c.Type)
	cfg := mock.Config{Seed: c.Seed, TimeScale: c.TimeScale, StartTime: startAt, Policy: policy, Dialect: bullseye.Dialect(c.Dialect), Logger: e.logger, Headless: true}
	checked := cfg
	checked.Defaults()
	checked.TimeScale = c.TimeScale // the flag's value: a zero is refused, not defaulted
	if err := checked.Validate(); err != nil {
		return usagef("%s", configMessage(err))
	}
	m, err := mock.New(cfg)
	if err != nil {
		return usagef("%s", configMessage(err))
	}
	if err := m.Start(); err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	}()
	o := m.Ops()
	on := true
	hook := ops.Webhook{URL: &c.URL, Enabled: &on}
	if c.Secret != "" {
		hook.Secret = &c.Secret
	}
	if err := o.SetWebhook(m.Partners()[0].ID, kind, hook); err != nil {
		return err
	}
	start := time.Now()
	stop := c.progress(e, o)
	ids, err := stream(e.ctx, o, req)
	for open := ids; err == nil && len(open) > 0; {
		// Replays are made once a delivery is delivered: settle them too.
		if err = o.Settle(e.ctx, open, false); err != nil {
			break
		}
		known := make(map[string]bool, len(ids))
		for _, id := range ids {
			known[id] = true
		}
		open = nil
		for _, id := range o.CopiesOf(known) {
			if !known[id] {
				ids, open = append(ids, id), append(open, id)
			}
		}
	}
	stop()
	var fe *ops.FieldError
	switch {
	case errors.As(err, &fe):
		return flagError(err)
	case err != nil:
		return exitError{code: ExitFailed, msg: "interrupted before every delivery settled"}
	}
	// The sender's own totals: this mock sent nothing else, and the details
	// of deliveries past --delivery-cap are gone by now.
	st := o.Stats()
	summary := fmt.Sprintf("sent %d %s deliveries to %s: %d delivered, %d failed, %d canceled; %d attempts in %s",
		len(ids), c.Type, c.URL, st.Delivered, st.Failed, st.Canceled, st.Attempts, time.Since(start).Round(time.Millisecond))
	pass, err := c.report(e, o, th, summary, st.Delivered == st.Sent)
	if err != nil {
		return err
	}
	if !pass {
		return exitError{code: ExitFailed}
	}
	return nil
}

// streamChunk is how many events of a long send are created at a time.
const streamChunk = 1000

// stream emits req a chunk at a time, so that a long send holds a chunk or
// two of payloads rather than all of them. At a rate, each chunk is created
// shortly before the first of its events is due. Without one, a chunk is
// created once the one two before it has settled: the sender always has a
// chunk queued, and each event is due when it is made. (A fault's share is
// spread evenly within each chunk.)
func stream(ctx context.Context, o *ops.Ops, req ops.Send) ([]string, error) {
	count := *req.Count
	// An order, a burst or one visitor span the whole send: those are made
	// in one piece.
	whole := (req.Order != "" && req.Order != ops.OrderCreation) || req.Burst != nil || req.SameVisitor
	if count <= streamChunk || whole {
		out, err := o.Emit(req)
		return out.DeliveryIDs, err
	}
	var interval time.Duration
	if req.Rate != "" {
		var err error
		if interval, err = ops.ParseRate(req.Rate); err != nil {
			return nil, err
		}
	}
	start := o.Clock().Now()
	ids := make([]string, 0, count)
	var queued [][]string // the unrated chunks not yet seen settled
	for off := 0; off < count; off += streamChunk {
		part := req
		part.Count = ops.N(min(streamChunk, count-off))
		if interval > 0 {
			at := start.Add(time.Duration(off) * interval)
			// Created a chunk's span ahead, so the schedule never waits on it.
			if err := o.Until(ctx, at.Add(-streamChunk*interval), false); err != nil {
				return ids, err
			}
			part.At = &at
		} else if len(queued) == 2 {
			if err := o.Settle(ctx, queued[0], false); err != nil {
				return ids, err
			}
			queued = queued[1:]
		}
		out, err := o.Emit(part)
		ids = append(ids, out.DeliveryIDs...)
		if err != nil {
			return ids, err
		}
		if interval == 0 {
			queued = append(queued, out.DeliveryIDs)
		}
	}
	return ids, nil
}
