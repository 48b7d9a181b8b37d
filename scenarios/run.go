package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// DefaultGrace is how long, in real time, an attempt may stay in flight under
// the manual clock before the runner treats its receiver as hanging and
// moves the clock to the attempt's timeout. Mock time cannot pass while a
// receiver is still working, so without this a hanging receiver would stop
// the run for ever.
const DefaultGrace = 5 * time.Second

// StartTime is the mock time a manual-clock run starts at: fixed, so that a
// seed gives the same payloads every run.
func StartTime() time.Time { return fixtures.ExampleTime() }

// Options change how a scenario runs.
type Options struct {
	// URL and Secret, when set, replace both webhooks' url and secret, so one
	// file serves many environments.
	URL    string
	Secret string
	// Grace: see DefaultGrace. 0 means DefaultGrace.
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
}

// Outcome is the result of one expect step; one inside every gives an
// outcome per tick.
type Outcome struct {
	Line    int    `json:"line"`
	Col     int    `json:"column"`
	Held    bool   `json:"held"`
	Message string `json:"message,omitempty"` // what differed
}

// checkBounded rejects every steps that would never end, unless allowed.
func checkBounded(steps []Step, opts Options) error {
	for _, st := range steps {
		if e := st.Every; e != nil {
			if e.Count == 0 && e.For == 0 && !opts.Unbounded {
				return fmt.Errorf("line %d: every %q has neither count nor for, so it never ends; bound it, or run it with serve --scenario", st.Line, e.Spec)
			}
			if err := checkBounded(e.Steps, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// Env is what a run acts on: the parts of a running mock (mock.Mock has
// them all; package standalone makes one). The runner takes the parts, not
// the mock, so that the mock's own server can run scenarios without an
// import cycle.
type Env struct {
	Store    *store.Store
	Sender   *sender.Sender
	Events   *events.Emitter
	Fixtures *fixtures.Generator
	Clock    clock.Clock
	// APIKey is the partner a file without partner.api_key acts as.
	APIKey string
}

// CheckBounded reports an every step that would never end, unless opts
// allow it: run it before starting anything a run needs.
func CheckBounded(s *Scenario, opts Options) error { return checkBounded(s.Steps, opts) }

// RunOn runs s in env, as the partner of the scenario's api_key (or
// env.APIKey), on env's clock. The error is for problems that stop a run
// (an unbounded every without opts.Unbounded, a setup the store refuses, a
// cancelled context), with the report so far when the run had started;
// failed expectations are in the report.
func RunOn(ctx context.Context, env Env, s *Scenario, opts Options) (*Report, error) {
	if err := checkBounded(s.Steps, opts); err != nil {
		return nil, err
	}
	r := &runner{m: env, s: s, opts: opts, clk: env.Clock, rep: &Report{Name: s.Name, File: s.File}, orgs: map[string]string{}}
	if !opts.LeaveClock {
		r.man, _ = r.clk.(*clock.Manual)
	}
	if r.opts.Grace <= 0 {
		r.opts.Grace = DefaultGrace
	}
	r.log = opts.Logger
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r.log = r.log.With("scenario", s.Name)
	start := r.clk.Now()
	serr := r.setup()
	err := serr
	if err == nil {
		err = r.steps(ctx, s.Steps)
	}
	r.rep.Deliveries = len(r.ids)
	r.rep.MockTime = r.clk.Now().Sub(start).String()
	r.rep.Passed = err == nil
	for _, o := range r.rep.Expects {
		r.rep.Passed = r.rep.Passed && o.Held
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
	m       Env
	s       *Scenario
	opts    Options
	clk     clock.Clock
	man     *clock.Manual // nil unless the clock is manual
	log     *slog.Logger
	partner string
	orgs    map[string]string // name and external id -> organization id
	ids     []string          // deliveries in the order sent
	open    []string          // those of ids not yet seen final
	rep     *Report
}

func (r *runner) setup() error {
	key := r.s.APIKey
	if key == "" {
		key = r.m.APIKey
	}
	if key == "" {
		return errors.New("no partner: the file names no partner.api_key and the environment has no default key")
	}
	p, err := r.m.Store.AddPartner(key) // the existing partner when the key is known
	if err != nil {
		return err
	}
	r.partner = p.ID
	for _, o := range r.s.Organizations {
		org, err := r.organization(o)
		if err != nil {
			return fmt.Errorf("organization %q: %w", o.Name, err)
		}
		r.orgs[o.Name] = org.ID
		r.orgs[org.ExternalID] = org.ID
	}
	kinds := []string{bullseye.KindIdentification, bullseye.KindBilling}
	for _, kind := range kinds {
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

// organization adds one of the file's organizations to the partner; one
// with an external_id the partner already has is that organization, as it
// is: the same file run twice on one mock (or two files naming one
// customer) acts on the same organization.
func (r *runner) organization(o Organization) (bullseye.Organization, error) {
	existing := func() (bullseye.Organization, bool, error) {
		if o.ExternalID == "" {
			return bullseye.Organization{}, false, nil
		}
		found, _, err := r.m.Store.Organizations(r.partner, store.OrgFilter{ExternalID: o.ExternalID, Page: 1, PageSize: 1})
		if err != nil || len(found) == 0 {
			return bullseye.Organization{}, false, err
		}
		return found[0], true, nil
	}
	if org, ok, err := existing(); ok || err != nil {
		return org, err
	}
	org := r.m.Fixtures.NewOrganization(r.clk.Now())
	org.Name, org.Status, org.Tier, org.Domain = o.Name, o.Status, o.Tier, ""
	if o.ExternalID != "" {
		org.ExternalID = o.ExternalID
	}
	if o.Credits > 0 {
		org.Credits = o.Credits
	}
	added, err := r.m.Store.AddOrganization(r.partner, org)
	if errors.Is(err, store.ErrConflict) {
		// Another run added it since we looked.
		if org, ok, lerr := existing(); ok || lerr != nil {
			return org, lerr
		}
	}
	return added, err
}

func (r *runner) webhook(w Webhook) error {
	_, err := r.m.Store.UpdateWebhook(r.partner, w.Kind, store.WebhookPatch{URL: w.URL, Secret: w.Secret, Enabled: w.Enabled, Dialect: w.Dialect})
	return err
}

func (r *runner) steps(ctx context.Context, steps []Step) error {
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.step(ctx, st); err != nil {
			return fmt.Errorf("line %d: %w", st.Line, err)
		}
	}
	return nil
}

func (r *runner) step(ctx context.Context, st Step) error {
	switch {
	case st.Send != nil:
		return r.send(st.Send)
	case st.Webhook != nil:
		r.log.Info("webhook change", "line", st.Line, "kind", st.Webhook.Kind)
		return r.webhook(*st.Webhook)
	case st.Wait != nil:
		if st.Wait.Settled {
			return r.settled(ctx)
		}
		return r.until(ctx, r.clk.Now().Add(st.Wait.Duration))
	case st.Every != nil:
		return r.every(ctx, st.Every)
	case st.Expect != nil:
		// The expectation reads the run's deliveries only: what happens
		// to others' does not hold it up.
		if _, err := r.own(ctx); err != nil {
			return err
		}
		o := r.expect(st.Expect)
		o.Line, o.Col = st.Line, st.Col
		r.rep.Expects = append(r.rep.Expects, o)
		if o.Held {
			r.log.Info("expectation held", "line", st.Line)
		} else {
			r.log.Warn("expectation failed", "line", st.Line, "differs", o.Message)
		}
	}
	return nil
}

func (r *runner) send(s *Send) error {
	req := events.Request{
		PartnerID: r.partner, Type: s.Type, Count: s.Count, Dialect: s.Dialect,
		Overrides: s.Overrides, Faults: s.Faults, Interval: s.Interval, Policy: r.s.Retry,
	}
	if s.Organization != "" {
		id, ok := r.orgs[s.Organization]
		if !ok {
			id = s.Organization // an id of a seeded organization
		}
		req.OrganizationID = id
	}
	ids, err := r.m.Events.Emit(req)
	r.ids = append(r.ids, ids...)
	r.open = append(r.open, ids...)
	r.log.Info("sent", "type", s.Type, "count", s.Count, "deliveries", len(ids))
	return err
}

func (r *runner) every(ctx context.Context, e *Every) error {
	start := r.clk.Now()
	t := start
	for n := 0; e.Count == 0 || n < e.Count; n++ {
		t = e.Schedule.Next(t)
		if e.For > 0 && t.After(start.Add(e.For)) {
			break
		}
		if err := r.until(ctx, t); err != nil {
			return err
		}
		r.log.Info("cron tick", "schedule", e.Spec, "tick", n+1)
		if err := r.steps(ctx, e.Steps); err != nil {
			return err
		}
	}
	return nil
}

// until lets mock time reach t. A manual clock is moved by the runner, from
// one due attempt or timeout to the next, so that every attempt happens at
// its exact mock time; other clocks are waited on.
func (r *runner) until(ctx context.Context, t time.Time) error {
	if r.man == nil {
		tm := r.clk.TimerAt(t)
		defer tm.Stop()
		select {
		case <-tm.C():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		if err := r.idle(ctx); err != nil {
			return err
		}
		next, ok := r.next()
		if !ok || next.After(t) {
			break
		}
		r.man.Set(next)
	}
	r.man.Set(t)
	return r.idle(ctx)
}

// settled waits until every delivery this run created is final. Other
// deliveries on the mock (another partner's, another test's, another run's)
// are not waited for: they may stay pending for ever. A manual clock is moved
// only as far as the run's own deliveries need: from one of their due
// attempts (or timeouts) to the next, never past the last one.
func (r *runner) settled(ctx context.Context) error {
	if r.man == nil {
		for _, id := range r.open {
			if _, err := r.m.Sender.Wait(ctx, id, sender.IsFinal); err != nil && !errors.Is(err, sender.ErrNotFound) {
				return err
			}
		}
		r.open = nil
		return nil
	}
	for {
		pending, err := r.own(ctx)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		next := *pending[0].NextAttemptAt
		for _, info := range pending[1:] {
			if info.NextAttemptAt.Before(next) {
				next = *info.NextAttemptAt
			}
		}
		r.man.Set(next)
	}
}

// own waits until the current mock instant has done what it can for the
// run's own deliveries: each is final, or scheduled for a later time. It
// returns the scheduled ones (all of them carry NextAttemptAt). Under a
// manual clock, an own attempt still in flight after the grace period is
// taken to hang, and the clock moves to the next timer, at most the
// attempt's timeout. Other deliveries are not waited for. Without a manual
// clock to move (a scaled one, or LeaveClock) it returns at once.
func (r *runner) own(ctx context.Context) ([]sender.DeliveryInfo, error) {
	if r.man == nil {
		return nil, nil
	}
	for {
		now := r.clk.Now()
		done := func(i sender.DeliveryInfo) bool {
			return i.Final() || (i.NextAttemptAt != nil && i.NextAttemptAt.After(now))
		}
		gctx, cancel := context.WithTimeout(ctx, r.opts.Grace)
		var pending []sender.DeliveryInfo
		open := r.open[:0:0]
		var stuck *sender.DeliveryInfo
		for _, id := range r.open {
			info, err := r.m.Sender.Wait(gctx, id, done)
			switch {
			case errors.Is(err, sender.ErrNotFound):
				continue // forgotten (a reset): nothing more will happen to it
			case err != nil:
				stuck = &info
			case !info.Final():
				pending = append(pending, info)
				open = append(open, id)
			}
			if stuck != nil {
				break
			}
		}
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if stuck == nil {
			r.open = open
			return pending, nil
		}
		r.unstick(now, *stuck)
	}
}

// unstick moves the manual clock to the next timer when one of the run's
// deliveries made no progress for the grace period: an attempt in flight
// to a receiver that does not answer ends at its timeout (a timer), and one
// ready but waiting for a worker or an endpoint slot waits for others' to
// end. A timer farther than an attempt's timeout is not the one awaited
// (the attempt's own is not set yet), so the clock stays.
func (r *runner) unstick(now time.Time, stuck sender.DeliveryInfo) {
	t, ok := r.man.Next()
	if !ok || !t.After(now) {
		return
	}
	if stuck.State == bullseye.StateInFlight {
		timeout := stuck.Policy.Timeout
		if timeout <= 0 {
			timeout = bullseye.DefaultTimeout
		}
		if t.After(now.Add(timeout)) {
			return
		}
	}
	r.log.Info("receiver not answering; moving the manual clock to the next timeout", "to", t)
	r.man.Set(t)
}

// next is the earliest thing that will happen: a due attempt, or a timer
// (an attempt's timeout).
func (r *runner) next() (time.Time, bool) {
	next, ok := r.m.Sender.NextDue()
	if t, tok := r.man.Next(); tok && (!ok || t.Before(next)) {
		next, ok = t, true
	}
	return next, ok
}

// idle waits until the sender did what the current instant allows. Under a
// manual clock, an attempt still in flight after the grace period is taken
// to hang, and the clock moves to the next timer (its timeout).
func (r *runner) idle(ctx context.Context) error {
	if r.man == nil {
		return nil
	}
	for {
		gctx, cancel := context.WithTimeout(ctx, r.opts.Grace)
		err := r.m.Sender.Idle(gctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		t, ok := r.man.Next()
		if !ok {
			continue // an attempt in flight without a timeout timer yet
		}
		r.log.Info("receiver not answering; moving the manual clock to the next timeout", "to", t)
		r.man.Set(t)
	}
}

func (r *runner) expect(e *Expect) Outcome {
	var diffs []string
	sel := e.Deliveries
	if len(sel) == 0 {
		for i := range r.ids {
			sel = append(sel, i+1)
		}
	}
	type item struct {
		n    int
		info sender.DeliveryInfo
	}
	var items []item
	for _, n := range sel {
		if n > len(r.ids) {
			diffs = append(diffs, fmt.Sprintf("delivery %d does not exist: %d sent so far", n, len(r.ids)))
			continue
		}
		info, ok := r.m.Sender.Delivery(r.ids[n-1])
		if !ok {
			diffs = append(diffs, fmt.Sprintf("delivery %d: details evicted from memory", n))
			continue
		}
		items = append(items, item{n, info})
	}
	counts := map[string]int{}
	var faultSeen = map[bullseye.Fault]bool{}
	dupSeen := false
	for _, it := range items {
		info, n := it.info, it.n
		counts[info.State]++
		if e.State != "" && info.State != e.State {
			diffs = append(diffs, fmt.Sprintf("delivery %d: %s, want %s", n, info.State, e.State))
		}
		if e.Attempts > 0 && len(info.Attempts) != e.Attempts {
			diffs = append(diffs, fmt.Sprintf("delivery %d: %d attempts, want %d", n, len(info.Attempts), e.Attempts))
		}
		if e.Offsets != nil {
			got := offsets(info)
			if !equalDurations(got, e.Offsets) {
				diffs = append(diffs, fmt.Sprintf("delivery %d: attempts at %s; want %s", n, formatOffsets(got), formatOffsets(e.Offsets)))
			}
		}
		codes := httpCodes(info)
		if e.Statuses != nil && !matchAll(codes, e.Statuses) {
			diffs = append(diffs, fmt.Sprintf("delivery %d: receiver answered %s; want %s", n, formatCodes(codes), formatStatuses(e.Statuses)))
		}
		if want, ok := e.Faults[info.Fault]; ok && info.Fault != bullseye.FaultNone {
			faultSeen[info.Fault] = true
			for _, c := range codes {
				if !want.match(c) {
					diffs = append(diffs, fmt.Sprintf("delivery %d (%s): receiver answered %s; want %s", n, info.Fault, formatCodes(codes), want))
					break
				}
			}
		}
		if e.Duplicates != nil && info.DuplicateOf != "" {
			dupSeen = true
			if len(codes) == 0 || !e.Duplicates.match(codes[len(codes)-1]) {
				diffs = append(diffs, fmt.Sprintf("delivery %d (duplicate): receiver answered %s; want %s", n, formatCodes(codes), e.Duplicates))
			}
		}
	}
	if e.States != nil {
		for _, st := range states {
			want, ok := e.States[st]
			if ok && counts[st] != want {
				diffs = append(diffs, fmt.Sprintf("%d deliveries %s, want %d (states: %s)", counts[st], st, want, formatCounts(counts)))
			}
		}
	}
	for _, f := range bullseye.Faults() {
		if _, ok := e.Faults[f]; ok && !faultSeen[f] {
			diffs = append(diffs, fmt.Sprintf("no delivery with fault %s to check", f))
		}
	}
	if e.Duplicates != nil && !dupSeen {
		diffs = append(diffs, "no duplicate delivery to check")
	}
	// A broken receiver can make every delivery differ; the first few say
	// enough, and the report stays readable.
	const shown = 6
	if len(diffs) > shown {
		diffs = append(diffs[:shown:shown], fmt.Sprintf("and %d more", len(diffs)-shown))
	}
	return Outcome{Held: len(diffs) == 0, Message: strings.Join(diffs, "; ")}
}

// offsets are the attempts' mock times from the delivery's first attempt.
func offsets(info sender.DeliveryInfo) []time.Duration {
	var out []time.Duration
	for _, a := range info.Attempts {
		out = append(out, a.AttemptedAt.Sub(info.Attempts[0].AttemptedAt))
	}
	return out
}

// httpCodes are the receiver's answers; canceled attempts made no request.
func httpCodes(info sender.DeliveryInfo) []int {
	var out []int
	for _, a := range info.Attempts {
		if a.Status != bullseye.StatusCanceled {
			out = append(out, a.StatusCode)
		}
	}
	return out
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func matchAll(codes []int, want []Status) bool {
	if len(codes) != len(want) {
		return false
	}
	for i, c := range codes {
		if !want[i].match(c) {
			return false
		}
	}
	return true
}

func formatOffsets(ds []time.Duration) string {
	if len(ds) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = "+" + d.String()
	}
	return strings.Join(parts, ", ")
}

func formatCodes(cs []int) string {
	if len(cs) == 0 {
		return "nothing"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = Status{Code: c}.String()
	}
	return strings.Join(parts, ", ")
}

func formatStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

func formatCounts(c map[string]int) string {
	var parts []string
	for _, st := range states {
		if c[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, c[st]))
		}
	}
	for st, n := range c {
		if !contains(states, st) {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
