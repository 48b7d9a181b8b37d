package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// Advance is a move of the manual clock: exactly one of By, To or
// ToNextDue.
type Advance struct {
	By        *Duration  `json:"by,omitempty"`
	To        *time.Time `json:"to,omitempty"`
	ToNextDue bool       `json:"toNextDue,omitempty"`
}

// Advanced is what a move did.
type Advanced struct {
	Before, Now time.Time
	// Idle is false when the move ended with an attempt still in flight:
	// a receiver that holds it past the target (or past ctx).
	Idle bool
}

// Moved reports whether the clock moved.
func (a Advanced) Moved() bool { return a.Now.After(a.Before) }

// AdvanceClock moves the manual clock as a asks. It stops at every attempt
// and timer due on the way and waits for it, so advancing by 2h replays the
// whole retry schedule (each retry counts from the failed attempt before
// it) exactly as if the time had passed. ToNextDue with nothing scheduled
// does not move the clock. ctx bounds the real time spent.
func (o *Ops) AdvanceClock(ctx context.Context, a Advance) (Advanced, error) {
	if o.manual == nil {
		return Advanced{}, fmt.Errorf("the clock is not manual, so it cannot be moved: start the mock with --clock manual: %w", ErrConflict)
	}
	set := 0
	for _, b := range []bool{a.By.set(), a.To != nil, a.ToNextDue} {
		if b {
			set++
		}
	}
	if set != 1 {
		return Advanced{}, fieldErr("", `give exactly one of "by" (a duration such as "1m"), "to" (a time) or "toNextDue": true`)
	}
	before := o.manual.Now()
	target := before
	switch {
	case a.By.set():
		by, err := a.By.parse("by")
		if err != nil {
			if strings.Contains(err.Msg, "negative") {
				err.Msg += "; the clock never goes back"
			}
			return Advanced{}, err
		}
		if err := checkFrom("by", before, by); err != nil {
			return Advanced{}, err
		}
		target = before.Add(by)
	case a.To != nil:
		if err := checkInstant("to", *a.To); err != nil {
			return Advanced{}, err
		}
		if a.To.Before(before) {
			return Advanced{}, fieldErr("to", "to (%s) is before the clock (%s); the clock never goes back", a.To.UTC().Format(time.RFC3339Nano), before.UTC().Format(time.RFC3339Nano))
		}
		target = *a.To
	default:
		// Let the current instant finish first (a hanging receiver is
		// waited for the grace period, as on every move), so that "next"
		// is after what is in flight now.
		if err := o.idleAt(ctx, before); err != nil && ctx.Err() != nil {
			return Advanced{Before: before, Now: before}, nil
		}
		if due, ok := o.sender.NextDue(); ok && due.After(before) {
			target = due
		}
	}
	idle := o.advanceTo(ctx, target)
	return Advanced{Before: before, Now: o.manual.Now(), Idle: idle}, nil
}

// advanceTo moves the manual clock to target through every attempt or timer
// due on the way. Before each step, the first included, it waits for the
// sender to do what the current instant allows (see idleAt): an attempt due
// or in flight ends at the instant it started, not at the next timer (its
// own timeout) nor at target, unless its receiver hangs past the grace
// period. When a receiver holds an attempt past target, the clock still
// reaches target, and the answer is false; when ctx ends first the clock
// stays where it got to (a cancelled wait moves nothing more).
func (o *Ops) advanceTo(ctx context.Context, target time.Time) bool {
	start := o.manual.Now()
	defer func() {
		if o.manual.Now().After(start) {
			o.tellClock()
		}
	}()
	for {
		if err := o.idleAt(ctx, target); err != nil {
			if errors.Is(err, errHanging) && target.After(o.manual.Now()) {
				o.manual.Set(target)
			}
			return false
		}
		now := o.manual.Now()
		if !now.Before(target) {
			return true
		}
		next := target
		if t, ok := o.nextEvent(); ok && t.Before(target) {
			next = t
		}
		if next.After(now) {
			o.manual.Set(next)
		}
	}
}

// setClock moves the manual clock in one step and tells the stream.
// advanceTo steps through every timer and tells it once, at the end.
func (o *Ops) setClock(t time.Time) {
	o.manual.Set(t)
	o.tellClock()
}

// nextEvent is the earliest thing that will happen on the manual clock: a
// due attempt, or a timer (an attempt's timeout, a sink's delay).
func (o *Ops) nextEvent() (time.Time, bool) {
	next, ok := o.sender.NextDue()
	if t, tok := o.manual.Next(); tok && (!ok || t.Before(next)) {
		next, ok = t, true
	}
	return next, ok
}

// idleAt waits until the sender did what the current instant allows,
// applying the one rule for a hanging receiver (hang) with the move's
// target as the limit. When the next timer lies past it, the receiver
// holds the attempt past the move: idleAt gives up with errHanging, and the
// attempt times out later, when the clock passes its deadline.
func (o *Ops) idleAt(ctx context.Context, limit time.Time) error {
	for {
		err := o.untilStalled(ctx, o.sender.Idle)
		if err == nil || ctx.Err() != nil {
			return ctx.Err()
		}
		if !o.hang(limit) {
			return errHanging
		}
	}
}

