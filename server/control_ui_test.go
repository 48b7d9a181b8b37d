package server_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser finds a Chromium to drive; the test is skipped without one
// (Debian: apt-get install chromium), so the suite still runs anywhere, and
// with -short (the fast tests).
func browser(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium in PATH; install Debian's chromium package to run the inspector test")
	return ""
}

// openInspector starts a headless Chromium on the inspector's page and
// returns a context for the test's actions, under a timeout; the browser
// is stopped when the test ends.
func openInspector(t *testing.T, exe, url string) context.Context {
	t.Helper()
	return openInspectorAt(t, exe, url, `#live[data-state="live"]`)
}

// openInspectorAt is openInspector, waiting for ready instead of the
// stream to be live.
func openInspectorAt(t *testing.T, exe, url, ready string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first action starts the browser; it must not run under a
	// timeout, which would stop the whole browser (see chromedp.Run).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	// An exception the page did not catch, or an error it logged, fails the
	// test, whatever it was doing: the checks below see only what they look
	// for. Read from before the page loads, reported when the test ends.
	var mu sync.Mutex
	var thrown []string
	mctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	messages := chromedp.Console(mctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == "error" && strings.HasPrefix(m.Text, "inspector:")) {
				mu.Lock()
				thrown = append(thrown, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
		for _, m := range thrown {
			t.Errorf("the page threw: %s", m)
		}
	})
	tctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(url), chromedp.WaitVisible(css(ready))); err != nil {
		t.Fatal(err)
	}
	return tctx
}

// until waits for a JavaScript condition, and says what it waited for
// when it does not come.
func until(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v; the page is at %s", js, err, pageState(ctx))
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%v; the page is at %s", err, pageState(ctx))
	}
}

// pageState says where a page is, for a failure's message: the route,
// the error it shows, and the stream's state.
func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + " (status: " + document.querySelector("#status").textContent + "; stream " + document.querySelector("#live").dataset.state + ")"`))
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return s
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(css(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// TestUIPartnerAPI drives the Partner API view: the journal of the app's
// requests, with rows that open on a click and stay open as the list
// refreshes, and the faults in force, removed from the page.
func TestUIPartnerAPI(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	// h.call sends the first partner's key as X-Partner-API-Key.
	put := h.call(t, "PUT", "/api/v1/partner/webhooks/identification", `{"enabled":true}`)
	h.must(t, 200, "GET", "/api/v1/partner/webhooks", "")
	fault := h.must(t, 201, "POST", "/_mock/faults",
		`{"method":"GET","path":"/api/v1/partner/billing","status":503,"times":1}`)["id"].(string)
	journal := h.must(t, 200, "GET", "/_mock/requests", "")["requests"].([]any)
	if len(journal) != 2 {
		t.Fatalf("journal holds %d requests, want 2", len(journal))
	}
	idOf := func(v any) string { return strconv.Itoa(int(v.(map[string]any)["id"].(float64))) }
	getID, putID := idOf(journal[0]), idOf(journal[1]) // newest first

	tctx := openInspector(t, exe, h.url+"/_mock/ui")
	putRow := `#r-rows tr.req[data-id="` + putID + `"]`
	putBody := `#r-rows tr.expand[data-for="` + putID + `"] pre.req-body`
	faultRow := `#f-rows tr[data-id="` + fault + `"]`
	if err := chromedp.Do(tctx,
		chromedp.Click(css(`#views [data-view="partner-api"]`)),
		chromedp.WaitVisible(css(`#api-view`)),
		chromedp.WaitVisible(css(putRow+`[data-method="PUT"][data-status="`+strconv.Itoa(put.status)+`"]`)),
		chromedp.WaitVisible(css(`#r-rows tr.req[data-id="`+getID+`"][data-method="GET"][data-status="200"]`)),
		chromedp.WaitVisible(css(faultRow+`[data-spent="false"] button.remove`)),
		chromedp.Click(css(putRow)),
		chromedp.WaitVisible(css(putBody)),
	); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(tctx, chromedp.Text(css(putBody)))
	if err != nil || !strings.Contains(body, `"enabled"`) {
		t.Fatalf("the PUT's body shows %q (%v), want it to hold \"enabled\"", body, err)
	}
	headers, err := chromedp.Run(tctx, chromedp.Text(css(`#r-rows tr.expand[data-for="`+putID+`"] pre.req-headers`)))
	if err != nil || !strings.Contains(headers, "X-Partner-Api-Key: ") || strings.Contains(headers, h.key) {
		t.Errorf("the PUT's headers show %q (%v), want the API key there, masked", headers, err)
	}

	// A request made now, which the fault answers, appears on a later
	// refresh: the PUT's row is still open then, and the fault is spent.
	billing := h.call(t, "GET", "/api/v1/partner/billing", "")
	if billing.status != 503 {
		t.Fatalf("GET billing = %d, want the fault's 503", billing.status)
	}
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(css(`#r-rows tr.req[data-method="GET"][data-status="503"]`)),
		chromedp.WaitVisible(css(faultRow+`[data-spent="true"]`)),
	); err != nil {
		t.Fatal(err)
	}
	open, err := chromedp.Run(tctx, chromedp.Poll[bool](`(() => {
		const body = document.querySelector(`+strconv.Quote(putBody)+`);
		return !!body && body.checkVisibility() && body.textContent.includes('"enabled"');
	})()`, chromedp.WithPollingTimeout(time.Second)))
	if err != nil || !open {
		t.Errorf("the PUT's row closed on a refresh (%v)", err)
	}
	faultCell, err := chromedp.Run(tctx, chromedp.Text(css(`#r-rows tr.req[data-status="503"] td.fault`)))
	if err != nil || strings.TrimSpace(faultCell) != fault {
		t.Errorf("the 503's fault column shows %q (%v), want %s", faultCell, err, fault)
	}
	fired, err := chromedp.Run(tctx, chromedp.Text(css(faultRow+` td:nth-child(8)`)))
	if err != nil || strings.TrimSpace(fired) != "1 / 1" {
		t.Errorf("the fault shows fired / matched %q (%v), want 1 / 1", fired, err)
	}

	// Remove the fault from the page: the list says there are none.
	if err := chromedp.Do(tctx,
		chromedp.Click(css(faultRow+` button.remove`)),
		chromedp.WaitVisible(css(`#f-empty`)),
		chromedp.WaitNotPresent(css(faultRow)),
	); err != nil {
		t.Fatal(err)
	}
	if left := h.must(t, 200, "GET", "/_mock/faults", "")["faults"].([]any); len(left) != 0 {
		t.Errorf("faults after Remove: %v, want none", left)
	}
}

