package server_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// browser finds a Chromium to drive; the test is skipped without one
// (Debian: apt-get install chromium), so the suite still runs anywhere.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium in PATH; install Debian's chromium package to run the inspector test")
	return ""
}

func TestUIInspector(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := browser(t)
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/ui", `{"statuses": [500, 200]}`)
	h.webhookToSink(t, "ui", "whsec_ui")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser; it must not run under a
	// timeout, which would stop the whole browser (see chromedp.Run).
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+"/_mock/ui")); err != nil {
		t.Fatal(err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()

	row := `tr[data-id="` + id + `"]`
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// The page shows the delivery that was just sent, retrying, and its
	// attempts on the time axis with the next one scheduled.
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(css(row+`[data-state="retrying"]`)),
		chromedp.Click(css(row)),
		chromedp.WaitVisible(css(`#attempts li[data-attempt="1"][data-status="retrying"]`)),
		chromedp.WaitVisible(css(`#timeline g.point.next`)),
		// Redeliver: the sink answers 200 this time.
		chromedp.Click(css(`#redeliver`)),
		chromedp.WaitVisible(css(`#d-msg[data-new-id]`)),
	); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Run(tctx, chromedp.AttributeValue(css(`#d-msg`), "data-new-id"))
	if err != nil {
		t.Fatal(err)
	}
	newID := res.Value
	wctx, cancelW := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelW()
	d, _, err := h.m.Ops().Wait(wctx, newID, ops.Condition{})
	if err != nil || d.DuplicateOf != id || d.State != bullseye.StateDelivered {
		t.Fatalf("redelivery %q: duplicateOf %q, state %q, %v; want a delivered duplicate of %s", newID, d.DuplicateOf, d.State, err, id)
	}

	// The list updates on its own; moving the manual clock from the page
	// makes the original's retry, which the sink accepts.
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(css(`#advance:not([disabled])`)),
		chromedp.Click(css(`#advance`)),
		chromedp.WaitVisible(css(row+`[data-state="delivered"]`)),
	); err != nil {
		t.Fatal(err)
	}
	attempts, err := chromedp.Run(tctx, chromedp.Text(css(row+` td:nth-child(4)`)))
	if err != nil || strings.TrimSpace(attempts) != "2" {
		t.Errorf("row shows %q attempts (%v), want 2", attempts, err)
	}

	// Send a test event from the page.
	before := len(mustList(t, h))
	if err := chromedp.Do(tctx, chromedp.Click(css(`#send`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.querySelector("#msg").textContent.startsWith("sent ")`)); err != nil {
		t.Fatal(err)
	}
	if after := len(mustList(t, h)); after != before+1 {
		t.Errorf("deliveries %d -> %d after Send test event", before, after)
	}
}

func mustList(t *testing.T, h *harness) []any {
	t.Helper()
	return h.must(t, 200, "GET", "/_mock/deliveries?pageSize=100", "")["deliveries"].([]any)
}