// untilStalled runs wait until it returns nil, or until the sender made no
// progress (no attempt started or ended) for the grace period: then an
// attempt in flight is taken to hang, and it returns errStalled. A sender
// working through a large backlog at one instant is busy, not stalled, for
// as long as that takes: were it taken to hang, the clock would move past
// the deadlines of attempts in flight, and answered ones would be logged as
// timeouts and sent again. wait is called again after each grace period
// with progress, so it must pick up where it left off.
func (o *Ops) untilStalled(ctx context.Context, wait func(context.Context) error) error {
	for {
		before := o.sender.Progress()
		gctx, cancel := context.WithTimeout(ctx, o.grace)
		err := wait(gctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case o.sender.Progress() == before:
			return errStalled
		}
	}
}

var errStalled = errors.New("the sender made no progress for the grace period")

// hang is the one rule for a hanging receiver, shared by clock moves and
// settles: an attempt still in flight when the sender made no progress for
// the grace period (untilStalled) is taken to hang, and the manual clock
// moves to the next timer (the attempt's timeout) when that lies after now
// and not past limit. It reports whether the clock moved.
func (o *Ops) hang(limit time.Time) bool {
	now := o.manual.Now()
	t, ok := o.manual.Next()
	if !ok || !t.After(now) || t.After(limit) {
		return false
	}
	o.log.Info("receiver not answering; moving the manual clock to the next timeout", "to", t)
	o.setClock(t)
	return true
}

var errHanging = errors.New("an attempt is still in flight: its receiver does not answer")

// Grace is how long a clock move waits for a sender that makes no progress
// before it takes the receiver of an attempt in flight to hang.
func (o *Ops) Grace() time.Duration { return o.grace }

// Idle waits until the sender made every attempt the current mock time
// allows. On a manual clock, that is everything until someone moves it.
func (o *Ops) Idle(ctx context.Context) error { return o.sender.Idle(ctx) }

// Until lets mock time reach t. With move, a manual clock is moved there
// (see advanceTo, with no bound but ctx); otherwise the clock is waited on.
func (o *Ops) Until(ctx context.Context, t time.Time, move bool) error {
	if o.manual == nil || !move {
		tm := o.clock.TimerAt(t)
		defer tm.Stop()
		select {
		case <-tm.C():
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	o.advanceTo(ctx, t)
	return ctx.Err()
}

// Settle waits until every delivery of ids is final. Other deliveries on the
// mock (another partner's, another test's) are not waited for: they may stay
// pending for ever. With move, a manual clock is moved only as far as these
// deliveries need: from one of their due attempts (or timeouts) to the next,
// never past the last one. Forgotten deliveries (a reset) count as final.
func (o *Ops) Settle(ctx context.Context, ids []string, move bool) error {
	if o.manual == nil || !move {
		return o.sender.WaitFinal(ctx, ids)
	}
	for {
		pending, err := o.Instant(ctx, ids)
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
		ids = ids[:0:0]
		for _, info := range pending {
			ids = append(ids, info.ID)
		}
		o.setClock(next)
	}
}

// Instant waits until the current mock instant has done what it can for
// the deliveries of ids: each is final, or scheduled for a later time. It
// returns the scheduled ones (all carry NextAttemptAt). On a manual clock an
// attempt of theirs still in flight when the sender made no progress for the
// grace period is taken to hang (the rule of idleAt), and the clock moves to
// the next timer, at most the attempt's timeout. Without a manual clock it
// returns nil at once.
func (o *Ops) Instant(ctx context.Context, ids []string) ([]sender.DeliveryInfo, error) {
	if o.manual == nil {
		return nil, nil
	}
	for {
		now := o.clock.Now()
		done := func(i sender.DeliveryInfo) bool {
			return i.Final() || (i.NextAttemptAt != nil && i.NextAttemptAt.After(now))
		}
		// Done stays done while the clock stands still, so a wait that
		// resumes after progress resumes at the delivery it waited on.
		var pending []sender.DeliveryInfo
		var stuck sender.DeliveryInfo
		next := 0
		err := o.untilStalled(ctx, func(gctx context.Context) error {
			for ; next < len(ids); next++ {
				info, err := o.sender.WaitInfo(gctx, ids[next], done)
				switch {
				case errors.Is(err, sender.ErrNotFound):
					// forgotten (a reset): nothing more will happen to it
				case err != nil:
					stuck = info
					return err
				case !info.Final():
					pending = append(pending, info)
				}
			}
			return nil
		})
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err == nil:
			return pending, nil
		}
		o.unstick(now, stuck)
	}
}

// unstick applies the rule of hang when a delivery made no progress for
// the grace period. An attempt in flight ends at its timeout, so a timer
// farther than that is not the one awaited (the attempt's own is not set
// yet); a delivery ready but waiting for a worker or an endpoint slot waits
// for others' attempts to end, whenever that is.
func (o *Ops) unstick(now time.Time, stuck sender.DeliveryInfo) {
	limit := time.Unix(1<<62, 0) // no bound
	if stuck.State == bullseye.StateInFlight {
		timeout := stuck.Policy.Timeout
		if timeout <= 0 {
			timeout = bullseye.DefaultTimeout
		}
		limit = now.Add(timeout)
	}
	o.hang(limit)
}
