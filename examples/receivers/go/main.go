// Command receiver is a Bullseye webhook receiver done the vendor's way, in
// the standard library only: it verifies the HMAC-SHA256 of the raw body
// with a constant-time comparison, answers 401 to a missing or wrong
// signature, acknowledges every valid event with 200 at once, and processes
// each session_id once even when the vendor delivers it twice.
//
//	BULLSEYE_WEBHOOK_SECRET=whsec_... go run ./examples/receivers/go [-addr 127.0.0.1:8000]
//
// It prints "listening on PORT" when ready (-addr 127.0.0.1:0 picks a port).
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "address to listen on")
	flag.Parse()
	secret := os.Getenv("BULLSEYE_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set BULLSEYE_WEBHOOK_SECRET to the webhook's secret")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %d\n", ln.Addr().(*net.TCPAddr).Port)
	srv := &http.Server{Handler: newHandler(secret, process), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// process is where the application's work goes. Keep it fast or hand it to
// a queue: the vendor retries anything not answered within 30 s.
func process(body []byte) { log.Printf("event: %d bytes", len(body)) }

func newHandler(secret string, process func([]byte)) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{} // a real receiver keeps this in its database
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The raw bytes, before any JSON parsing: the signature covers them.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		want := hex.EncodeToString(mac.Sum(nil))
		// hmac.Equal is constant-time; an absent header is "" and fails.
		if !hmac.Equal([]byte(r.Header.Get("X-Bullseye-Signature")), []byte(want)) {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			SessionID string `json:"session_id"` // identification events
			EventID   string `json:"event_id"`   // billing events
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "invalid JSON", http.StatusBadRequest)
			return
		}
		key := event.SessionID + event.EventID
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		mu.Unlock()
		if !dup {
			process(body)
		}
		// A duplicate is acknowledged too: a non-2xx would make the vendor retry it.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"duplicate":%t}`+"\n", dup)
	})
}
