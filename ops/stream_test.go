package ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// streamMock is a started mock on a manual clock whose webhook points at
// nothing that answers (deliveries scheduled an hour out are never tried).
func streamMock(t *testing.T) *ops.Ops {
	t.Helper()
	m, err := mock.New(mock.Config{Clock: clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = m.Close(context.Background()) })
	o := m.Ops()
	url, on := "http://127.0.0.1:9/hook", true
	if err := o.SetWebhook(o.Partners()[0].ID, bullseye.KindIdentification, ops.Webhook{URL: &url, Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	return o
}

func open(t *testing.T, o *ops.Ops, w ops.Watch) *ops.Stream {
	t.Helper()
	st, err := o.OpenStream(w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func next(t *testing.T, st *ops.Stream) ops.Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := st.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var zero = time.Duration(0)

// A timeout ends a stream on time even while matching events keep coming.
func TestStreamTimeoutUnderTraffic(t *testing.T) {
	o := streamMock(t)
	st := open(t, o, ops.Watch{Events: []string{feed.Delivery}, Coalesce: &zero, Timeout: 100 * time.Millisecond})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = o.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Delay: ops.D(time.Hour)})
			}
		}
	}()
	for i := 0; ; i++ {
		if b := next(t, st); b.End == ops.EndTimeout {
			return
		}
		if i > 1_000_000 {
			t.Fatal("a stream under traffic never reached its timeout")
		}
	}
}

// A limit is met from a burst larger than a batch: the events it asked for
// come, not a flood notice that skips them; the rest stay for the next.
func TestStreamLimitAgainstAFlood(t *testing.T) {
	o := streamMock(t)
	st := open(t, o, ops.Watch{Events: []string{feed.Delivery}, Coalesce: &zero, Limit: 2})
	out, err := o.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Count: ops.N(ops.MaxBatch + 500), Delay: ops.D(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		b := next(t, st)
		if b.Lost != nil {
			t.Fatalf("a limited stream was told it lost %+v", b.Lost)
		}
		for _, e := range b.Events {
			got = append(got, e.Data.(sender.DeliveryChange).ID)
		}
	}
	if got[0] != out.DeliveryIDs[0] || got[1] != out.DeliveryIDs[1] {
		t.Errorf("the limited stream sent %v, want the first two of the burst", got)
	}
	if b := next(t, st); b.End != ops.EndLimit {
		t.Errorf("after the limit: %+v", b)
	}
	after := st.LastEventID()
	rest := open(t, o, ops.Watch{Events: []string{feed.Delivery}, Coalesce: &zero, After: &after, Limit: 1})
	if b := next(t, rest); len(b.Events) != 1 || b.Events[0].Data.(sender.DeliveryChange).ID != out.DeliveryIDs[2] {
		t.Errorf("the next stream resumed with %+v, want the third", b)
	}
}

// An id from another process (below this feed's first) is unknown; 0 reads
// all the buffer holds.
func TestStreamResumeFromAnotherProcess(t *testing.T) {
	o := streamMock(t)
	open(t, o, ops.Watch{}) // the buffer keeps from here on
	out, err := o.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Delay: ops.D(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	old := uint64(12) // a position in an earlier process
	if b := next(t, open(t, o, ops.Watch{After: &old})); b.Lost == nil || b.Lost.Reason != ops.LostUnknown {
		t.Errorf("an earlier process's id: %+v, want lost (unknown)", b)
	}
	all := uint64(0)
	b := next(t, open(t, o, ops.Watch{After: &all, Events: []string{feed.Delivery}}))
	if b.Lost != nil || len(b.Events) != 1 || b.Events[0].Data.(sender.DeliveryChange).ID != out.DeliveryIDs[0] {
		t.Errorf("lastEventId 0: %+v", b)
	}
}

// A delivery's attemptCount on the stream is the list's: a canceled
// attempt counts, as it does in the list.
func TestStreamAttemptCountIsTheLists(t *testing.T) {
	o := streamMock(t)
	st := open(t, o, ops.Watch{Events: []string{feed.Delivery}, State: bullseye.StateCanceled, Coalesce: &zero})
	off := false
	if err := o.SetWebhook(o.Partners()[0].ID, bullseye.KindIdentification, ops.Webhook{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	out, err := o.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, EvenIfDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	b := next(t, st)
	c := b.Events[0].Data.(sender.DeliveryChange)
	d, err := o.Delivery(out.DeliveryIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.AttemptCount != len(d.Attempts) || c.AttemptCount != 1 {
		t.Errorf("stream attemptCount %d, list %d attempts; want 1 both", c.AttemptCount, len(d.Attempts))
	}
}

// Every clock move is told: a settle's steps too, not only AdvanceClock.
func TestStreamClockEventsOfSettle(t *testing.T) {
	o := streamMock(t)
	st := open(t, o, ops.Watch{Events: []string{feed.Clock}, Coalesce: &zero})
	out, err := o.Emit(ops.Send{Type: bullseye.EventVisitorIdentified, Delay: ops.D(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.Settle(ctx, out.DeliveryIDs, true); err != nil {
		t.Fatal(err)
	}
	b := next(t, st)
	if len(b.Events) == 0 || b.Events[0].Data.(ops.ClockState).Now.Before(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)) {
		t.Errorf("after a settle that moved the clock a minute: %+v", b)
	}
}
