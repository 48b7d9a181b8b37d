// Package standalone runs scenarios against a fresh in-process mock built
// from the scenario's own clock, seed and retry policy: what the run
// command does. It is apart from package scenarios so that the runner does
// not depend on the mock (the mock's server may run scenarios itself).
package standalone

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// Run runs s against a new mock on a free loopback port and closes the mock
// afterwards. A manual clock starts at scenarios.StartTime(). The error is for
// problems that stop a run; failed expectations are in the report.
func Run(ctx context.Context, s *scenarios.Scenario, opts scenarios.Options) (*scenarios.Report, error) {
	if err := scenarios.CheckBounded(s, opts); err != nil {
		return nil, err
	}
	cfg := mock.Config{Addr: "127.0.0.1:0", Seed: s.Seed, Logger: opts.Logger}
	switch s.Clock.Mode {
	case scenarios.ClockReal:
		cfg.Clock = clock.Real()
	case scenarios.ClockScaled:
		cfg.Clock = clock.Scaled(s.Clock.Factor)
		cfg.TimeScale = s.Clock.Factor
	default:
		cfg.Clock = clock.NewManual(scenarios.StartTime())
	}
	if s.APIKey != "" {
		cfg.APIKeys = []string{s.APIKey}
	}
	if s.Retry != nil {
		cfg.Policy = s.Retry.WithDefaults()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := mock.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.Start(); err != nil {
		return nil, err
	}
	defer func() {
		// Pending deliveries are abandoned: the run is over.
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = m.Close(cctx)
	}()
	return scenarios.RunOn(ctx, Env(m), s, opts)
}

// Env is the part of a mock a scenario acts on, its first partner being
// the default one.
func Env(m *mock.Mock) scenarios.Env {
	return scenarios.Env{
		Store: m.Store, Sender: m.Sender, Events: m.Events, Fixtures: m.Fixtures,
		Clock: m.Config().Clock, APIKey: m.Partners()[0].Key,
	}
}
