// Command benchapi is the baseline of scripts/bench-api.sh: a bare net/http
// server that answers every request with the bytes of one file, so a load
// tool can compare the mock's GET /partner/webhooks with the least a Go
// server can do for the same response.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	file := flag.String("body", "", "file whose bytes every response carries")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(2)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "benchapi:", err)
	os.Exit(1)
}