func mustList(t *testing.T, h *harness) []any {
	t.Helper()
	return h.must(t, 200, "GET", "/_mock/deliveries?pageSize=100", "")["deliveries"].([]any)
}

// The traffic view shows the report and the mock's own plot, and follows
// traffic as it happens, without a reload.
func TestUITraffic(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	h.webhookToSink(t, "load", "s")
	h.emit(t, `{"type": "visitor.identified", "count": 3}`)
	h.settle(t)
	tctx := openInspector(t, exe, h.url+"/_mock/ui#traffic")
	shows := func(sel, want string) {
		t.Helper()
		js := `document.querySelector(` + strconv.Quote(sel) + `)?.textContent === ` + strconv.Quote(want)
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			got, _ := chromedp.Run(tctx, chromedp.Text(css(sel)))
			t.Fatalf("%s shows %q, want %q (%v)", sel, got, want, err)
		}
	}
	shows("#t-requests", "3")
	shows("#t-success", "100.00%")
	shows("#t-codes", "200: 3")
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(css(`#t-plot svg rect.rate-ok`)),
		chromedp.WaitVisible(css(`#t-plot svg rect.bin[data-count="3"]`)),
	); err != nil {
		t.Fatal(err)
	}
	h.emit(t, `{"type": "visitor.identified", "count": 2}`)
	shows("#t-requests", "5")
	if err := chromedp.Do(tctx, chromedp.WaitVisible(css(`#t-plot svg rect.bin[data-count="5"]`))); err != nil {
		t.Fatalf("the plot did not follow new traffic: %v", err)
	}
}

// On the vendor's schedule (attempts at 0, 1m, 6m and 36m) the attempts'
// points on the time axis stand well apart, the first two included.
func TestUITimelineReadsTheVendorsSchedule(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/down", `{"statuses": [503]}`)
	h.webhookToSink(t, "down", "s")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "2h"}`)
	tctx := openInspector(t, exe, h.url+"/_mock/ui")
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(css(`tr[data-id="`+id+`"][data-state="failed"]`)),
		chromedp.Click(css(`tr[data-id="`+id+`"]`)),
		chromedp.WaitVisible(css(`#timeline g.point[data-offset-ms="2160000"]`)),
	); err != nil {
		t.Fatal(err)
	}
	xs, err := chromedp.Run(tctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll("#timeline g.point circle")].map((c) => parseFloat(c.getAttribute("cx")))`))
	if err != nil || len(xs) != 4 {
		t.Fatalf("points at %v (%v), want four", xs, err)
	}
	for i := 1; i < len(xs); i++ {
		if gap := xs[i] - xs[i-1]; gap < 15 {
			t.Errorf("attempts %d and %d are %.1f%% apart on the axis (%v); want at least 15%%", i, i+1, gap, xs)
		}
	}
}
