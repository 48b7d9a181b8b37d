package mock_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/bullseye-mock/bullseye-mock/mock"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// A scenario run from a Go test: the receiver under test answers 500 twice,
// then 200, and the whole retry schedule (six minutes of mock time) runs in
// milliseconds on the manual clock.
func ExampleRunScenario() {
	calls := 0
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++ // one delivery, so attempts never overlap
		if calls <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer receiver.Close()

	s, err := scenarios.Parse("flaky.yaml", []byte(`
name: flaky
steps:
  - send: {type: visitor.identified}
  - wait: settled
  - expect: {state: delivered, statuses: [500, 500, 200], offsets: [0s, 1m, 6m]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := mock.RunScenario(context.Background(), s, scenarios.Options{URL: receiver.URL, Secret: "whsec_test"})
	if err != nil {
		fmt.Println(err)
		return
	}
	scenarios.WriteText(os.Stdout, []*scenarios.Report{rep})
	// Output:
	// PASS flaky (flaky.yaml): 1 delivery, 6m0s of mock time
	//   ok    flaky.yaml:6:5 expect
	// 1 scenario: 1 passed, 0 failed
}
