// Package scenarios reads scenario files (YAML, or JSON) and runs them
// against a mock: partner setup, webhook configuration, organizations, a
// clock, then steps that send events with faults, change the webhook, wait,
// repeat on a cron schedule and check what happened. docs/scenarios.md
// describes the format; schema.json publishes it for editors.
package scenarios

import (
	"encoding/json"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// Clock modes of a scenario.
const (
	ClockReal   = "real"
	ClockScaled = "scaled"
	ClockManual = "manual"
)

// Scenario is one parsed file.
type Scenario struct {
	File        string
	Name        string
	Description string
	Seed        int64
	Clock       Clock
	APIKey      string    // "" uses the mock's default key
	Keys        []ops.Key // more keys of the partner (their PartnerID is the run's)
	KeysPos     Pos       // where partner.keys was written
	// Webhooks by kind (bullseye.KindIdentification, bullseye.KindBilling).
	Webhooks      map[string]Webhook
	Organizations []Organization
	Retry         *ops.Policy // every send's policy unless it has its own; nil keeps the mock's
	// Receiver is the receiver the file stands for, as the built-in sink's
	// settings (PUT /_mock/sink/{name}): a run without a URL of its own
	// sends to a sink that behaves so, and the file runs with no setup.
	Receiver    json.RawMessage
	ReceiverPos Pos
	Steps       []Step
}

// Clock is how mock time runs during a scenario.
type Clock struct {
	Mode   string  // ClockReal, ClockScaled or ClockManual
	Factor float64 // ClockScaled only
}

// Webhook is a webhook configuration, or a change of one; nil fields are
// left as they are.
type Webhook struct {
	Kind    string
	URL     *string
	Secret  *string
	Enabled *bool
	Dialect *bullseye.Dialect
}

// Organization is one organization the scenario creates for its partner.
type Organization struct {
	Name       string
	ExternalID string
	Status     string
	Tier       string
	Credits    int
}

// Pos is where something was written.
type Pos struct{ Line, Col int }

// Step is one step; exactly one of its fields is set.
type Step struct {
	Pos
	Send      *ops.Send // the body of POST /_mock/events
	Webhook   *Webhook
	Wait      *Wait
	Every     *Every
	Expect    *Expect
	APIFault  *ops.APIFault // the body of POST /_mock/faults
	RevokeKey string        // DELETE /_mock/keys/{apiKey}
}

// Wait waits Duration of mock time, or until every delivery settled, or
// (Requests set) until the app made Count matching Partner API requests,
// for at most Timeout of real time (GET /_mock/requests/wait).
type Wait struct {
	Duration time.Duration
	Settled  bool
	Requests *ops.RequestMatch
	Count    int
	Timeout  time.Duration
}

// Every repeats Steps on a cron schedule, Count times or for For of mock
// time; with neither it runs until the run is cancelled (serve only).
type Every struct {
	Spec     string
	Schedule cron.Schedule
	Count    int
	For      time.Duration
	Steps    []Step
}

// Expect checks the deliveries made so far (or those numbered in
// Deliveries, 1-based in the order they were sent). Unset checks are skipped.
type Expect struct {
	Deliveries []int
	State      string         // every selected delivery ended in this state
	States     map[string]int // how many selected deliveries are in each state
	Attempts   int            // attempts of each selected delivery; 0: unchecked
	Offsets    []time.Duration
	Statuses   []Status                  // receiver status per attempt of each selected delivery
	Faults     map[bullseye.Fault]Status // status of every attempt of deliveries with the fault
	Duplicates *Status                   // status of the last attempt of every duplicate
	// Arrival lists deliveries (numbers as in Deliveries) in the order the
	// receiver saw their first attempts; ties (one instant) pass either way.
	Arrival []int
	// Requests are expectations on the journal of Partner API requests.
	Requests []ops.RequestExpectation
	// Traffic are load-test thresholds on every attempt of the run so far
	// (ops.Thresholds, the keys of send's --max-p99 and --min-success).
	Traffic *traffic.Thresholds
}

// Status matches a receiver's status code: an exact code, or a class
// ("2xx"), or "timeout"/"error" for no response (code 0).
type Status struct {
	Code  int // exact; 0 with Class 0 means no response
	Class int // 2 for "2xx"
}

func (s Status) match(code int) bool {
	if s.Class > 0 {
		return code/100 == s.Class
	}
	return code == s.Code
}

func (s Status) String() string {
	switch {
	case s.Class > 0:
		return string(rune('0'+s.Class)) + "xx"
	case s.Code == 0:
		return "no response"
	}
	return itoa(s.Code)
}
