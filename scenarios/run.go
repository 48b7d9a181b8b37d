package scenarios

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// StartTime is the mock time a manual-clock run starts at: fixed, so that a
// seed gives the same payloads every run.
func StartTime() time.Time { return fixtures.ExampleTime() }

// Options change how a scenario runs.
type Options struct {
	// URL and Secret, when set, replace both webhooks' url and secret, so one
	// file serves many environments.
	URL    string
	Secret string
	// APIKey is the partner a file without partner.apiKey acts as.
	APIKey string
	// Grace is how long the sender may make no progress with an attempt in
	// flight before the clock moves to its timeout (ops.DefaultGrace when
	// 0), for a run on a mock of its own (mock.RunScenario); a shared mock
	// has its own setting.
	Grace time.Duration
	// Unbounded lets every steps without count or for run until ctx ends
	// (serve); a run that must end rejects them.
	Unbounded bool
	// LeaveClock never moves a manual clock: someone else owns it (serve,
	// where the control API moves it), so waits wait for them.
	LeaveClock bool
	Logger     *slog.Logger
}

// Report is what a run found.
type Report struct {
	Name       string    `json:"name"`
	File       string    `json:"file"`
	Passed     bool      `json:"passed"`
	Error      string    `json:"error,omitempty"` // the run could not finish
	Deliveries int       `json:"deliveries"`
	MockTime   string    `json:"mockTime"` // mock time the run took
	Expects    []Outcome `json:"expectations"`
	// Traffic is the run's load report as its last traffic expectation
	// judged it.
	Traffic *traffic.Summary `json:"traffic,omitempty"`
}

// Outcome is the result of one expect step; one inside every gives an
// outcome per tick.
type Outcome struct {
	Line    int    `json:"line"`
	Col     int    `json:"column"`
	Held    bool   `json:"held"`
	Message string `json:"message,omitempty"` // what differed
	// Note is what held but is worth knowing: an uppercase signature the
	// receiver accepted (bullseye.Fault.MayBeAccepted).
	Note string `json:"note,omitempty"`
}

// CheckBounded reports an every step that would never end, unless opts
// allow it: run it before starting anything a run needs.
func CheckBounded(s *Scenario, opts Options) error { return checkBounded(s.File, s.Steps, opts) }

