package sender

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// Listings run newest first from the creation order, without sorting;
// forgotten deliveries are skipped and compacted away, and the totals stay
// right; a wait for all reports a summary.
func TestOrderListingsAndWaitAll(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.DeliveryCap = 10 })
	// Not newReceiver: its arrival queue holds 1000.
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rc.Close()
	h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
	h.tg.set("p2", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})

	// 3000 delivered (all but 10 forgotten, which compacts the order), then
	// 5 scheduled for later, of two partners.
	var delivered []string
	for range 3000 {
		delivered = append(delivered, h.send(t, Delivery{OrganizationID: "o"}))
	}
	h.idle(t)
	var later []string
	for i := range 5 {
		p := "p1"
		if i%2 == 1 {
			p = "p2"
		}
		later = append(later, h.send(t, Delivery{PartnerID: p, OrganizationID: "o", At: t0.Add(time.Hour)}))
	}
	h.s.mu.Lock()
	orderLen, holes := len(h.s.order), h.s.holes
	h.s.mu.Unlock()
	if orderLen > 1100 || holes > 1100 {
		t.Errorf("order holds %d (%d holes) for 15 known deliveries: not compacted", orderLen, holes)
	}
	list, total := h.s.Deliveries(DeliveryQuery{PageSize: 3})
	if total != 15 || len(list) != 3 || list[0].ID != later[4] || list[2].ID != later[2] {
		t.Errorf("newest page: total %d, %v", total, ids(list))
	}
	// The retained ten are the last to finish (workers run in parallel), listed
	// in creation order, newest first.
	list, total = h.s.Deliveries(DeliveryQuery{Page: 2, PageSize: 4, State: bullseye.StateDelivered})
	pos := map[string]int{}
	for i, id := range delivered {
		pos[id] = i
	}
	if total != 10 || len(list) != 4 {
		t.Errorf("delivered page 2: total %d, %v", total, ids(list))
	}
	for i := 1; i < len(list); i++ {
		if pos[list[i-1].ID] <= pos[list[i].ID] {
			t.Errorf("not newest first: %v", ids(list))
		}
	}
	if _, total := h.s.Deliveries(DeliveryQuery{PartnerID: "p2"}); total != 2 {
		t.Errorf("p2 total %d", total)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	waited, pending, shown := h.s.WaitAll(ctx, DeliveryQuery{PartnerID: "p1"}, 2)
	if waited != 3 || pending != 3 || len(shown) != 2 || shown[0] != later[0] {
		t.Errorf("wait-all = %d %d %v", waited, pending, shown)
	}
	h.clk.Advance(time.Hour)
	h.idle(t)
	waited, pending, shown = h.s.WaitAll(h.ctx, DeliveryQuery{}, 2)
	if waited != 0 || pending != 0 || len(shown) != 0 {
		t.Errorf("after delivery, wait-all = %d %d %v", waited, pending, shown)
	}
}

func ids(l []DeliveryInfo) []string {
	out := make([]string, len(l))
	for i, d := range l {
		out[i] = d.ID
	}
	return out
}
