// Command benchapi is the baseline of scripts/bench-api.sh: a bare net/http
// server that answers every request with the bytes of one file and the
// headers of another (as curl -D wrote them), so a load tool can compare
// the mock's GET /partner/webhooks with the least a Go server can do for
// the same response, headers included.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	file := flag.String("body", "", "file whose bytes every response carries")
	headerFile := flag.String("headers", "", "file of response headers (curl -D), set on every response but Date and Content-Length")
	flag.Parse()
	body, err := os.ReadFile(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(2)
	}
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	if *headerFile != "" {
		raw, err := os.ReadFile(*headerFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchapi:", err)
			os.Exit(2)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && !strings.HasPrefix(k, "HTTP/") && k != "Date" && k != "Content-Length" {
				header.Set(k, strings.TrimSpace(v))
			}
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(2)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "benchapi:", err)
	os.Exit(1)
}
