// Command benchrecv is the receiver of scripts/bench-send.sh: a bare
// net/http server on loopback that reads each request's body and answers
// 200, after an optional delay, so that `bullseye-mock send` and vegeta can
// be measured against the same end.
//
//	benchrecv [--addr 127.0.0.1:0] [--delay 5ms | --delay-dist 80%5ms,15%20ms,5%50ms] [--seed 1] [--dump DIR]
//
// The first line on stdout is the URL. --delay-dist is a mix of bands, each
// a share and a fixed delay (5ms) or a uniform range (2ms-8ms). Request i
// (in arrival order) takes the quantile u_i = frac(seed·√2 + i·φ⁻¹), a
// low-discrepancy sequence: over any n requests each band's share is exact
// to within a few /n, so two load tools see the same mix without sampling
// noise. --dump writes the first request's body (body.json) and headers
// (headers.txt) to DIR. On SIGINT/SIGTERM it prints the count of requests
// served to stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type band struct {
	upTo     float64 // cumulative share, 0..1
	from, to time.Duration
}

func parseDist(s string) ([]band, error) {
	var out []band
	total := 0.0
	for part := range strings.SplitSeq(s, ",") {
		share, delay, ok := strings.Cut(strings.TrimSpace(part), "%")
		if !ok {
			return nil, fmt.Errorf("%q: expected SHARE%%DELAY (90%%5ms) or SHARE%%FROM-TO", part)
		}
		p, err := strconv.ParseFloat(share, 64)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("%q: bad share", part)
		}
		lo, hi, ranged := strings.Cut(delay, "-")
		from, err := time.ParseDuration(lo)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", part, err)
		}
		to := from
		if ranged {
			if to, err = time.ParseDuration(hi); err != nil || to < from {
				return nil, fmt.Errorf("%q: bad range", part)
			}
		}
		total += p
		out = append(out, band{upTo: total, from: from, to: to})
	}
	if math.Abs(total-100) > 1e-9 {
		return nil, fmt.Errorf("shares add up to %g%%, not 100%%", total)
	}
	for i := range out {
		out[i].upTo /= 100
	}
	return out, nil
}

// delayAt maps a quantile u in [0,1) to a delay of the mix.
func delayAt(bands []band, u float64) time.Duration {
	i := sort.Search(len(bands), func(i int) bool { return u < bands[i].upTo })
	if i == len(bands) {
		i--
	}
	b := bands[i]
	lo := 0.0
	if i > 0 {
		lo = bands[i-1].upTo
	}
	within := (u - lo) / (b.upTo - lo)
	return b.from + time.Duration(within*float64(b.to-b.from))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	delay := flag.Duration("delay", 0, "fixed delay before each answer")
	dist := flag.String("delay-dist", "", "delay mix, e.g. 80%5ms,15%20ms,5%50ms or 90%2ms-8ms,10%50ms")
	seed := flag.Int64("seed", 1, "offset of the delay sequence")
	dump := flag.String("dump", "", "directory to write the first request's body.json and headers.txt to")
	flag.Parse()
	fail := func(err error) { fmt.Fprintln(os.Stderr, "benchrecv:", err); os.Exit(2) }

	var bands []band
	if *dist != "" {
		var err error
		if bands, err = parseDist(*dist); err != nil {
			fail(err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fail(err)
	}
	fmt.Printf("http://%s/hook\n", ln.Addr())

	const phi = 0.6180339887498949 // 1/golden ratio
	base := math.Mod(float64(*seed)*math.Sqrt2, 1)
	var served atomic.Int64
	var once sync.Once
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := served.Add(1) - 1
		if *dump != "" {
			once.Do(func() { writeDump(*dump, r, body) })
		}
		d := *delay
		if bands != nil {
			_, u := math.Modf(base + float64(n)*phi)
			d = delayAt(bands, u)
		}
		if d > 0 {
			time.Sleep(d)
		}
		w.WriteHeader(http.StatusOK)
	})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintf(os.Stderr, "benchrecv: served %d requests\n", served.Load())
		os.Exit(0)
	}()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fail(srv.Serve(ln))
}

func writeDump(dir string, r *http.Request, body []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "benchrecv:", err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, "body.json"), body, 0o644)
	var b strings.Builder
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "headers.txt"), []byte(b.String()), 0o644)
}
