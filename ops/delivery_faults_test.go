package ops

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// dueAndStamp reads, for each delivery of out (in event order), when its
// first attempt is due and the payload's timestamp.
func dueAndStamp(t *testing.T, o *Ops, out Emitted) (due, stamps []time.Time, bodies []map[string]any) {
	t.Helper()
	for _, id := range out.DeliveryIDs {
		d, err := o.Delivery(id)
		if err != nil {
			t.Fatal(err)
		}
		var b map[string]any
		if err := json.Unmarshal(d.Body, &b); err != nil {
			t.Fatal(err)
		}
		ts, _ := time.Parse(time.RFC3339, b["timestamp"].(string))
		due, stamps, bodies = append(due, *d.NextAttemptAt), append(stamps, ts), append(bodies, b)
	}
	return due, stamps, bodies
}

func at(secs ...int) []time.Time {
	out := make([]time.Time, len(secs))
	for i, s := range secs {
		out[i] = epoch.Add(time.Duration(s) * time.Second)
	}
	return out
}

// reversed: event i keeps the time it was created at (its payload's
// timestamp) and is due at the slot of event count+1-i, so a receiver sees
// the newest first and the oldest last.
func TestOrderReversedAndShuffled(t *testing.T) {
	o, partner := newOps(t, 1)
	out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(4), Rate: "1/s", Order: OrderReversed})
	if err != nil {
		t.Fatal(err)
	}
	due, stamps, _ := dueAndStamp(t, o, out)
	if !slices.Equal(stamps, at(0, 1, 2, 3)) || !slices.Equal(due, at(3, 2, 1, 0)) {
		t.Errorf("reversed: stamps %v due %v", stamps, due)
	}

	shuffle := func() []time.Time {
		o, partner := newOps(t, 1)
		out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(8), Rate: "1/s", Order: OrderShuffled})
		if err != nil {
			t.Fatal(err)
		}
		due, stamps, _ := dueAndStamp(t, o, out)
		if !slices.Equal(stamps, at(0, 1, 2, 3, 4, 5, 6, 7)) {
			t.Errorf("shuffled stamps %v", stamps)
		}
		return due
	}
	a, b := shuffle(), shuffle()
	if !slices.Equal(a, b) || slices.Equal(a, at(0, 1, 2, 3, 4, 5, 6, 7)) {
		t.Errorf("shuffled (seeded) gave %v then %v", a, b)
	}
	sorted := slices.Clone(a)
	slices.SortFunc(sorted, func(x, y time.Time) int { return x.Compare(y) })
	if !slices.Equal(sorted, at(0, 1, 2, 3, 4, 5, 6, 7)) {
		t.Errorf("shuffled slots %v are not the eight slots", a)
	}
}

// sameVisitor: one visitor and company in successive sessions: new session
// ids, timestamps and last_seen_at increasing, one organization.
func TestSameVisitor(t *testing.T) {
	o, partner := newOps(t, 2)
	for _, rate := range []string{"", "1/m"} {
		out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(3), Rate: rate, SameVisitor: true, Order: OrderReversed})
		if err != nil {
			t.Fatal(err)
		}
		_, stamps, bodies := dueAndStamp(t, o, out)
		sessions := map[string]bool{}
		for i, b := range bodies {
			v, c := b["visitor"].(map[string]any), b["company"].(map[string]any)
			first, firstCo := bodies[0]["visitor"].(map[string]any), bodies[0]["company"].(map[string]any)
			if v["id"] != first["id"] || v["email"] != first["email"] || c["name"] != firstCo["name"] || b["organization_id"] != bodies[0]["organization_id"] {
				t.Errorf("rate %q event %d is another visitor or company: %v / %v", rate, i+1, v["email"], c["name"])
			}
			sessions[b["session_id"].(string)] = true
			if i > 0 && (!stamps[i].After(stamps[i-1]) || v["last_seen_at"].(string) <= bodies[i-1]["visitor"].(map[string]any)["last_seen_at"].(string)) {
				t.Errorf("rate %q event %d does not follow the one before: %v", rate, i+1, stamps)
			}
		}
		if len(sessions) != 3 {
			t.Errorf("rate %q: %d sessions for 3 events", rate, len(sessions))
		}
	}
}

// jitter delays each first attempt by a seeded time up to jitter; burst
// groups events at once, spaced so that the rate holds.
func TestJitterAndBurst(t *testing.T) {
	o, partner := newOps(t, 1)
	out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(6), Rate: "1/s", Burst: N(3)})
	if err != nil {
		t.Fatal(err)
	}
	if due, stamps, _ := dueAndStamp(t, o, out); !slices.Equal(due, at(0, 0, 0, 3, 3, 3)) || !slices.Equal(stamps, due) {
		t.Errorf("burst of 3 at 1/s: due %v stamps %v", due, stamps)
	}
	out, err = o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(20), Jitter: D(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	due, _, _ := dueAndStamp(t, o, out)
	distinct := map[time.Time]bool{}
	for _, d := range due {
		if d.Before(epoch) || d.After(epoch.Add(10*time.Second)) {
			t.Errorf("jittered due %s outside [0, 10s]", d)
		}
		distinct[d] = true
	}
	if len(distinct) < 10 {
		t.Errorf("jitter spread 20 events over %d instants", len(distinct))
	}
	for _, c := range []struct {
		s     Send
		field string
		msg   string
	}{
		{Send{Order: "backwards"}, "order", `order must be one of creation, reversed, shuffled, got "backwards"`},
		{Send{Type: "credits.low", SameVisitor: true}, "sameVisitor", "sameVisitor goes with identification events"},
		{Send{Burst: N(2)}, "burst", "burst goes with rate"},
		{Send{Count: N(3), Rate: "1/s", Burst: N(4)}, "burst", "burst must be from 1 to count (3), got 4"},
		{Send{Jitter: (*Duration)(ptrTo("-1s"))}, "jitter", "jitter must not be negative"},
	} {
		if c.s.Type == "" {
			c.s.Type = bullseye.EventVisitorIdentified
		}
		err := CheckSend(c.s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%+v: %v, want %s: %s", c.s, err, c.field, c.msg)
		}
	}
}

func ptrTo(s string) *string { return &s }

func TestReplayRefusesZero(t *testing.T) {
	err := CheckSend(Send{Type: bullseye.EventVisitorIdentified, Faults: []Fault{{Replay: D(0)}}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "faults[0].replay" {
		t.Errorf("a zero replay: %v", err)
	}
}

// A rate written as a burst shape is the burst key's meaning.
func TestBurstShapeRate(t *testing.T) {
	o, partner := newOps(t, 1)
	out, err := o.Emit(Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Count: N(4), Rate: "2 every 10s"})
	if err != nil {
		t.Fatal(err)
	}
	if due, _, _ := dueAndStamp(t, o, out); !slices.Equal(due, at(0, 0, 10, 10)) {
		t.Errorf("2 every 10s: due %v", due)
	}
	for rate, field := range map[string]string{"0 every 10s": "rate", "2 every soon": "rate"} {
		var fe *FieldError
		if err := CheckSend(Send{Type: bullseye.EventVisitorIdentified, Count: N(4), Rate: rate}); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%q: %v", rate, err)
		}
	}
	if err := CheckSend(Send{Type: bullseye.EventVisitorIdentified, Count: N(4), Rate: "2 every 1s", Burst: N(2)}); err == nil {
		t.Error("a burst given twice was accepted")
	}
}
