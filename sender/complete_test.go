package sender

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// An attempt succeeds only on a 2xx whose response arrives in full: a body
// cut off, one longer than BodyMax, or headers past HeaderMax fail it with
// an error that says so; a short or empty complete body succeeds.
func TestOnlyCompleteAnswersCount(t *testing.T) {
	cases := []struct {
		name    string
		handle  func(int, http.ResponseWriter, *http.Request)
		state   string
		errPart string
	}{
		{"short body", func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }, bullseye.StateDelivered, ""},
		{"empty body", status(204), bullseye.StateDelivered, ""},
		{"a body just under the cap", func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(strings.Repeat("x", BodyMax)))
		}, bullseye.StateDelivered, ""},
		{"dies mid-body", func(_ int, w http.ResponseWriter, _ *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + strings.Repeat("x", 2000))
			rw.Flush()
			conn.Close()
		}, bullseye.StateFailed, "response body cut off after 2000 bytes: unexpected EOF"},
		{"endless body", func(_ int, w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("x", 64<<10))
			for range (BodyMax / len(chunk)) + 2 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, bullseye.StateFailed, "response body is over 1048576 bytes"},
		{"endless headers", func(_ int, w http.ResponseWriter, _ *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			bw := bufio.NewWriter(rw)
			bw.WriteString("HTTP/1.1 200 OK\r\n")
			for range (HeaderMax / 32) + 10 {
				bw.WriteString("X-Filler: " + strings.Repeat("y", 30) + "\r\n")
			}
			bw.WriteString("\r\n")
			bw.Flush()
		}, bullseye.StateFailed, "headers exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *Config) { cfg.Policy = bullseye.Policy{Attempts: 1, Timeout: bullseye.DefaultTimeout} })
			rc := newReceiver(t, h.clk, c.handle)
			h.tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: rc.URL, Enabled: true})
			id := h.send(t, Delivery{OrganizationID: "org-1"})
			info := h.wait(t, id, func(i DeliveryInfo) bool {
				return i.State == bullseye.StateDelivered || i.State == bullseye.StateFailed
			})
			if info.State != c.state {
				t.Fatalf("state %s, want %s (%+v)", info.State, c.state, info.Attempts)
			}
			if got := info.Attempts[0].Error; !strings.Contains(got, c.errPart) {
				t.Errorf("error %q, want it to contain %q", got, c.errPart)
			}
		})
	}
}
