// Command receiver is the webhook endpoint of the container tests: it runs in
// its own container next to the mock, checks each delivery's
// X-Bullseye-Signature the way a partner's app would, and lists what it got
// on GET /deliveries so that the test (outside the network) can read it
// through a published port.
//
// It is built on the host with CGO_ENABLED=0 and copied into a scratch image,
// so the tests need no base image. `receiver -healthcheck` is the image's
// HEALTHCHECK, as in the mock's image.
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
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// delivery is what the test learns about one POST.
type delivery struct {
	Path      string `json:"path"`
	Signature string `json:"signature"`
	Verified  bool   `json:"verified"`
	BodyBytes int    `json:"body_bytes"`
	EventType string `json:"event_type"`
	UserAgent string `json:"user_agent"`
}

type receiver struct {
	secret []byte
	mu     sync.Mutex
	got    []delivery
	// changed is closed and replaced on every delivery, so a long-poll on
	// GET /deliveries wakes without polling.
	changed chan struct{}
}

// verified reports whether sig is the lowercase hex HMAC-SHA256 of body under
// the secret: the vendor's scheme, compared in constant time. Uppercase hex
// is rejected because the vendor sends lowercase and the mock can fault it.
func (r *receiver) verified(body []byte, sig string) bool {
	mac := hmac.New(sha256.New, r.secret)
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

func (r *receiver) webhook(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := delivery{
		Path:      req.URL.Path,
		Signature: req.Header.Get("X-Bullseye-Signature"),
		BodyBytes: len(body),
		UserAgent: req.UserAgent(),
	}
	d.Verified = r.verified(body, d.Signature)
	// Both payload dialects name the event: event_type (full) or event (short).
	var head struct {
		EventType string `json:"event_type"`
		Event     string `json:"event"`
	}
	if json.Unmarshal(body, &head) == nil {
		d.EventType = head.EventType
		if d.EventType == "" {
			d.EventType = head.Event
		}
	}
	r.mu.Lock()
	r.got = append(r.got, d)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	log.Printf("delivery path=%s verified=%t event=%q bytes=%d", d.Path, d.Verified, d.EventType, d.BodyBytes)
	if !d.Verified {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deliveries lists what arrived. With ?atLeast=N it waits until N have,
// or ?timeout= (default 30s) passes, so the test outside waits on the
// receiver's own event instead of polling it.
func (r *receiver) deliveries(w http.ResponseWriter, req *http.Request) {
	atLeast, _ := strconv.Atoi(req.URL.Query().Get("atLeast"))
	timeout, err := time.ParseDuration(req.URL.Query().Get("timeout"))
	if err != nil || timeout <= 0 || timeout > time.Minute {
		timeout = 30 * time.Second
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, changed := append([]delivery{}, r.got...), r.changed
		r.mu.Unlock()
		if len(got) >= atLeast {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(got)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestTimeout)
			_ = json.NewEncoder(w).Encode(got)
			return
		case <-req.Context().Done():
			return
		}
	}
}

func main() {
	addr := flag.String("addr", ":9000", "listen address")
	healthcheck := flag.Bool("healthcheck", false, "exit 0 when the receiver on -addr answers, for HEALTHCHECK")
	flag.Parse()
	if *healthcheck {
		client := &http.Client{Timeout: 2 * time.Second}
		resp, err := client.Get("http://127.0.0.1" + *addr + "/deliveries")
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Fprintln(os.Stderr, "receiver: unhealthy:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	r := &receiver{secret: []byte(os.Getenv("RECEIVER_SECRET")), changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", r.webhook)
	mux.HandleFunc("GET /deliveries", r.deliveries)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("receiver listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
