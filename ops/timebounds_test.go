package ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// Every instant and duration past the clock's range is refused naming the
// field and the largest accepted value, and creates nothing; before, they
// wrapped round and fired at once.
func TestTimeBounds(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m, err := mock.New(mock.Config{Clock: clk, Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	o := m.Ops()
	at := func(s string) *time.Time { v, _ := time.Parse(time.RFC3339, s); return &v }
	for _, c := range []struct {
		name, field, msg string
		send             ops.Send
	}{
		{"far at", "at", "at must be from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z (the range of mock time), got 2300-01-01T00:00:00Z", ops.Send{At: at("2300-01-01T00:00:00Z")}},
		{"zero at", "at", "got 0001-01-01T00:00:00Z", ops.Send{At: at("0001-01-01T00:00:00Z")}},
		{"huge delay", "delay", "delay must be at most 876000h0m0s (100 years of mock time), got 2562047h", ops.Send{Delay: (*ops.Duration)(ptr("2562047h"))}},
		{"rate span", "rate", "100000 events at 0.001/h span more than 876000h0m0s", ops.Send{Count: ops.N(100000), Rate: "0.001/h"}},
		{"duplicate", "faults[0].duplicate", "duplicate must be at most 876000h0m0s", ops.Send{Faults: []ops.Fault{{Duplicate: "1000000h"}}}},
		{"retry delay", "policy", "retry delay 1 must be at most 2400h0m0s (100 days), got 9000h0m0s", ops.Send{Policy: &ops.Policy{Delays: []ops.Duration{"9000h"}}}},
		{"timeout", "policy.timeout", "timeout must be at most 2400h0m0s (100 days)", ops.Send{Policy: &ops.Policy{Timeout: (*ops.Duration)(ptr("9000h"))}}},
	} {
		c.send.Type = "visitor.identified"
		_, err := o.Emit(c.send)
		var fe *ops.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: %v (%+v), want field %s and %q", c.name, err, fe, c.field, c.msg)
		}
	}
	if st := o.Stats(); st.Sent != 0 {
		t.Errorf("refused requests created %d deliveries", st.Sent)
	}
	ctx := context.Background()
	for _, a := range []ops.Advance{{By: ops.D(ops.MaxAhead + time.Hour)}, {To: at("2300-01-01T00:00:00Z")}} {
		if _, err := o.AdvanceClock(ctx, a); err == nil {
			t.Errorf("advance %+v accepted", a)
		}
	}
	// Close to the end of mock time, a delay that would pass it is refused.
	if _, err := o.AdvanceClock(ctx, ops.Advance{To: at("2199-12-31T00:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Emit(ops.Send{Type: "visitor.identified", Delay: ops.D(48 * time.Hour)}); err == nil || !strings.Contains(err.Error(), "past the end of mock time") {
		t.Errorf("delay past the end = %v", err)
	}
	// A duplicate's wait counts from the last event.
	_, err = o.Emit(ops.Send{Type: "visitor.identified", Faults: []ops.Fault{{Duplicate: "48h"}}})
	var fe *ops.FieldError
	if !errors.As(err, &fe) || fe.Field != "faults[0].duplicate" || !strings.Contains(fe.Msg, "past the end of mock time") {
		t.Errorf("duplicate past the end = %v (%+v)", err, fe)
	}
}

func ptr(s string) *string { return &s }
