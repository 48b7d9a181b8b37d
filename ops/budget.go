package ops

import (
	"fmt"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// Defaults of the budget for pending work: enough for a million pending
// default-dialect deliveries (about 2.2 KB each), well inside a CI machine.
const (
	DefaultMaxPending      = 1_000_000
	DefaultMaxPendingBytes = 3 << 30
)

// Budget bounds the work the mock holds: deliveries not yet final, and
// their payload bytes. Zero fields take the defaults.
type Budget struct {
	Deliveries int
	Bytes      int64
}

// WithDefaults fills zero fields with the defaults.
func (b Budget) WithDefaults() Budget {
	if b.Deliveries <= 0 {
		b.Deliveries = DefaultMaxPending
	}
	if b.Bytes <= 0 {
		b.Bytes = DefaultMaxPendingBytes
	}
	return b
}

// BudgetError is a request refused by the budget, before anything was
// created. Whole means the request alone is over the budget (a 400: asking
// again cannot help); otherwise the mock is full now and will drain (a 429
// with Retry-After).
type BudgetError struct {
	Budget  string // "deliveries" or "bytes"
	Flag    string // the setting that raises it
	Limit   int64
	Pending int64 // held now
	Need    int64 // what the request adds
	Whole   bool
}

func (e *BudgetError) Error() string {
	unit := func(n int64) string {
		if e.Budget == "bytes" {
			return formatBytes(n)
		}
		return fmt.Sprintf("%d deliveries", n)
	}
	if e.Whole {
		return fmt.Sprintf("this request needs %s pending, over the budget of %s (%s) by %s",
			unit(e.Need), unit(e.Limit), e.Flag, unit(e.Need-e.Limit))
	}
	return fmt.Sprintf("the mock holds %s pending; this request adds %s, which would pass the budget of %s (%s) by %s: retry once some are delivered",
		unit(e.Pending), unit(e.Need), unit(e.Limit), e.Flag, unit(e.Pending+e.Need-e.Limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// deliveries is how many deliveries the plan creates: its events and
// their duplicates.
func (p plan) deliveries() int64 {
	n := int64(p.count)
	for _, f := range p.faults {
		if !f.duplicate && f.replay == 0 {
			continue
		}
		for i := 1; i <= p.count; i++ {
			if f.applies(i) {
				n++
			}
		}
	}
	return n
}

// reservePlan reserves a plan's room in the budget for pending work, or
// refuses it; release the room once its deliveries are created (they then
// count as pending).
func (o *Ops) reservePlan(p plan) (release func(), err error) {
	n := p.deliveries()
	return o.reserve(n, n*fixtures.EstimateSize(p.eventType, p.dialect, len(p.overrides)))
}

// reserve holds n pending deliveries of bytes in all against the budget,
// so that two requests checked at once cannot both take the last room.
func (o *Ops) reserve(n, bytes int64) (release func(), err error) {
	o.budgetMu.Lock()
	defer o.budgetMu.Unlock()
	if err := o.checkBudget(n, bytes); err != nil {
		return nil, err
	}
	o.reserved.n += n
	o.reserved.bytes += bytes
	return func() {
		o.budgetMu.Lock()
		defer o.budgetMu.Unlock()
		o.reserved.n -= n
		o.reserved.bytes -= bytes
	}, nil
}

// checkBudget refuses n more pending deliveries of bytes in all when they,
// with what is pending and what other requests reserved, would pass the
// budget; the caller holds budgetMu.
func (o *Ops) checkBudget(n, bytes int64) error {
	st := o.sender.Stats()
	st.Pending += int(o.reserved.n)
	st.PendingBytes += o.reserved.bytes
	for _, c := range []struct {
		budget, flag     string
		limit, have, add int64
	}{
		{"deliveries", "--max-pending", int64(o.budget.Deliveries), int64(st.Pending), n},
		{"bytes", "--max-pending-bytes", o.budget.Bytes, st.PendingBytes, bytes},
	} {
		if c.add > c.limit {
			return &BudgetError{Budget: c.budget, Flag: c.flag, Limit: c.limit, Pending: c.have, Need: c.add, Whole: true}
		}
		if c.have+c.add > c.limit {
			return &BudgetError{Budget: c.budget, Flag: c.flag, Limit: c.limit, Pending: c.have, Need: c.add}
		}
	}
	return nil
}

// PendingBudget is the budget the mock enforces.
func (o *Ops) PendingBudget() Budget { return o.budget }

// CountDeliveries is how many deliveries s creates (its events and their
// duplicates), 0 when s is not valid: what a scenario file is checked
// against the budget with.
func CountDeliveries(s Send) int64 {
	p, err := checkSend(s)
	if err != nil {
		return 0
	}
	return p.deliveries()
}

// EstimateBytes is the payload bytes s creates pending, estimated as Emit
// estimates them: what a scenario file is checked against the budget with.
func EstimateBytes(s Send) int64 {
	p, err := checkSend(s)
	if err != nil {
		return 0
	}
	d := p.dialect
	if d == "" {
		d = bullseye.DialectPartner // the webhook's, not known yet: the larger
	}
	return p.deliveries() * fixtures.EstimateSize(p.eventType, d, len(p.overrides))
}