// checkBounded's error is an *Error at the every step, like a parse error:
// the file cannot run as asked.
func checkBounded(file string, steps []Step, opts Options) error {
	for _, st := range steps {
		if e := st.Every; e != nil {
			if e.Count == 0 && e.For == 0 && !opts.Unbounded {
				return &Error{File: file, Line: st.Line, Col: st.Col, Msg: fmt.Sprintf("every %q has neither count nor for, so it never ends; bound it, or run it with serve --scenario", e.Spec)}
			}
			if err := checkBounded(file, e.Steps, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckBudget reports a step that could never run under the budget for
// pending work, as an *Error at its line: a send, or one tick of an every
// step (its sends happen at one instant), that alone creates more pending
// deliveries, or more payload bytes, than the mock holds. What builds up
// over many ticks is bounded when it runs: a send past the budget then is
// refused, and the run ends saying so.
func CheckBudget(s *Scenario, b ops.Budget) error {
	_, _, err := budgetOf(s.File, s.Steps, b.WithDefaults())
	return err
}

// budgetOf is what steps create at one instant (the sends between two
// waits, or of one tick), checking each send and each such run against b.
func budgetOf(file string, steps []Step, b ops.Budget) (n, bytes int64, err error) {
	for _, st := range steps {
		var sn, sb int64
		switch {
		case st.Send != nil:
			sn, sb = ops.CountDeliveries(*st.Send), ops.EstimateBytes(*st.Send)
		case st.Every != nil:
			if _, _, err := budgetOf(file, st.Every.Steps, b); err != nil {
				return 0, 0, err
			}
			continue // its ticks come one at a time
		case st.Wait != nil:
			n, bytes = 0, 0 // time passes: what came before is no longer at this instant
			continue
		}
		if sn > int64(b.Deliveries) || sb > b.Bytes {
			what := fmt.Sprintf("%d pending deliveries, more than the %d the mock holds (--max-pending)", sn, b.Deliveries)
			if sn <= int64(b.Deliveries) {
				what = fmt.Sprintf("about %d bytes of pending payloads, more than the %d the mock holds (--max-pending-bytes)", sb, b.Bytes)
			}
			return 0, 0, &Error{File: file, Line: st.Line, Col: st.Col, Msg: "this step creates " + what + " at once; lower its count or its overrides, or raise the budget"}
		}
		n, bytes = n+sn, bytes+sb
	}
	if n > int64(b.Deliveries) || bytes > b.Bytes {
		return 0, 0, &Error{File: file, Line: steps[0].Line, Col: steps[0].Col, Msg: fmt.Sprintf(
			"these steps create %d pending deliveries (about %d bytes) at one instant, more than the mock holds (--max-pending %d, --max-pending-bytes %d)", n, bytes, b.Deliveries, b.Bytes)}
	}
	return n, bytes, nil
}

// CheckHeadless reports the first step that tests the app's Partner API
// requests (an apiFault, a revokeKey, a wait for requests or an
// expectation on them), as an *Error at its line: a mock without a
// listener (the run command's) has no Partner API for an app to call.
func CheckHeadless(s *Scenario) error {
	if len(s.Keys) > 0 {
		return &Error{File: s.File, Line: s.KeysPos.Line, Col: s.KeysPos.Col, Msg: headlessMsg("partner.keys")}
	}
	return checkHeadless(s.File, s.Steps)
}

func checkHeadless(file string, steps []Step) error {
	for _, st := range steps {
		what := ""
		switch {
		case st.APIFault != nil:
			what = "apiFault"
		case st.RevokeKey != "":
			what = "revokeKey"
		case st.Wait != nil && st.Wait.Requests != nil:
			what = "wait for requests"
		case st.Expect != nil && len(st.Expect.Requests) > 0:
			what = "expect requests"
		case st.Every != nil:
			if err := checkHeadless(file, st.Every.Steps); err != nil {
				return err
			}
		}
		if what != "" {
			return &Error{File: file, Line: st.Line, Col: st.Col, Msg: headlessMsg(what)}
		}
	}
	return nil
}

func headlessMsg(what string) string {
	return what + " tests the app's Partner API requests, and this run serves no Partner API: run the file with serve --scenario, or upload it to POST /_mock/scenarios/runs"
}

// Run runs s through the operations o, as the partner of the scenario's
// apiKey (or opts.APIKey), on o's clock: the runner is a thin adapter, and
// every step is an operation any other surface has too. The error is for
// problems that stop a run (an unbounded every without opts.Unbounded, a
// setup the mock refuses, a cancelled context), with the report so far when
// the run had started; failed expectations are in the report.
func Run(ctx context.Context, o *ops.Ops, s *Scenario, opts Options) (*Report, error) {
	if err := CheckBounded(s, opts); err != nil {
		return nil, err
	}
	if err := CheckBudget(s, o.PendingBudget()); err != nil {
		return nil, err
	}
	r := &runner{o: o, s: s, opts: opts, move: !opts.LeaveClock, rep: &Report{Name: s.Name, File: s.File}, orgs: map[string]string{}}
	r.log = opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("scenario", s.Name)
	start := o.Clock().Now()
	var stopTraffic func()
	r.traffic, stopTraffic = o.TrafficWindow()
	defer stopTraffic()
	serr := r.setup()
	err := serr
	if err == nil {
		err = r.steps(ctx, s.Steps)
	}
	r.rep.Deliveries = len(r.ids)
	r.rep.MockTime = o.Clock().Now().Sub(start).String()
	r.rep.Passed = err == nil
	for _, out := range r.rep.Expects {
		r.rep.Passed = r.rep.Passed && out.Held
	}
	if err != nil {
		r.rep.Error = err.Error()
		if serr != nil || ctx.Err() != nil {
			return r.rep, err
		}
	}
	r.log.Info("scenario finished", "passed", r.rep.Passed, "deliveries", len(r.ids), "mock_time", r.rep.MockTime)
	return r.rep, nil
}

type runner struct {
	o       *ops.Ops
	s       *Scenario
	opts    Options
	move    bool // the run moves a manual clock
	log     *slog.Logger
	partner string
	orgs    map[string]string // name and external id -> organization id
	ids     []string          // deliveries in the order sent
	open    []string          // those of ids not yet seen final
	rep     *Report
	traffic *traffic.Recorder // the run's own attempts
}

func (r *runner) setup() error {
	key := r.s.APIKey
	if key == "" {
		key = r.opts.APIKey
	}
	if key == "" {
		return errors.New("no partner: the file names no partner.apiKey and the environment has no default key")
	}
	var err error
	if r.partner, err = r.o.AddPartner(key); err != nil { // the existing partner when the key is known
		return err
	}
	for _, k := range r.s.Keys {
		k.PartnerID = r.partner
		if _, err := r.o.AddKey(k); err != nil {
			return fmt.Errorf("key %s: %w", bullseye.MaskKey(k.APIKey), err)
		}
	}
	for _, spec := range r.s.Organizations {
		org, err := r.o.AddOrganization(r.partner, ops.Organization{Name: spec.Name, ExternalID: spec.ExternalID, Status: spec.Status, Tier: spec.Tier, Credits: spec.Credits})
		if err != nil {
			return fmt.Errorf("organization %q: %w", spec.Name, err)
		}
		r.orgs[spec.Name] = org.ID
		r.orgs[org.ExternalID] = org.ID
	}
	for _, kind := range bullseye.Kinds() {
		w, ok := r.s.Webhooks[kind]
		if !ok {
			w = Webhook{Kind: kind}
		}
		if r.opts.URL != "" {
			w.URL = &r.opts.URL
		}
		if r.opts.Secret != "" {
			w.Secret = &r.opts.Secret
		}
		if (ok || r.opts.URL != "") && w.Enabled == nil {
			on := true // a configured webhook is meant to receive
			w.Enabled = &on
		}
		if err := r.webhook(w); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) webhook(w Webhook) error {
	return r.o.SetWebhook(r.partner, w.Kind, ops.Webhook{URL: w.URL, Secret: w.Secret, Enabled: w.Enabled, Dialect: w.Dialect})
}

func (r *runner) steps(ctx context.Context, steps []Step) error {
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.step(ctx, st); err != nil {
			return fmt.Errorf("%s:%d:%d: %w", r.s.File, st.Line, st.Col, err)
		}
	}
	return nil
}

func (r *runner) step(ctx context.Context, st Step) error {
	switch {
	case st.Send != nil:
		return r.send(*st.Send)
	case st.Webhook != nil:
		r.log.Info("webhook change", "line", st.Line, "kind", st.Webhook.Kind)
		return r.webhook(*st.Webhook)
	case st.Wait != nil && st.Wait.Requests != nil:
		r.waitRequests(ctx, st)
	case st.Wait != nil:
		if st.Wait.Settled {
			return r.settle(ctx)
		}
		return r.o.Until(ctx, r.o.Clock().Now().Add(st.Wait.Duration), r.move)
	case st.Every != nil:
		return r.every(ctx, st.Every)
	case st.APIFault != nil:
		f, err := r.o.AddAPIFault(*st.APIFault)
		if err == nil {
			r.log.Info("Partner API fault", "line", st.Line, "id", f.ID, "path", f.Path.String())
		}
		return err
	case st.RevokeKey != "":
		r.log.Info("API key revoked", "line", st.Line, "key", bullseye.MaskKey(st.RevokeKey))
		_, err := r.o.RevokeKey(st.RevokeKey)
		return err
	case st.Expect != nil:
		// The expectation reads the run's deliveries only: what happens
		// to others' does not hold it up.
		if err := r.instant(ctx); err != nil {
			return err
		}
		r.outcome(st, r.expect(st.Expect))
	}
	return nil
}

func (r *runner) outcome(st Step, out Outcome) {
	out.Line, out.Col = st.Line, st.Col
	r.rep.Expects = append(r.rep.Expects, out)
	if out.Held {
		r.log.Info("expectation held", "line", st.Line)
	} else {
		r.log.Warn("expectation failed", "line", st.Line, "differs", out.Message)
	}
}

// waitRequests waits, in real time, for the app under test to make the
// Partner API requests; a wait that times out is a failed expectation (the
// run goes on), saying what the journal holds instead.
func (r *runner) waitRequests(ctx context.Context, st Step) {
	w := st.Wait
	wctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	res, err := r.o.WaitRequests(wctx, *w.Requests, w.Count, 1)
	if err != nil {
		r.outcome(st, Outcome{Message: err.Error()})
		return
	}
	if res.Satisfied {
		r.log.Info("requests arrived", "line", st.Line, "count", res.Count)
		return
	}
	v, err := r.o.ExpectRequests(ops.RequestExpectation{RequestMatch: *w.Requests, AtLeast: &w.Count})
	msg := fmt.Sprintf("waited %s for ", w.Timeout)
	if err != nil {
		msg += err.Error()
	} else {
		msg += v.Report
	}
	r.outcome(st, Outcome{Message: msg})
}

// settle waits until the run's deliveries are final, and the replays they
// made once delivered too (numbered after the deliveries sent so far).
func (r *runner) settle(ctx context.Context) error {
	for {
		if err := r.o.Settle(ctx, r.open, r.move); err != nil {
			return err
		}
		r.open = nil
		known := make(map[string]bool, len(r.ids))
		for _, id := range r.ids {
			known[id] = true
		}
		for _, id := range r.o.CopiesOf(known) {
			if !known[id] {
				r.ids, r.open = append(r.ids, id), append(r.open, id)
			}
		}
		if len(r.open) == 0 {
			return nil
		}
	}
}

// instant lets the current mock instant finish what it does for the run's
// own deliveries, and drops the final ones from those still open.
func (r *runner) instant(ctx context.Context) error {
	if !r.move {
		return nil
	}
	pending, err := r.o.Instant(ctx, r.open)
	if err != nil {
		return err
	}
	r.open = r.open[:0]
	for _, p := range pending {
		r.open = append(r.open, p.ID)
	}
	return nil
}

func (r *runner) send(s ops.Send) error {
	if s.APIKey == "" && s.PartnerID == "" {
		s.PartnerID = r.partner
	}
	// A name of the file's organizations stands for its id, under either
	// spelling of the key.
	for _, ref := range []*string{&s.Organization, &s.OrganizationID} {
		if id, ok := r.orgs[*ref]; ok && *ref != "" {
			*ref = id
		}
	}
	if s.Policy == nil {
		s.Policy = r.s.Retry
	}
	out, err := r.o.Emit(s)
	r.ids = append(r.ids, out.DeliveryIDs...)
	r.open = append(r.open, out.DeliveryIDs...)
	r.log.Info("sent", "type", s.Type, "deliveries", len(out.DeliveryIDs))
	return err
}

func (r *runner) every(ctx context.Context, e *Every) error {
	start := r.o.Clock().Now()
	t := start
	for n := 0; e.Count == 0 || n < e.Count; n++ {
		t = e.Schedule.Next(t)
		if e.For > 0 && t.After(start.Add(e.For)) {
			break
		}
		if err := r.o.Until(ctx, t, r.move); err != nil {
			return err
		}
		r.log.Info("cron tick", "schedule", e.Spec, "tick", n+1)
		if err := r.steps(ctx, e.Steps); err != nil {
			return err
		}
	}
	return nil
}
