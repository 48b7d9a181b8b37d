package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

func (r *runner) expect(e *Expect) Outcome {
	var diffs []string
	sel := e.Deliveries
	if len(sel) == 0 {
		for i := range r.ids {
			sel = append(sel, i+1)
		}
	}
	type item struct {
		n    int
		info sender.DeliveryInfo
	}
	var items []item
	for _, n := range sel {
		if n > len(r.ids) {
			diffs = append(diffs, fmt.Sprintf("delivery %d does not exist: %d sent so far", n, len(r.ids)))
			continue
		}
		info, err := r.o.Info(r.ids[n-1])
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("delivery %d: details evicted from memory", n))
			continue
		}
		items = append(items, item{n, info})
	}
	counts := map[string]int{}
	var notes []string
	var faultSeen = map[bullseye.Fault]bool{}
	dupSeen := false
	for _, it := range items {
		info, n := it.info, it.n
		counts[info.State]++
		if e.State != "" && info.State != e.State {
			diffs = append(diffs, fmt.Sprintf("delivery %d: %s, want %s", n, info.State, e.State))
		}
		if e.Attempts > 0 && len(info.Attempts) != e.Attempts {
			diffs = append(diffs, fmt.Sprintf("delivery %d: %d attempts, want %d", n, len(info.Attempts), e.Attempts))
		}
		if e.Offsets != nil {
			got := offsets(info)
			if !equalDurations(got, e.Offsets) {
				diffs = append(diffs, fmt.Sprintf("delivery %d: attempts at %s; want %s", n, formatOffsets(got), formatOffsets(e.Offsets)))
			}
		}
		codes := httpCodes(info)
		if e.Statuses != nil && !matchAll(codes, e.Statuses) {
			diffs = append(diffs, fmt.Sprintf("delivery %d: receiver answered %s; want %s", n, answered(info), formatStatuses(e.Statuses)))
		}
		if want, ok := e.Faults[info.Fault]; ok && info.Fault != bullseye.FaultNone {
			faultSeen[info.Fault] = true
			for _, c := range codes {
				if want.match(c) {
					continue
				}
				if info.Fault.MayBeAccepted() && c/100 == 2 {
					// The one verdict of every surface (bullseye.MayBeAccepted):
					// accepting it is a note, not a failure.
					notes = append(notes, fmt.Sprintf("delivery %d (%s): receiver accepted it with %d, as the vendor's Node.js example does; fine while the comparison stays constant-time", n, info.Fault, c))
					break
				}
				diffs = append(diffs, fmt.Sprintf("delivery %d (%s): receiver answered %s; want %s", n, info.Fault, answered(info), want))
				break
			}
		}
		if e.Duplicates != nil && info.DuplicateOf != "" {
			dupSeen = true
			if len(codes) == 0 || !e.Duplicates.match(codes[len(codes)-1]) {
				diffs = append(diffs, fmt.Sprintf("delivery %d (duplicate): receiver answered %s; want %s", n, answered(info), e.Duplicates))
			}
		}
	}
	if e.States != nil {
		for _, st := range states {
			want, ok := e.States[st]
			if ok && counts[st] != want {
				diffs = append(diffs, fmt.Sprintf("%d deliveries %s, want %d (states: %s)", counts[st], st, want, formatCounts(counts)))
			}
		}
	}
	for _, f := range bullseye.Faults() {
		if _, ok := e.Faults[f]; ok && !faultSeen[f] {
			diffs = append(diffs, fmt.Sprintf("no delivery with fault %s to check", f))
		}
	}
	if e.Duplicates != nil && !dupSeen {
		diffs = append(diffs, "no duplicate delivery to check")
	}
	if len(e.Arrival) > 0 {
		diffs = append(diffs, r.arrival(e.Arrival)...)
	}
	for _, re := range e.Requests {
		v, err := r.o.ExpectRequests(re)
		switch {
		case err != nil:
			diffs = append(diffs, err.Error())
		case !v.OK:
			diffs = append(diffs, "expected "+v.Report)
		}
	}
	if e.Traffic != nil {
		diffs = append(diffs, r.trafficDiffs(*e.Traffic)...)
	}
	// A broken receiver can make every delivery differ; the first few say
	// enough, and the report stays readable.
	const shown = 6
	if len(diffs) > shown {
		diffs = append(diffs[:shown:shown], fmt.Sprintf("and %d more", len(diffs)-shown))
	}
	return Outcome{Held: len(diffs) == 0, Message: strings.Join(diffs, "; "), Note: strings.Join(notes, "; ")}
}

