package mock_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
	"github.com/bullseye-mock/bullseye-mock/server"
)

func started(t *testing.T, cfg mock.Config) *mock.Mock {
	t.Helper()
	m, err := mock.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = m.Close(context.Background()) })
	return m
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return v
}

// A long-poll runs to its own timeout even past the server's general write
// timeout (two minutes in production; 50ms here, so the test is quick).
func TestLongPollOutlivesTheWriteTimeout(t *testing.T) {
	m := started(t, mock.Config{Clock: clock.NewManual(time.Unix(1e9, 0)), WriteTimeout: 50 * time.Millisecond})
	for _, path := range []string{
		"/_mock/requests/wait?method=DELETE&timeout=300ms",
		"/_mock/sink/x/requests?atLeast=1&timeout=300ms",
	} {
		v := getJSON(t, m.URL()+path)
		if v["timedOut"] != true || v["stopping"] != false {
			t.Errorf("%s = %v, want a timed-out answer", path, v)
		}
	}
}

// On shutdown, an open wait answers at once with what it has and says the
// mock is stopping, rather than holding the drain for its whole timeout.
// The handler is called directly: whether Stop comes before or after the
// wait begins, the answer is the same, so the test needs no ordering.
func TestStopAnswersOpenWaits(t *testing.T) {
	m := started(t, mock.Config{Clock: clock.NewManual(time.Unix(1e9, 0))})
	paths := []string{
		"/_mock/requests/wait?count=1&timeout=5m",
		"/_mock/sink/x/requests?atLeast=1&timeout=5m",
	}
	answers := make(chan *httptest.ResponseRecorder, len(paths))
	for _, p := range paths {
		go func() {
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			answers <- rec
		}()
	}
	m.Ops().Stop()
	for range paths {
		rec := <-answers
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v["stopping"] != true || v["timedOut"] != true {
			t.Errorf("wait answered %d %s, want stopping", rec.Code, rec.Body)
		}
	}
}

// Once shutdown begins no attempt starts: one that falls due during the
// drain stays pending, while the one in flight finishes.
func TestNoAttemptStartsAfterStop(t *testing.T) {
	entered, release := make(chan string, 4), make(chan struct{})
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- r.Header.Get(bullseye.DeliveryHeader)
		<-release
	}))
	defer rx.Close()
	clk := clock.NewManual(time.Unix(1e9, 0))
	m, err := mock.New(mock.Config{Clock: clk, Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	o := m.Ops()
	p := o.Partners()[0].ID
	on := true
	if err := o.SetWebhook(p, bullseye.KindIdentification, ops.Webhook{URL: &rx.URL, Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	first, err := o.Emit(ops.Send{Type: "visitor.identified"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Emit(ops.Send{Type: "visitor.identified", Delay: ops.D(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := <-entered; got != first.DeliveryIDs[0] {
		t.Fatalf("in flight: %s", got)
	}
	closed := make(chan int, 1)
	go func() {
		pending, _ := m.Close(context.Background())
		closed <- pending
	}()
	<-o.Stopped().Done()
	clk.Advance(10 * time.Second) // the second falls due during the drain, inside the first's 30s timeout
	close(release)
	if pending := <-closed; pending != 1 {
		list, _, _ := o.Deliveries(ops.Query{PageSize: 10})
		for _, d := range list {
			t.Logf("%s %s %d attempts", d.ID, d.State, len(d.Attempts))
		}
		t.Errorf("pending after shutdown = %d, want the delivery that fell due", pending)
	}
	select {
	case id := <-entered:
		t.Errorf("delivery %s was attempted after shutdown began", id)
	default:
	}
}

// Listening on every interface, the URL the mock gives (and the banner
// prints) is loopback, the address that works from where it runs.
func TestURLOfEveryInterface(t *testing.T) {
	m := started(t, mock.Config{Addr: "0.0.0.0:0", Clock: clock.NewManual(time.Unix(1e9, 0))})
	if !strings.HasPrefix(m.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %s", m.URL())
	}
	if v := getJSON(t, m.URL()+"/healthz"); v["status"] != "ok" {
		t.Errorf("healthz through the URL: %v", v)
	}
}

// A scenario's receiver is the sink's settings: every key the format takes
// is a key of server.SinkConfig, and a bad value is refused at its line.
func TestScenarioReceiverIsTheSinksGrammar(t *testing.T) {
	raw, err := os.ReadFile("../scenarios/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	sink := ops.JSONKeys(server.SinkConfig{})
	for k := range doc.Defs["receiver"].Properties {
		if !slices.Contains(sink, k) {
			t.Errorf("receiver key %q is not a key of server.SinkConfig %v", k, sink)
		}
	}
	s, err := scenarios.Parse("r.yaml", []byte("receiver: {statuses: [99]}\nsteps: [{send: {type: credits.low}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mock.RunScenario(context.Background(), s, scenarios.Options{}); err == nil || !strings.HasPrefix(err.Error(), "r.yaml:1:11: receiver: statuses[0] must be an HTTP status from 200 to 599") {
		t.Errorf("err = %v", err)
	}
}
