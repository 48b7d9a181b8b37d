package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

type runCmd struct {
	Files  []string      `arg:"" name:"file" help:"Scenario files (YAML or JSON)."`
	Report string        `default:"text" enum:"text,json" help:"Summary on stdout: text or json."`
	JUnit  string        `name:"junit" placeholder:"FILE" help:"Also write a JUnit XML report to FILE, for CI."`
	URL    string        `name:"url" env:"BULLSEYE_MOCK_URL" help:"Receiver URL: replaces the files' webhook urls, so one file serves many environments."`
	Secret string        `env:"BULLSEYE_MOCK_SECRET" help:"Webhook secret: replaces the files' secrets."`
	Grace  time.Duration `default:"${default_grace}" help:"Manual clock: real time the sender may make no progress, with an attempt unanswered, before its receiver is taken to hang and the clock moves to its timeout."`
}

// Run parses every file first, so a typo in the last file stops the run
// before anything is sent; then runs them in order. Exit 0 when every
// expectation held, 1 when one failed, 2 for an invalid file.
func (c *runCmd) Run(e *env) error {
	list, err := parseAll(e, c.Files, ops.Budget{})
	if err != nil {
		return err
	}
	var reports []*scenarios.Report
	for _, s := range list {
		rep, err := mock.RunScenario(e.ctx, s, scenarios.Options{URL: c.URL, Secret: c.Secret, Grace: c.Grace, Logger: e.logger})
		var se *mock.SettingError
		if errors.As(err, &se) {
			return usagef("%s", configMessage(err))
		}
		if err != nil {
			if rep == nil {
				if !strings.HasPrefix(err.Error(), s.File+":") { // a refusal at a line names the file already
					err = fmt.Errorf("%s: %w", s.File, err)
				}
				return usageError{err}
			}
			reports = append(reports, rep)
			if e.ctx.Err() != nil {
				break // cancelled: the rest would not run either
			}
			continue // this file failed to set up; the others still run
		}
		reports = append(reports, rep)
	}
	if c.Report == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reports); err != nil {
			return err
		}
	} else if err := scenarios.WriteText(e.stdout, reports); err != nil {
		return err
	}
	if c.JUnit != "" {
		if err := writeFile(c.JUnit, func(w io.Writer) error { return scenarios.WriteJUnit(w, reports) }); err != nil {
			return err
		}
	}
	for _, r := range reports {
		if !r.Passed {
			return exitError{code: ExitFailed}
		}
	}
	if e.ctx.Err() != nil {
		return exitError{code: ExitFailed, msg: "interrupted"}
	}
	return nil
}

// parseAll parses the files and prints every file's error, not only the
// first one's, so one validate run shows all there is to fix.
// parseAll reads scenario files, checking each against the pending
// deliveries the mock that runs them holds.
func parseAll(e *env, files []string, budget ops.Budget) ([]*scenarios.Scenario, error) {
	var out []*scenarios.Scenario
	bad := 0
	for _, f := range files {
		s, err := scenarios.ParseFile(f)
		if err == nil {
			err = scenarios.CheckBudget(s, budget)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "%s\n", err)
			bad++
			continue
		}
		out = append(out, s)
	}
	if bad > 0 {
		return nil, exitError{code: ExitUsage, msg: fmt.Sprintf("%d of %d scenario files invalid", bad, len(files))}
	}
	return out, nil
}

// runScenarios runs scenarios inside a serving mock, one after the other, on
// the server's clock, logging each step and expectation. They run under the
// mock's registry of scenario runs, so GET /_mock/scenarios/runs lists them
// and the mock's Close stops them (every steps without a bound run until
// then); this goroutine only starts the next when one ends.
func runScenarios(e *env, m *mock.Mock, list []*scenarios.Scenario) {
	go func() {
		for _, s := range list {
			e.logger.Info("scenario started", "scenario", s.Name, "file", s.File)
			run, done, err := m.StartScenario(s, scenarios.Options{Unbounded: true, LeaveClock: true})
			if err != nil {
				e.logger.Warn("scenario not started", "scenario", s.Name, "err", err)
				continue
			}
			select {
			case <-done:
			case <-e.ctx.Done():
				return
			}
			if info, _, err := m.Runs().Get(run.ID); err == nil && info.Error != "" {
				e.logger.Warn("scenario stopped", "scenario", s.Name, "err", info.Error)
			}
		}
	}()
}
