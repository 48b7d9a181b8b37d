package mocktest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
	"github.com/bullseye-mock/bullseye-mock/server"
)

// A delivery that fails once and succeeds on its retry, one minute later
// in mock time, received by the built-in sink: the whole run takes
// milliseconds, and nothing sleeps.
func Example() {
	s, err := mocktest.StartServer() // in a test: s := mocktest.NewServer(t)
	if err != nil {
		panic(err)
	}
	defer s.Close()

	// The sink answers 500, then 200, and checks signatures with the secret.
	s.ConfigureSink("demo", server.SinkConfig{Secret: "whsec_test", Statuses: []int{500, 200}})
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("demo"), "whsec_test")

	id := s.Trigger("visitor.identified", 1)[0]
	d := s.Wait(id, ops.Condition{Attempts: 1})
	fmt.Println(d.State, d.Attempts[0].StatusCode)

	s.AdvanceToNextDue() // the retry, 1m later
	d = s.Wait(id, ops.Condition{})
	fmt.Println(d.State, len(d.Attempts), d.Attempts[1].AttemptedAt.Sub(d.Attempts[0].AttemptedAt))

	for _, r := range s.SinkRequests("demo") {
		fmt.Println(r.Attempt, r.Status, r.Signature)
	}
	// Output:
	// retrying 500
	// delivered 2 1m0s
	// 1 500 valid
	// 2 200 valid
}

// Advancing the manual clock replays the vendor's whole retry schedule
// (1m, 5m, 30m) in one call.
func ExampleServer_Advance() {
	s, err := mocktest.StartServer()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.ConfigureSink("down", server.SinkConfig{Statuses: []int{503}})
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("down"), "")

	id := s.Trigger("visitor.identified", 1)[0]
	s.Settle()
	s.Advance(time.Hour)
	d := s.Wait(id, ops.Condition{})
	for _, a := range d.Attempts {
		fmt.Println(a.Attempt.Attempt, a.AttemptedAt.Sub(mocktest.Start()), a.Status)
	}
	// Output:
	// 1 0s retrying
	// 2 1m0s retrying
	// 3 6m0s retrying
	// 4 36m0s failed
}

// The Partner API answers with the test server's key, as the real one does.
func ExampleServer_partnerAPI() {
	s, err := mocktest.StartServer()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/partner/webhooks", nil)
	req.Header.Set("X-Partner-API-Key", s.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output:
	// 200 {"identification":{"url":"","enabled":false,"hasSecret":false},"billing":{"url":"","enabled":false,"hasSecret":false}}
}

func TestNewServerHelpers(t *testing.T) {
	s := mocktest.NewServer(t, mocktest.WithSeed(5), mocktest.WithAPIKeys("k1", "k2"))
	if s.APIKey != "k1" || s.Clock == nil || !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("server = %+v", s)
	}
	s.ConfigureSink("t", server.SinkConfig{Secret: "sec"})
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("t"), "sec")
	ids := s.Trigger("visitor.identified", 3)
	for _, id := range ids {
		if d := s.Wait(id, ops.Condition{}); d.State != bullseye.StateDelivered {
			t.Errorf("delivery %s: %s", id, d.State)
		}
	}
	reqs := s.SinkRequests("t")
	if len(reqs) != 3 {
		t.Fatalf("sink got %d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if r.Signature != "valid" {
			t.Errorf("request %d: signature %s (%s)", r.Seq, r.Signature, r.SignatureError)
		}
	}
	if s.AdvanceToNextDue() {
		t.Error("AdvanceToNextDue moved with nothing scheduled")
	}
	if now := s.Advance(time.Minute); !now.Equal(mocktest.Start().Add(time.Minute)) {
		t.Errorf("Advance = %s", now)
	}
}

func TestNewServerScaled(t *testing.T) {
	s := mocktest.NewServer(t, mocktest.WithTimeScale(1000))
	if s.Clock != nil {
		t.Fatal("a scaled test server has a manual clock")
	}
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("scaled"), "")
	id := s.Trigger("visitor.identified", 1)[0]
	if d := s.Wait(id, ops.Condition{}); d.State != bullseye.StateDelivered {
		t.Fatalf("state = %s", d.State)
	}
}

// Watch reads the mock's changes as they happen, as GET /_mock/stream sends
// them; a failing test can print the inspector's link to the delivery.
func ExampleServer_Watch() {
	s, err := mocktest.StartServer()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("demo"), "")
	zero := time.Duration(0)
	st := s.Watch(ops.Watch{Events: []string{"attempt"}, Coalesce: &zero})
	defer st.Close()

	id := s.Trigger("visitor.identified", 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := st.Next(ctx)
	if err != nil {
		panic(err)
	}
	a := b.Events[0].Data.(sender.Attempt)
	fmt.Println(b.Events[0].Name, a.DeliveryID == id, a.Status, a.StatusCode)
	fmt.Println(strings.TrimPrefix(s.DeliveryURL(id), s.URL) == "/_mock/ui#/deliveries/"+id)
	// Output:
	// attempt true delivered 200
	// true
}
