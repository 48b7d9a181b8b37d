package mock

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

var epoch = time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)

// receiver answers a script of statuses (the last one repeats) and
// records what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	body      []byte
	signature string
	header    http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, received{body: body, signature: r.Header.Get("X-Bullseye-Signature"), header: r.Header.Clone()})
	status := rc.statuses[min(len(rc.got), len(rc.statuses))-1]
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func startMock(t *testing.T, cfg Config) *Mock {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := m.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

func call(t *testing.T, m *Mock, key, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Partner-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, v)
	}
	return v
}

// verify is the seed docs' Python verification, in Go.
func verify(body []byte, signature, secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(signature))
}

// TestRetriesEndToEnd drives the whole mock on a manual clock: the test
// webhook fails twice, succeeds on the third attempt at +1m+5m, and the
// Partner API's log shows each attempt, newest first, to its partner only.
func TestRetriesEndToEnd(t *testing.T) {
	clk := clock.NewManual(epoch)
	rc := &receiver{statuses: []int{500, 503, 200}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	m := startMock(t, Config{APIKeys: []string{"a", "b"}, Clock: clk, Seed: 3})

	call(t, m, "a", "PUT", "/partner/webhooks/identification", `{"url": "`+hook.URL+`/hook", "secret": "whsec_a", "enabled": true}`)
	call(t, m, "b", "PUT", "/partner/webhooks/identification", `{"url": "`+hook.URL+`/other", "secret": "whsec_b", "enabled": true}`)
	id := call(t, m, "a", "POST", "/partner/webhooks/test", `{"type": "identification"}`)["deliveryId"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for n, step := range []time.Duration{0, time.Minute, 5 * time.Minute} {
		clk.Advance(step)
		if _, err := m.sender.Wait(ctx, id, sender.HasAttempts(n+1)); err != nil {
			t.Fatalf("attempt %d: %v", n+1, err)
		}
	}
	info, err := m.sender.Wait(ctx, id, sender.IsFinal)
	if err != nil || info.State != bullseye.StatusDelivered {
		t.Fatalf("final state %q, %v", info.State, err)
	}

	if len(rc.got) != 3 {
		t.Fatalf("receiver got %d requests", len(rc.got))
	}
	for i, r := range rc.got {
		if !verify(r.body, r.signature, "whsec_a") {
			t.Errorf("attempt %d: signature %q does not verify", i+1, r.signature)
		}
		if string(r.body) != string(rc.got[0].body) || r.signature != rc.got[0].signature {
			t.Errorf("attempt %d sent other bytes or another signature", i+1)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
		}
	}
	var payload map[string]any
	if err := json.Unmarshal(rc.got[0].body, &payload); err != nil || payload["event_type"] != "visitor.identified" {
		t.Fatalf("payload %s: %v", rc.got[0].body, err)
	}
	org := payload["organization_id"].(string)
	if !contains(m.Partners()[0].OrganizationIDs, org) {
		t.Errorf("payload names organization %s, not one of partner a's %v", org, m.Partners()[0].OrganizationIDs)
	}

	logs := call(t, m, "a", "GET", "/partner/webhooks/logs", "")
	if logs["total"] != 3.0 {
		t.Fatalf("logs %v", logs)
	}
	entries := logs["logs"].([]any)
	wantStatus := []string{"delivered", "retrying", "retrying"}
	wantAt := []time.Time{epoch.Add(6 * time.Minute), epoch.Add(time.Minute), epoch}
	wantCode := []float64{200, 503, 500}
	for i, e := range entries {
		e := e.(map[string]any)
		at, _ := time.Parse(time.RFC3339, e["attemptedAt"].(string))
		if e["status"] != wantStatus[i] || !at.Equal(wantAt[i]) || e["statusCode"] != wantCode[i] ||
			e["organizationId"] != org || e["type"] != "identification" || e["deliveryId"] != id {
			t.Errorf("log entry %d: %v", i, e)
		}
	}
	for _, q := range []string{"?status=retrying", "?type=identification&status=delivered", "?organizationId=" + org} {
		want := map[string]float64{"?status=retrying": 2, "?type=identification&status=delivered": 1}[q]
		if want == 0 {
			want = 3
		}
		if got := call(t, m, "a", "GET", "/partner/webhooks/logs"+q, "")["total"]; got != want {
			t.Errorf("logs%s: total %v, want %v", q, got, want)
		}
	}
	if got := call(t, m, "a", "GET", "/partner/webhooks/logs?type=billing", "")["total"]; got != 0.0 {
		t.Errorf("billing logs: %v", got)
	}
	// Tenant isolation: partner b sees none of a's attempts.
	if got := call(t, m, "b", "GET", "/partner/webhooks/logs", "")["total"]; got != 0.0 {
		t.Errorf("partner b sees %v log entries", got)
	}
}

// TestSeedReproducesPayloads runs two mocks with one seed: the same
// sequence of test webhooks carries the same bytes.
func TestSeedReproducesPayloads(t *testing.T) {
	bodies := func(seed int64) []string {
		rc := &receiver{statuses: []int{204}}
		hook := httptest.NewServer(rc)
		defer hook.Close()
		clk := clock.NewManual(epoch)
		m := startMock(t, Config{Clock: clk, Seed: seed})
		call(t, m, DefaultAPIKey, "PUT", "/partner/webhooks/identification", `{"url": "`+hook.URL+`", "secret": "s", "enabled": true}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := 0; i < 3; i++ {
			id := call(t, m, DefaultAPIKey, "POST", "/partner/webhooks/test", `{"type": "identification"}`)["deliveryId"].(string)
			if _, err := m.sender.Wait(ctx, id, sender.IsFinal); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for _, r := range rc.got {
			out = append(out, string(r.body))
		}
		return out
	}
	a, b, c := bodies(11), bodies(11), bodies(12)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatal("the same seed gave different payloads")
	}
	if a[0] == c[0] {
		t.Fatal("different seeds gave the same payload")
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestPartialPolicyKept: a caller who sets only the delays keeps them; the
// other fields take the vendor's defaults.
func TestPartialPolicyKept(t *testing.T) {
	m, err := New(Config{Policy: bullseye.Policy{Delays: []time.Duration{time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Config().Policy
	if len(p.Delays) != 1 || p.Delays[0] != time.Second || p.Attempts != 4 || p.Timeout != 30*time.Second {
		t.Fatalf("policy %+v", p)
	}
}

// TestCreditAllocationAnnounced: PUT credits sends credits.allocated to the
// billing webhook with the allocation's real numbers, and identifications
// count against the organization's credits.
func TestCreditAllocationAnnounced(t *testing.T) {
	clk := clock.NewManual(epoch)
	rc := &receiver{statuses: []int{200}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	m := startMock(t, Config{Clock: clk})
	org := m.Partners()[0].OrganizationIDs[0]
	key := DefaultAPIKey
	call(t, m, key, "PUT", "/partner/webhooks/billing", `{"url": "`+hook.URL+`", "secret": "s", "enabled": true}`)
	call(t, m, key, "PUT", "/partner/webhooks/identification", `{"url": "`+hook.URL+`", "secret": "s", "enabled": true}`)
	out, err := m.ops.Emit(ops.Send{PartnerID: m.Partners()[0].ID, Type: "visitor.identified", Organization: org, Count: ops.N(2)})
	ids := out.DeliveryIDs
	if err != nil || len(ids) != 2 {
		t.Fatalf("emit: %v %v", ids, err)
	}
	a := call(t, m, key, "PUT", "/partner/organizations/"+org+"/credits", `{"credits": 750, "notes": "top-up"}`)["allocation"].(map[string]any)
	if a["creditsUsed"] != 2.0 || a["creditsAvailable"] != 748.0 {
		t.Fatalf("allocation %v", a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.sender.Settled(ctx); err != nil {
		t.Fatal(err)
	}
	var billing map[string]any
	for _, r := range rc.got {
		var v map[string]any
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatal(err)
		}
		if v["event_type"] == "credits.allocated" {
			billing = v
		}
	}
	if billing == nil {
		t.Fatal("no credits.allocated delivery")
	}
	al := billing["allocation"].(map[string]any)
	ch := billing["change"].(map[string]any)
	if billing["organization_id"] != org || al["credits_allocated"] != 750.0 || al["credits_used"] != 2.0 ||
		al["credits_available"] != 748.0 || al["id"] != a["id"] || ch["notes"] != "top-up" {
		t.Fatalf("payload %v", billing)
	}
}

// TestManyOrganizationsShareThePool: seeding more organizations than the
// credit pool covers starts anyway.
func TestManyOrganizationsShareThePool(t *testing.T) {
	m, err := New(Config{Organizations: 300})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Partners()[0].OrganizationIDs); n != 300 {
		t.Fatalf("%d organizations", n)
	}
}

// mock.New refuses what serve refuses, with Validate's message; zero
// values are the defaults.
func TestNewValidates(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Workers: -5}, "workers must be at least 1, got -5"},
		{Config{TimeScale: -1}, "time scale must be greater than 0"},
		{Config{TimeScale: 2e6}, "at most 1e+06"},
		{Config{LogCap: -1}, "log cap must be at least 1"},
		{Config{Policy: bullseye.Policy{Attempts: 101}}, "attempts must be from 1 to 100, got 101"},
		{Config{Dialect: "klingon"}, `unknown dialect "klingon"`},
		{Config{APIKeys: []string{" "}}, "an API key must not be empty"},
	} {
		_, err := New(c.cfg)
		var se *SettingError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want a SettingError with %q", c.cfg, err, c.want)
		}
	}
	if m, err := New(Config{}); err != nil || m.Config().Workers != DefaultWorkers {
		t.Errorf("the zero Config: %v", err)
	}
}

// Billing payloads name the store's allocation: its id, credits and usage
// agree with PUT .../credits and GET /partner/billing, whatever triggered
// the event (here POST /_mock/events's operation).
func TestBillingPayloadsNameTheStoresAllocation(t *testing.T) {
	clk := clock.NewManual(time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC))
	m := startMock(t, Config{Clock: clk})
	key, partner := DefaultAPIKey, m.Partners()[0].ID
	org := m.Partners()[0].OrganizationIDs[0]
	for _, kind := range bullseye.Kinds() {
		call(t, m, key, "PUT", "/partner/webhooks/"+kind, `{"url": "`+m.URL()+`/_mock/sink/billing", "enabled": true}`)
	}
	alloc := call(t, m, key, "PUT", "/partner/organizations/"+org+"/credits", `{"credits": 2000}`)["allocation"].(map[string]any)
	if _, err := m.ops.Emit(ops.Send{PartnerID: partner, Type: bullseye.EventVisitorIdentified, Organization: org, Count: ops.N(3)}); err != nil {
		t.Fatal(err)
	}
	for _, et := range []string{bullseye.EventCreditsLow, bullseye.EventCreditsExhausted, bullseye.EventBillingPeriodClosed, bullseye.EventCreditsAllocated} {
		out, err := m.ops.Emit(ops.Send{PartnerID: partner, Type: et, Organization: org})
		if err != nil {
			t.Fatal(err)
		}
		d, err := m.ops.Delivery(out.DeliveryIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		var p fixtures.Billing
		if err := json.Unmarshal(d.Body, &p); err != nil {
			t.Fatal(err)
		}
		a := p.Allocation
		if a.ID != alloc["id"] || a.CreditsAllocated != 2000 || a.CreditsUsed != 3 || a.CreditsAvailable != 1997 {
			t.Errorf("%s: allocation %+v; the API says %v and 3 used", et, a, alloc)
		}
		if at, _ := time.Parse(time.RFC3339, alloc["allocatedAt"].(string)); !a.AllocatedAt.Equal(at) {
			t.Errorf("%s: allocated_at %s, the API says %s", et, a.AllocatedAt, at)
		}
		switch {
		case p.Threshold != nil && p.Threshold.Percent != 20:
			t.Errorf("%s: threshold %+v, want the largest for a balance above them all", et, p.Threshold)
		case p.Usage != nil && p.Usage.CreditsUsed != 3:
			t.Errorf("%s: usage %+v", et, p.Usage)
		}
	}
}

// Partners is read from the store: an organization created through the
// Partner API is listed at once.
func TestPartnersAreCurrent(t *testing.T) {
	m := startMock(t, Config{Clock: clock.NewManual(time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC))})
	before := m.Partners()[0].OrganizationIDs
	created := call(t, m, DefaultAPIKey, "POST", "/partner/organizations", `{"name": "Fresh", "credits": 10}`)["organization"].(map[string]any)
	after := m.Partners()[0].OrganizationIDs
	if len(after) != len(before)+1 || after[len(after)-1] != created["id"] || after[0] != before[0] {
		t.Errorf("organizations %v, then %v; want %s added last", before, after, created["id"])
	}
}

// serve --scenario's files run under the registry: the control API lists
// them, and Close stops one that would never end.
func TestStartScenarioUnderTheRegistry(t *testing.T) {
	m, err := New(Config{Clock: clock.NewManual(time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse("forever.yaml", []byte("steps: [{every: {schedule: '@every 1s', steps: [{wait: 1s}]}}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.StartScenario(sc, scenarios.Options{LeaveClock: true}); err == nil || !strings.Contains(err.Error(), "forever.yaml:1:9: every") {
		t.Fatalf("an unbounded file without Unbounded: %v", err)
	}
	run, done, err := m.StartScenario(sc, scenarios.Options{LeaveClock: true, Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	if list := m.Runs().List(); len(list) != 1 || list[0].ID != run.ID || list[0].State != scenarios.RunRunning {
		t.Fatalf("runs %+v", list)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	if info, _, _ := m.Runs().Get(run.ID); info.State != scenarios.RunError {
		t.Errorf("after Close the run is %+v", info)
	}
}
