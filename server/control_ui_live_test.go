package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// A delivery appears on the open page as it is made, and its attempts as
// they happen, without a reload; a panel the user opened stays open, the
// same element, while the attempts that follow arrive.
func TestUIDeliveryAppearsLive(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/ui", `{"statuses": [500, 200]}`)
	h.webhookToSink(t, "ui", "whsec_ui")
	tctx := openInspector(t, exe, h.url+"/_mock/ui")
	until(t, tctx, `!!document.querySelector("#rows tr.empty")`)
	do(t, tctx, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`)) // a navigation would clear it

	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	row := `#rows tr[data-id="` + id + `"]`
	do(t, tctx, chromedp.WaitVisible(css(row+`[data-state="retrying"]`)), chromedp.Click(css(row)),
		chromedp.WaitVisible(css(`#detail[data-id="`+id+`"] #attempts li[data-attempt="1"][data-status="retrying"]`)),
		chromedp.WaitVisible(css(`#timeline g.point.next`)),
		chromedp.Click(css(`#attempts li[data-attempt="1"] details[data-panel="headers"] summary`)),
		chromedp.Click(css(`#detail details[data-panel="payload"] summary`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#attempts li[data-attempt="1"]').mark = "kept"`))
	if got := text(t, tctx, `#attempts li[data-attempt="1"] .req-headers`); !strings.Contains(got, bullseye.SignatureHeader+": ") {
		t.Errorf("attempt 1's request headers: %q", got)
	}
	if got := text(t, tctx, `#payload`); !strings.Contains(got, `"event_type": "visitor.identified"`) {
		t.Errorf("payload panel: %q", got)
	}

	// The retry, a minute later in mock time, arrives while the panels
	// are open: they stay open, on the same element.
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "1m"}`)
	do(t, tctx, chromedp.WaitVisible(css(`#attempts li[data-attempt="2"][data-status="delivered"]`)),
		chromedp.WaitVisible(css(row+`[data-state="delivered"]`)))
	until(t, tctx, `(() => {
		const li = document.querySelector('#attempts li[data-attempt="1"]');
		return li.mark === "kept" && li.querySelector('details[data-panel="headers"]').open &&
			document.querySelector('#detail details[data-panel="payload"]').open && window.notReloaded === true;
	})()`)
	if got := text(t, tctx, row+` td:nth-child(4)`); got != "2" {
		t.Errorf("the row shows %q attempts, want 2", got)
	}

	// Copy as curl sends what the attempt sent: URL, signature, bytes.
	d := h.must(t, 200, "GET", "/_mock/deliveries/"+id, "")
	a2 := d["attempts"].([]any)[1].(map[string]any)
	sig := a2["requestHeaders"].(map[string]any)[bullseye.SignatureHeader].([]any)[0].(string)
	curl := text(t, tctx, `#attempts li[data-attempt="2"] pre.curl`)
	for _, want := range []string{"curl -sS -X POST '" + a2["url"].(string) + "'", "-H '" + bullseye.SignatureHeader + ": " + sig + "'", "--data-binary '{"} {
		if !strings.Contains(curl, want) {
			t.Errorf("curl lacks %q:\n%s", want, curl)
		}
	}
}

// Deep links open what they name; the manual clock's controls, redeliver
// and the test event work from the page.
func TestUIDeepLinksAndControls(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/down", `{"statuses": [503]}`)
	h.webhookToSink(t, "down", "s")
	failed := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "2h"}`)

	tctx := openInspector(t, exe, h.url+"/_mock/ui#/deliveries/"+failed)
	do(t, tctx, chromedp.WaitVisible(css(`#detail[data-id="`+failed+`"][data-state="failed"] #attempts li[data-attempt="4"]`)))
	if got := text(t, tctx, `#d-id`); got != failed {
		t.Errorf("the deep link opened %q, want %s", got, failed)
	}

	// Redeliver: the copy appears in the list as it is made.
	do(t, tctx, chromedp.Click(css(`#redeliver`)), chromedp.WaitVisible(css(`#d-msg[data-new-id] a`)))
	res, err := chromedp.Run(tctx, chromedp.AttributeValue(css(`#d-msg`), "data-new-id"))
	if err != nil {
		t.Fatal(err)
	}
	copyID := res.Value
	do(t, tctx, chromedp.WaitVisible(css(`#rows tr[data-id="`+copyID+`"]`)))
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d, _, err := h.m.Ops().Wait(wctx, copyID, ops.Condition{Attempts: 1}); err != nil || d.DuplicateOf != failed {
		t.Fatalf("redelivery %s: duplicateOf %q (%v)", copyID, d.DuplicateOf, err)
	}

	// The clock: the next attempt (the copy's retry, 1m on), then by 30s.
	until(t, tctx, `!document.querySelector("#advance").disabled`)
	do(t, tctx, chromedp.Click(css(`#advance`)))
	until(t, tctx, `document.querySelector("#msg").textContent === "advanced by 1m0s"`)
	do(t, tctx, chromedp.SetValue(css(`#advance-by`), "30s"), chromedp.Click(css(`#advance-go`)))
	until(t, tctx, `document.querySelector("#msg").textContent === "advanced by 30s"`)
	if now := h.must(t, 200, "GET", "/_mock/clock", "")["now"]; now != start.Add(2*time.Hour+90*time.Second).Format(time.RFC3339) {
		t.Errorf("the clock is at %v after the page's two moves", now)
	}
	if got := text(t, tctx, `#clock`); !strings.HasPrefix(got, start.Add(2*time.Hour+90*time.Second).Format("2006-01-02 15:04:05")) {
		t.Errorf("the page shows the clock at %q", got)
	}

	// A test event from the page, then the list filtered by a deep link.
	do(t, tctx, chromedp.Click(css(`#send`)))
	until(t, tctx, `document.querySelector("#msg").textContent.startsWith("sent ")`)
	do(t, tctx, chromedp.Navigate(h.url+"/_mock/ui#/deliveries?state=failed"), chromedp.WaitVisible(css(`#rows tr[data-id="`+failed+`"]`)))
	until(t, tctx, `[...document.querySelectorAll("#rows tr[data-id]")].every((tr) => tr.dataset.state === "failed")`)
	if v, _ := chromedp.Run(tctx, chromedp.Value(css(`#filters select[name="state"]`))); v != "failed" {
		t.Errorf("the state filter shows %q, want failed", v)
	}
	// By the URL an attempt went to: nothing went to sink/nowhere.
	do(t, tctx, chromedp.Navigate(h.url+"/_mock/ui#/deliveries?url=sink/nowhere"), chromedp.WaitVisible(css(`#rows tr.empty`)))
	if v, _ := chromedp.Run(tctx, chromedp.Value(css(`#filters input[name="url"]`))); v != "sink/nowhere" {
		t.Errorf("the URL filter shows %q", v)
	}
}

// The sinks view shows each request with its signature verdict, opens one
// by a click or a deep link and keeps it open as requests arrive; the log
// view shows the attempt log exactly as the vendor's endpoint returns it.
func TestUISinksAndLog(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, nil)
	h.must(t, 200, "PUT", "/_mock/sink/v", `{"secret": "whsec_v"}`)
	h.webhookToSink(t, "v", "whsec_v")
	h.emit(t, `{"type": "visitor.identified", "count": 2, "faults": [{"signature": "wrong_secret", "events": [2]}]}`)
	h.settle(t)

	tctx := openInspector(t, exe, h.url+"/_mock/ui#/sinks")
	do(t, tctx, chromedp.WaitVisible(css(`#s-rows tr[data-name="v"]`)))
	if got := text(t, tctx, `#s-rows tr[data-name="v"] td:nth-child(2)`); got != "2" {
		t.Errorf("sink v shows %q received, want 2", got)
	}
	do(t, tctx, chromedp.Click(css(`#s-rows tr[data-name="v"]`)),
		chromedp.WaitVisible(css(`#sr-rows tr.req[data-signature="valid"]`)),
		chromedp.WaitVisible(css(`#sr-rows tr.req[data-signature="invalid"]`)))
	// The two attempts run at once: either may have come first.
	bad, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('#sr-rows tr.req[data-signature="invalid"]').dataset.seq`))
	if err != nil {
		t.Fatal(err)
	}
	do(t, tctx, chromedp.Click(css(`#sr-rows tr.req[data-seq="`+bad+`"]`)),
		chromedp.WaitVisible(css(`#sr-rows tr.expand[data-for="`+bad+`"] pre.req-headers`)))
	if got := text(t, tctx, `#sr-rows tr.req[data-seq="`+bad+`"] td.sig`); !strings.HasPrefix(got, "invalid: ") {
		t.Errorf("the faulted request's verdict: %q", got)
	}
	h.emit(t, `{"type": "visitor.identified"}`)
	h.settle(t)
	do(t, tctx, chromedp.WaitVisible(css(`#sr-rows tr.req[data-seq="3"]`)))
	until(t, tctx, `!!document.querySelector('#sr-rows tr.expand[data-for="`+bad+`"]') && location.hash === "#/sinks/v/`+bad+`"`)
	// Open a second, then close both: each closes (the link follows).
	do(t, tctx, chromedp.Click(css(`#sr-rows tr.req[data-seq="3"]`)), chromedp.WaitVisible(css(`#sr-rows tr.expand[data-for="3"]`)),
		chromedp.Click(css(`#sr-rows tr.req[data-seq="3"]`)), chromedp.WaitNotPresent(css(`#sr-rows tr.expand[data-for="3"]`)),
		chromedp.Click(css(`#sr-rows tr.req[data-seq="`+bad+`"]`)), chromedp.WaitNotPresent(css(`#sr-rows tr.expand`)))
	until(t, tctx, `location.hash === "#/sinks/v"`)
	do(t, tctx, chromedp.Navigate(h.url+"/_mock/ui#/sinks/v/1"), chromedp.WaitVisible(css(`#sr-rows tr.expand[data-for="1"] pre.req-body`)))
	if got := text(t, tctx, `#sr-rows tr.expand[data-for="1"] pre.req-body`); !strings.Contains(got, `"event_type": "visitor.identified"`) {
		t.Errorf("request 1's body: %q", got)
	}

	// The attempt log, filtered by a deep link: the page's JSON is what the
	// Partner API answers the partner.
	partner := h.m.Partners()[0].ID
	do(t, tctx, chromedp.Navigate(h.url+"/_mock/ui#/log?partnerId="+partner+"&status=delivered"))
	until(t, tctx, `document.querySelectorAll("#l-rows tr[data-status]").length === 3`)
	shown, err := chromedp.Run(tctx, chromedp.TextContent(css(`#l-json`)))
	if err != nil {
		t.Fatal(err)
	}
	var page, vendor map[string]any
	_ = json.Unmarshal([]byte(shown), &page)
	_ = json.Unmarshal(h.apiCall(t, h.key, "GET", "/api/v1/partner/webhooks/logs?status=delivered&pageSize=50", "").body, &vendor)
	if page == nil || toJSON(page) != toJSON(vendor) {
		t.Errorf("the log page shows\n%s\nthe vendor's endpoint answers\n%s", toJSON(page), toJSON(vendor))
	}
	// A new attempt comes into the log as it happens.
	h.emit(t, `{"type": "visitor.identified"}`)
	h.settle(t)
	until(t, tctx, `document.querySelectorAll("#l-rows tr[data-status]").length === 4`)
	if v, _ := chromedp.Run(tctx, chromedp.Value(css(`#l-filters select[name="partnerId"]`))); v != partner {
		t.Errorf("the partner filter shows %q, want %s", v, partner)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// With a large store the first view is a page (it costs the page, not the
// store), and a burst of changes comes as page reads (a flood as lost
// notices), never a row per change: the page stays the page of 50, with the
// right total. BULLSEYE_MOCK_UI_STORE sets the size (docs/inspector.md
// records the figure at a million).
func TestUILargeStore(t *testing.T) {
	exe := browser(t)
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("BULLSEYE_MOCK_UI_STORE")); err == nil && v > 0 {
		n = v
	}
	h := newHarness(t, func(c *mock.Config) { c.MaxPending = max(n+10_000, mock.DefaultMaxPending) })
	h.webhookToSink(t, "big", "")
	for left := n; left > 0; left -= ops.MaxCount {
		c := min(left, ops.MaxCount)
		if _, err := h.m.Ops().Emit(ops.Send{Type: "visitor.identified", Count: ops.N(c), Delay: ops.D(time.Hour), Dialect: "integration"}); err != nil {
			t.Fatal(err)
		}
	}
	tctx := openInspector(t, exe, h.url+"/_mock/ui")
	until(t, tctx, `document.querySelectorAll("#rows tr[data-id]").length === 50`)
	total := func() string { return text(t, tctx, `#total`) }
	if want := strconv.Itoa(n) + " deliveries · page 1 of " + strconv.Itoa((n+49)/50); total() != want {
		t.Errorf("total %q, want %q", total(), want)
	}
	first, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.dataset.firstShownMs`))
	t.Logf("%d deliveries: first view shown %s ms after navigation", n, first)

	// 5,000 more while the page is open.
	if _, err := h.m.Ops().Emit(ops.Send{Type: "visitor.identified", Count: ops.N(5000), Delay: ops.D(time.Hour), Dialect: "integration"}); err != nil {
		t.Fatal(err)
	}
	until(t, tctx, `document.querySelector("#total").textContent.startsWith("`+strconv.Itoa(n+5000)+` deliveries")`)
	if rows, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll("#rows tr[data-id]").length`)); rows != 50 {
		t.Errorf("%d rows after the burst, want the page of 50", rows)
	}
}

