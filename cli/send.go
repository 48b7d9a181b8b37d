package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/store"
)

type sendCmd struct {
	Type       string   `arg:"" default:"visitor.identified" help:"Event type: visitor.identified, credits.allocated, credits.low, credits.exhausted or billing.period_closed."`
	URL        string   `name:"url" required:"" env:"BULLSEYE_MOCK_URL" help:"Receiver URL."`
	Secret     string   `env:"BULLSEYE_MOCK_SECRET" help:"Webhook secret; without one, requests carry no signature (as the vendor does)."`
	Count      int      `default:"1" help:"Events to send."`
	Rate       string   `help:"Events per unit of mock time (10/s, 30/m, 2/h); all at once when omitted."`
	Fault      []string `sep:"," placeholder:"FAULT" help:"Fault on the events: a signature fault (wrong_secret, missing, empty, non_hex, truncated, uppercase, other_bytes, reserialized), duplicate (a copy at the same instant) or duplicate:10s (a copy later). Repeatable."`
	FaultShare float64  `name:"fault-share" default:"1" help:"Share of the events that get each fault, spread evenly (0.25: every fourth)."`
	Dialect    string   `default:"partner" enum:"partner,integration" env:"BULLSEYE_MOCK_DIALECT" help:"partner (full, event_type) or integration (short, event)."`
	Seed       int64    `default:"1" env:"BULLSEYE_MOCK_SEED" help:"Seed of the fake values."`
	TimeScale  float64  `name:"time-scale" default:"1" env:"BULLSEYE_MOCK_TIME_SCALE" help:"Run mock time N times faster: retry delays, the timeout and the rate."`
	retryFlags
	Progress string `default:"auto" enum:"auto,always,never" help:"Progress line on stderr: auto shows it on a terminal only."`
}

func (c *sendCmd) faults() ([]events.Fault, error) {
	if c.FaultShare <= 0 || c.FaultShare > 1 {
		return nil, fmt.Errorf("--fault-share must be above 0 and at most 1, got %g", c.FaultShare)
	}
	var out []events.Fault
	for _, name := range c.Fault {
		f := events.Fault{Share: c.FaultShare}
		switch rest, ok := strings.CutPrefix(name, "duplicate"); {
		case ok && rest == "":
			f.Duplicate = true
		case ok && strings.HasPrefix(rest, ":"):
			d, err := time.ParseDuration(rest[1:])
			if err != nil || d < 0 {
				return nil, fmt.Errorf("--fault %s: expected duplicate:DURATION such as duplicate:10s", name)
			}
			f.Duplicate, f.DuplicateAfter = true, d
		default:
			sf, err := bullseye.ParseFault(name)
			if err != nil || sf == bullseye.FaultNone {
				return nil, fmt.Errorf("--fault %q: expected duplicate, duplicate:DURATION or one of %s", name, faultList())
			}
			f.Signature = sf
		}
		out = append(out, f)
	}
	return out, nil
}

func faultList() string {
	var names []string
	for _, f := range bullseye.Faults() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// Run sends through an in-process sender, the same code the server uses,
// and waits until every delivery settled. Exit 0 when all were delivered,
// 1 otherwise.
func (c *sendCmd) Run(e *env) error {
	kind, err := bullseye.KindOf(c.Type)
	if err != nil {
		return usageError{err}
	}
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return usagef("--url %q: expected an http:// or https:// URL", c.URL)
	}
	if c.Count < 1 || c.Count > events.MaxCount {
		return usagef("--count must be between 1 and %d, got %d", events.MaxCount, c.Count)
	}
	if c.TimeScale <= 0 {
		return usagef("--time-scale must be greater than 0, got %g", c.TimeScale)
	}
	var interval time.Duration
	if c.Rate != "" {
		if interval, err = scenarios.ParseRate(c.Rate); err != nil {
			return usageError{err}
		}
	}
	faults, err := c.faults()
	if err != nil {
		return usageError{err}
	}
	policy, err := c.policy()
	if err != nil {
		return usageError{err}
	}
	dialect := bullseye.Dialect(c.Dialect)
	m, err := mock.New(mock.Config{Addr: "127.0.0.1:0", Seed: c.Seed, TimeScale: c.TimeScale, Policy: policy, Dialect: dialect, Logger: e.logger})
	if err != nil {
		return usageError{err}
	}
	if err := m.Start(); err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	}()
	p := m.Partners()[0]
	on := true
	if _, err := m.Store.UpdateWebhook(p.ID, kind, storePatch(c.URL, c.Secret, &on)); err != nil {
		return err
	}
	start := time.Now()
	ids, err := m.Events.Emit(events.Request{PartnerID: p.ID, Type: c.Type, Count: c.Count, Interval: interval, Faults: faults})
	if err != nil {
		return usageError{err}
	}
	stop := c.progress(e, m, start)
	err = m.Sender.Settled(e.ctx)
	stop()
	if err != nil {
		return exitError{code: ExitFailed, msg: "interrupted before every delivery settled"}
	}
	counts := map[string]int{}
	attempts := 0
	for _, id := range ids {
		if info, ok := m.Sender.Delivery(id); ok {
			counts[info.State]++
			attempts += len(info.Attempts)
		}
	}
	fmt.Fprintf(e.stdout, "sent %d %s deliveries to %s: %d delivered, %d failed, %d canceled; %d attempts in %s\n",
		len(ids), c.Type, c.URL, counts[bullseye.StateDelivered], counts[bullseye.StateFailed], counts[bullseye.StateCanceled],
		attempts, time.Since(start).Round(time.Millisecond))
	if counts[bullseye.StateDelivered] != len(ids) {
		return exitError{code: ExitFailed}
	}
	return nil
}

// progress shows a live line on a terminal and nothing elsewhere, so logs
// and pipes stay clean. The ticker only refreshes the display; waiting is
// done by the sender's Settled.
func (c *sendCmd) progress(e *env, m *mock.Mock, start time.Time) (stop func()) {
	show := c.Progress == "always"
	if f, ok := e.stderr.(*os.File); ok && c.Progress == "auto" {
		show = term.IsTerminal(int(f.Fd()))
	}
	if !show {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			printProgress(e.stderr, m.Sender.Stats(), start)
			select {
			case <-done:
				printProgress(e.stderr, m.Sender.Stats(), start)
				fmt.Fprintln(e.stderr)
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func printProgress(w io.Writer, s sender.Stats, start time.Time) {
	secs := time.Since(start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.Attempts) / secs
	}
	fmt.Fprintf(w, "\rsent %d, delivered %d, failed %d, pending %d, %.0f attempts/s ", s.Sent, s.Delivered, s.Failed, s.Pending, rate)
}

func storePatch(url, secret string, enabled *bool) store.WebhookPatch {
	p := store.WebhookPatch{URL: &url, Enabled: enabled}
	if secret != "" {
		p.Secret = &secret
	}
	return p
}
