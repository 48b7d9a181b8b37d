package cli

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// One bad input, four surfaces, one message: the control API (400 with
// details.field), a scenario file (file:line:col), send (exit 2 and one
// line under the flag's name) and the in-process Go API all refuse it
// through ops, with the same words, and none of them creates a delivery.
func TestSurfacesRefuseTheSameInputAlike(t *testing.T) {
	s := mocktest.NewServer(t)
	s.SetWebhook(bullseye.KindIdentification, s.SinkURL("surfaces"), "whsec")
	faults := strings.Join(bullseye.FaultNames(), ", ")
	cases := []struct {
		name    string
		msg     string   // the one message
		field   string   // details.field of the control API
		body    string   // POST /_mock/events
		yaml    string   // a scenario's send step
		flags   []string // send's arguments
		goSend  ops.Send // the Go API
		yamlPos string   // where the scenario error points
	}{
		{
			name: "unknown fault", msg: `unknown signature fault "bogus", expected one of ` + faults, field: "faults[0].signature",
			body:  `{"type": "visitor.identified", "faults": [{"signature": "bogus"}]}`,
			yaml:  `{type: visitor.identified, faults: [{signature: bogus}]}`,
			flags: []string{"--fault", "bogus"}, goSend: ops.Send{Type: "visitor.identified", Faults: []ops.Fault{{Signature: "bogus"}}},
			yamlPos: "s.yaml:1:64",
		},
		{
			name: "negative count", msg: "count must be from 1 to 100000, got -1", field: "count",
			body:  `{"type": "visitor.identified", "count": -1}`,
			yaml:  `{type: visitor.identified, count: -1}`,
			flags: []string{"--count=-1"}, goSend: ops.Send{Type: "visitor.identified", Count: ops.N(-1)},
			yamlPos: "s.yaml:1:50",
		},
		{
			name: "zero timeout", msg: "timeout must be positive, got 0s", field: "policy.timeout",
			body:  `{"type": "visitor.identified", "policy": {"timeout": "0s"}}`,
			yaml:  `{type: visitor.identified, policy: {timeout: 0s}}`,
			flags: []string{"--timeout", "0s"}, goSend: ops.Send{Type: "visitor.identified", Policy: &ops.Policy{Timeout: ops.D(0)}},
			yamlPos: "s.yaml:1:61",
		},
		{
			name: "unknown event type", msg: `unknown event type "visitor.left", expected one of ` + strings.Join(bullseye.EventTypes(), ", "), field: "type",
			body:  `{"type": "visitor.left"}`,
			yaml:  `{type: visitor.left}`,
			flags: []string{"visitor.left"}, goSend: ops.Send{Type: "visitor.left"},
			yamlPos: "s.yaml:1:23",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The control API.
			resp, err := http.Post(s.URL+"/_mock/events", "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Code    string
				Message string
				Details map[string]any
			}
			if err := json.Unmarshal(raw, &e); err != nil || resp.StatusCode != 400 || e.Code != "BadRequest" {
				t.Fatalf("control API: %d %s", resp.StatusCode, raw)
			}
			if e.Message != c.msg || e.Details["field"] != c.field {
				t.Errorf("control API: %q (field %v)\nwant %q (field %s)", e.Message, e.Details["field"], c.msg, c.field)
			}

			// A scenario file.
			_, err = scenarios.Parse("s.yaml", []byte("steps: [{send: "+c.yaml+"}]\n"))
			if want := c.yamlPos + ": " + c.msg; err == nil || err.Error() != want {
				t.Errorf("scenario file: %v\nwant %s", err, want)
			}

			// send.
			args := append([]string{"send", "--url", "http://127.0.0.1:1/never"}, c.flags...)
			status, _, stderr := runCLI(t, args...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if status != ExitUsage || len(lines) != 1 || !strings.HasSuffix(lines[0], ": "+c.msg) {
				t.Errorf("send: exit %d, stderr %q\nwant one line ending in %q", status, stderr, c.msg)
			}

			// The Go API.
			_, err = s.Ops().Emit(c.goSend)
			var fe *ops.FieldError
			if !errors.As(err, &fe) || fe.Msg != c.msg || fe.Field != c.field {
				t.Errorf("Go API: %v (%T)\nwant %q at %s", err, err, c.msg, c.field)
			}
		})
	}
	if list, total, _ := s.Ops().Deliveries(ops.Query{}); total != 0 {
		t.Errorf("refused requests created %d deliveries: %+v", total, list)
	}
}