// arrival checks that the numbered deliveries' first attempts came in the
// listed order (at one instant, either order).
func (r *runner) arrival(order []int) []string {
	var prev time.Time
	for k, n := range order {
		if n > len(r.ids) {
			return []string{fmt.Sprintf("arrival: delivery %d does not exist: %d sent so far", n, len(r.ids))}
		}
		info, err := r.o.Info(r.ids[n-1])
		if err != nil || len(info.Attempts) == 0 {
			return []string{fmt.Sprintf("arrival: delivery %d has no attempt to order", n)}
		}
		first := info.Attempts[0].AttemptedAt
		if k > 0 && first.Before(prev) {
			return []string{fmt.Sprintf("arrival: delivery %d came at %s, before delivery %d at %s; want the order %v",
				n, first.UTC().Format(time.RFC3339), order[k-1], prev.UTC().Format(time.RFC3339), order)}
		}
		prev = first
	}
	return nil
}

// offsets are the attempts' mock times from the delivery's first attempt.
func offsets(info sender.DeliveryInfo) []time.Duration {
	var out []time.Duration
	for _, a := range info.Attempts {
		out = append(out, a.AttemptedAt.Sub(info.Attempts[0].AttemptedAt))
	}
	return out
}

// httpCodes are the receiver's answers; canceled attempts made no request.
// answered says what the receiver answered each attempt that made a
// request, naming what "no response" was: a refused connection, a timeout,
// or another error.
func answered(info sender.DeliveryInfo) string {
	var parts []string
	refused := ""
	for _, a := range info.Attempts {
		switch {
		case a.Status == bullseye.StatusCanceled:
			continue
		case a.StatusCode != 0:
			parts = append(parts, strconv.Itoa(a.StatusCode))
		case strings.Contains(a.Error, "connection refused"):
			parts, refused = append(parts, "connection refused"), a.URL
		case strings.HasPrefix(a.Error, "timeout"):
			parts = append(parts, "timeout")
		case a.Error != "":
			parts = append(parts, "no response ("+a.Error+")")
		default:
			parts = append(parts, "no response")
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	out := strings.Join(parts, ", ")
	if refused != "" {
		out += " (nothing listens at " + refused + ")"
	}
	return out
}

func httpCodes(info sender.DeliveryInfo) []int {
	var out []int
	for _, a := range info.Attempts {
		if a.Status != bullseye.StatusCanceled {
			out = append(out, a.StatusCode)
		}
	}
	return out
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func matchAll(codes []int, want []Status) bool {
	if len(codes) != len(want) {
		return false
	}
	for i, c := range codes {
		if !want[i].match(c) {
			return false
		}
	}
	return true
}

func formatOffsets(ds []time.Duration) string {
	if len(ds) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = "+" + d.String()
	}
	return strings.Join(parts, ", ")
}

func formatStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

func formatCounts(c map[string]int) string {
	var parts []string
	for _, st := range states {
		if c[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", st, c[st]))
		}
	}
	for st, n := range c {
		if !contains(states, st) {
			parts = append(parts, fmt.Sprintf("%s %d", st, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// trafficDiffs judges the run's traffic so far against th, and keeps the
// report for the run's.
func (r *runner) trafficDiffs(th traffic.Thresholds) []string {
	rep := r.traffic.Report().Summary
	th.Judge(&rep)
	r.rep.Traffic = &rep
	var diffs []string
	for _, v := range rep.Thresholds {
		if !v.Pass {
			diffs = append(diffs, fmt.Sprintf("traffic: %s is %s, want %s %s", v.Metric, v.Actual, v.Op, v.Limit))
		}
	}
	return diffs
}
