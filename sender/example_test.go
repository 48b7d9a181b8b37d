package sender_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// The value matches Python's hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().
func ExampleSign() {
	fmt.Println(bullseye.Sign("whsec_your_webhook_secret", []byte(`{"event_type":"visitor.identified"}`)))
	// Output: 1fb0ca8f23add6dbda86b3574bc125c1bacdd0ff19773ed169a76a2e7ab3da70
}

type oneTarget bullseye.Target

func (t oneTarget) Target(string, string) (bullseye.Target, bool) { return bullseye.Target(t), true }

// A receiver that fails twice, replayed on a manual clock: the whole
// vendor schedule runs in microseconds and the log reads in mock time.
func Example() {
	failures := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failures > 0 {
			failures--
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()

	clk := clock.NewManual(time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC))
	s, _ := sender.New(sender.Config{
		Clock:   clk,
		Targets: oneTarget{URL: srv.URL, Secret: "whsec_x", Enabled: true},
		IDs:     rand.NewChaCha8([32]byte{}),
	})
	s.Start()
	defer s.Shutdown(context.Background())

	ctx := context.Background()
	s.Send(sender.Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: []byte(`{"session_id":"s1"}`)})
	for {
		s.Idle(ctx) // everything due now has happened
		next, ok := s.NextDue()
		if !ok {
			break
		}
		clk.Set(next) // jump to the next retry
	}
	logs, _ := s.Logs(sender.LogQuery{PartnerID: "p1"})
	for i := len(logs) - 1; i >= 0; i-- {
		a := logs[i]
		fmt.Println(a.Attempt, a.AttemptedAt.Format("15:04:05"), a.StatusCode, a.Status)
	}
	// Output:
	// 1 10:30:00 500 retrying
	// 2 10:31:00 500 retrying
	// 3 10:36:00 200 delivered
}
