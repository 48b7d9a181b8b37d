package mock

import (
	"context"
	"errors"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// RunScenario runs s against a new mock built from the scenario's own
// clock, seed and retry policy (what the run command does), and closes the
// mock afterwards. The mock is headless, unless the file declares its
// receiver and opts gives no URL: then it listens, for the built-in sink
// the deliveries go to. A manual clock starts at
// scenarios.StartTime(). The error is for problems that stop a run; failed
// expectations are in the report.
func RunScenario(ctx context.Context, s *scenarios.Scenario, opts scenarios.Options) (*scenarios.Report, error) {
	if err := scenarios.CheckBounded(s, opts); err != nil {
		return nil, err
	}
	if err := scenarios.CheckHeadless(s); err != nil {
		return nil, err
	}
	// A file that declares its receiver, run with no URL of its own, sends
	// to a built-in sink that behaves so: the mock listens for it.
	own := opts.URL == "" && s.Receiver != nil
	cfg := Config{Seed: s.Seed, Logger: opts.Logger, Headless: !own, Grace: opts.Grace}
	switch s.Clock.Mode {
	case scenarios.ClockReal:
		cfg.Clock = clock.Real()
	case scenarios.ClockScaled:
		cfg.Clock, cfg.TimeScale = clock.Scaled(s.Clock.Factor), s.Clock.Factor
	default:
		cfg.Clock = clock.NewManual(scenarios.StartTime())
	}
	if s.APIKey != "" {
		cfg.APIKeys = []string{s.APIKey}
	}
	if s.Retry != nil {
		p, err := s.Retry.Resolve()
		if err != nil {
			return nil, err
		}
		cfg.Policy = p
	}
	m, err := New(cfg)
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
	if opts.APIKey == "" {
		opts.APIKey = m.Partners()[0].Key
	}
	if own {
		if opts.URL, err = m.sinkFor(s); err != nil {
			return nil, err
		}
	}
	return scenarios.Run(ctx, m.ops, s, opts)
}

// sinkFor sets up the built-in sink a scenario's receiver describes and
// returns its URL; a bad setting is an error at the receiver's line.
func (m *Mock) sinkFor(s *scenarios.Scenario) (string, error) {
	at := func(msg string) error {
		return &scenarios.Error{File: s.File, Line: s.ReceiverPos.Line, Col: s.ReceiverPos.Col, Msg: "receiver: " + msg}
	}
	var cfg server.SinkConfig
	if err := ops.Decode(s.Receiver, &cfg); err != nil {
		return "", at(err.Error())
	}
	const name = "scenario"
	if _, err := m.server.ConfigureSink(name, cfg); err != nil {
		var e *server.Error
		if errors.As(err, &e) {
			return "", at(e.Message)
		}
		return "", at(err.Error())
	}
	return m.URL() + server.ControlPrefix + "/sink/" + name, nil
}
