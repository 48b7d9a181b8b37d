// Command receiver stands for your app in the compose example: at start it
// registers its webhook endpoint through the Partner API (the same call it
// would make to the real service), then accepts only deliveries whose
// X-Bullseye-Signature is the lowercase hex HMAC-SHA256 of the raw body under
// its secret. GET /stats counts what it accepted and rejected.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

var verified, rejected atomic.Int64

// validSignature checks the signature over the exact bytes received: parsing
// and re-encoding the JSON first would change them and break the check.
func validSignature(body []byte, signature string, secret []byte) bool {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

func webhook(secret []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if !validSignature(body, r.Header.Get("X-Bullseye-Signature"), secret) {
			rejected.Add(1)
			log.Printf("rejected a delivery with a bad signature")
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		verified.Add(1)
		log.Printf("verified delivery: %s", body)
		w.WriteHeader(http.StatusOK)
	}
}

// register points the Partner API's identification webhook at this app.
func register(api, key, url string, secret []byte) error {
	body, _ := json.Marshal(map[string]any{"url": url, "secret": string(secret), "enabled": true})
	req, err := http.NewRequest(http.MethodPut, api+"/partner/webhooks/identification", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Partner-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PUT webhook: %d %s", resp.StatusCode, msg)
	}
	return nil
}

func main() {
	secret := []byte(os.Getenv("WEBHOOK_SECRET"))
	http.HandleFunc("POST /webhooks/bullseye", webhook(secret))
	http.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int64{"verified": verified.Load(), "rejected": rejected.Load()})
	})
	if err := register(os.Getenv("BULLSEYE_API_URL"), os.Getenv("BULLSEYE_API_KEY"), os.Getenv("WEBHOOK_URL"), secret); err != nil {
		log.Fatalf("registering the webhook: %v", err)
	}
	log.Printf("webhook registered; listening on :9000")
	log.Fatal(http.ListenAndServe(":9000", nil))
}