// The screenshots in docs/inspector.md, made from a mock in a known state:
// scripts/screenshots.sh sets BULLSEYE_MOCK_SCREENSHOTS to docs/img; without
// it they go to a temporary directory, so the test still runs every view.
func TestUIScreenshots(t *testing.T) {
	exe := browser(t)
	dir := os.Getenv("BULLSEYE_MOCK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	h := newHarness(t, func(c *mock.Config) { c.Seed = 42 })
	h.must(t, 200, "PUT", "/_mock/sink/shop", `{"statuses": [503, 500, 200], "secret": "whsec_demo"}`)
	h.webhookToSink(t, "shop", "whsec_demo")
	ids := h.emit(t, `{"type": "visitor.identified"}`) // 503, then 500, then 200
	h.settle(t)
	h.must(t, 200, "POST", "/_mock/clock/advance", `{"by": "10m"}`)
	h.emit(t, `{"type": "visitor.identified", "count": 3, "faults": [{"signature": "wrong_secret", "events": [3]}]}`)
	h.emit(t, `{"type": "credits.low", "evenIfDisabled": true}`)
	h.settle(t)
	h.must(t, 200, "GET", "/api/v1/partner/webhooks", "")
	h.must(t, 200, "PUT", "/api/v1/partner/webhooks/identification", `{"enabled": true}`)
	h.must(t, 201, "POST", "/_mock/faults", `{"method": "GET", "path": "/api/v1/partner/billing", "status": 503, "times": 2}`)
	h.call(t, "GET", "/api/v1/partner/billing", "")

	tctx := openInspector(t, exe, h.url+"/_mock/ui")
	shots := []struct{ name, hash, ready string }{
		{"deliveries", "#/deliveries/" + ids[0], `#attempts li[data-attempt="3"][data-status="delivered"]`},
		{"log", "#/log", `#l-rows tr[data-status]`},
		{"sinks", "#/sinks/shop/1", `#sr-rows tr.expand[data-for="1"]`},
		{"partner-api", "#/partner-api", `#r-rows tr.req`},
		{"traffic", "#/traffic", `#t-plot svg`},
	}
	for _, s := range shots {
		do(t, tctx, chromedp.Navigate(h.url+"/_mock/ui"+s.hash), chromedp.WaitVisible(css(s.ready)))
		if s.name == "deliveries" {
			do(t, tctx, chromedp.Click(css(`#attempts li[data-attempt="1"] details[data-panel="headers"] summary`)))
		}
		png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "inspector-"+s.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Behind an admin token the page says what it needs, and goes live once the
// token is typed: the stream carries it in a header, as every call does.
func TestUIAdminToken(t *testing.T) {
	exe := browser(t)
	h := newHarness(t, func(c *mock.Config) { c.AdminToken = "s3cret" })
	h.webhookToSink(t, "tok", "")
	id := h.emit(t, `{"type": "visitor.identified"}`)[0]
	h.settle(t)
	tctx := openInspectorAt(t, exe, h.url+"/_mock/ui", `#live[data-state="offline"]`)
	until(t, tctx, `document.querySelector("#live").title.includes("missing admin token")`)
	do(t, tctx, chromedp.SendKeys(css(`#token`), "s3cret"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#token").dispatchEvent(new Event("change"))`),
		chromedp.WaitVisible(css(`#live[data-state="live"]`)), chromedp.WaitVisible(css(`#rows tr[data-id="`+id+`"]`)))
	h.emit(t, `{"type": "visitor.identified"}`)
	until(t, tctx, `document.querySelectorAll("#rows tr[data-id]").length === 2`)
}
