package sender

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// The benchmarks record the figures of docs/benchmarks-sender.md. They are
// not part of the normal test run (go test runs no benchmark without
// -bench); each is sized to finish in seconds. Reproduce with:
//
//	go test ./sender/ -run '^$' -bench . -benchtime 1x

// benchBody is a realistic visitor.identified payload (about 1.5 KiB).
func benchBodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"event_type":"visitor.identified","timestamp":"2025-01-15T10:30:00Z",`+
			`"organization_id":"7f0c7a52-8c41-4a4e-9a8e-3f5c2b8d9e%02d","session_id":"3b1f6d2e-0c9a-4f7b-8e5d-1a2b3c4d5e%02d",`+
			`"workspace":"Acme Inc","visitor":{"id":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c%02d","email":"john.doe%d@acme.com",`+
			`"personal_email":"john.doe@example.com","first_name":"John","last_name":"Doe","job_title":"CTO",`+
			`"phone":"+1234567890","location":"San Francisco, CA","photo_url":"https://example.com/photo.jpg",`+
			`"linkedin_url":"https://linkedin.com/in/johndoe","facebook_url":null,"twitter_url":null,`+
			`"address":"123 Main St","city":"San Francisco","state":"CA","postal_code":"94102","gender":null,`+
			`"age_range":null,"income_range":null,"net_worth":null,"homeowner":null,"married":null,"children":null,`+
			`"icp":"Enterprise Lead","icp_statuses":{},"persona_match":true,"created_at":"2025-01-10T08:00:00Z",`+
			`"last_seen_at":"2025-01-15T10:30:00Z"},"company":{"id":"c0ffee00-1234-4abc-8def-000000000001",`+
			`"name":"Acme Inc","domain":"acme.com","industry":"Technology","size":150,"employee_size_range":"101-500",`+
			`"revenue_range":"$10M-$50M","linkedin_url":"https://linkedin.com/company/acme","website_url":"https://acme.com",`+
			`"description":"Enterprise software company","logo_url":"https://example.com/logo.png",`+
			`"address":"456 Business Ave","city":"Austin","region":"Texas","postal_code":"78701"},`+
			`"session":{"created_at":"2025-01-15T10:25:00Z","landing_page":"https://acme.com/pricing",`+
			`"entry_page":"https://acme.com","exit_page":"https://acme.com/contact","referrer":"https://google.com",`+
			`"device_type":"desktop","first_visit":false,"utm_source":"google","utm_campaign":"brand","utm_medium":"cpc",`+
			`"country":"US","region":"California","city":"San Francisco","tracking_params":{}},`+
			`"page_views":[{"url":"https://acme.com/pricing","visited_at":"2025-01-15T10:25:00Z"}]}`, i%100, i%100, i%100, i)
	}
	return out
}

// newBenchReceiver is the loopback endpoint every contender posts to.
func newBenchReceiver(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv, &hits
}

// bare posts the bodies with plain net/http at the given concurrency. With
// sign false it sends one precomputed signature (no signing cost at all);
// with sign true it is a minimal signing sender: HMAC per body, nothing else.
func bare(url string, bodies [][]byte, sig string, conc int, sign bool) time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxIdleConns: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytesReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				if sign {
					req.Header.Set(bullseye.SignatureHeader, bullseye.Sign(testSecret, bodies[i]))
				} else {
					req.Header.Set(bullseye.SignatureHeader, sig)
				}
				resp, err := client.Do(req)
				if err != nil {
					panic(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

// byteReader avoids importing bytes for one reader; it is what
// bytes.NewReader does for a request body.
type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

// viaSender sends the bodies through a real-clock Sender (signed, logged)
// and waits until all are delivered.
func viaSender(b *testing.B, url string, bodies [][]byte, conc int) time.Duration {
	return viaSenderFeed(b, url, bodies, conc, nil)
}

// viaSenderFeed is viaSender telling f of every change.
func viaSenderFeed(b *testing.B, url string, bodies [][]byte, conc int, f *feed.Feed) time.Duration {
	return deliverAll(b, url, len(bodies), conc, f, func(i int) Delivery { return Delivery{Body: bodies[i]} })
}

// deliverAll sends n deliveries made by next (as p1's identification
// deliveries) through a new sender and returns how long until all were
// delivered, making them included.
func deliverAll(b *testing.B, url string, n, conc int, f *feed.Feed, next func(i int) Delivery) time.Duration {
	tg := &fakeTargets{}
	tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: url, Secret: testSecret, Enabled: true})
	s, err := New(Config{Targets: tg, Workers: conc, PerEndpoint: conc, Feed: f})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer s.Shutdown(context.Background())
	start := time.Now()
	for i := range n {
		d := next(i)
		d.PartnerID, d.Kind, d.EventType, d.OrganizationID = "p1", bullseye.KindIdentification, "visitor.identified", "org-1"
		if _, err := s.Send(d); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Settled(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if st := s.Stats(); st.Delivered != uint64(n) {
		b.Fatalf("delivered %d of %d", st.Delivered, n)
	}
	return elapsed
}

// BenchmarkRecipeThroughput is what building payloads at each attempt
// costs: deliveries per second through the sender of generated
// partner-dialect payloads held as recipes (built at the attempt, as the
// mock does), against the same payloads built at Send and held as bytes
// (as the mock did), and against bytes built beforehand (generation not
// counted), in paired rounds. Use -benchtime 15x or more.
func BenchmarkRecipeThroughput(b *testing.B) {
	const n, conc = 5_000, 64
	bt, err := fixtures.New(1).Batch(bullseye.EventVisitorIdentified, bullseye.DialectPartner, nil)
	if err != nil {
		b.Fatal(err)
	}
	recipes, bodies := make([]*fixtures.Recipe, n), make([][]byte, n)
	for i := range recipes {
		rc, err := bt.Recipe(fixtures.ExampleOrganization(), fixtures.ExampleTime().Add(time.Duration(i)*time.Second), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		recipes[i], bodies[i] = rc, rc.Build()
	}
	srv, _ := newBenchReceiver(b)
	viaSenderFeed(b, srv.URL, bodies[:1000], conc, feed.New(0))
	var rHeld, rAtSend, rRecipes, vsAtSend, vsHeld []float64
	for i := 0; b.Loop(); i++ {
		var held, atSend, built float64
		runs := []func(){
			func() { held = float64(n) / viaSenderFeed(b, srv.URL, bodies, conc, feed.New(0)).Seconds() },
			func() {
				atSend = float64(n) / deliverAll(b, srv.URL, n, conc, feed.New(0), func(i int) Delivery { return Delivery{Body: recipes[i].Build()} }).Seconds()
			},
			func() {
				built = float64(n) / deliverAll(b, srv.URL, n, conc, feed.New(0), func(i int) Delivery { return Delivery{Payload: recipes[i]} }).Seconds()
			},
		}
		for k := range runs {
			runs[(i+k)%len(runs)]()
		}
		rHeld, rAtSend, rRecipes = append(rHeld, held), append(rAtSend, atSend), append(rRecipes, built)
		vsAtSend, vsHeld = append(vsAtSend, built/atSend), append(vsHeld, built/held)
	}
	b.ReportMetric(median(rHeld), "prebuilt/s")
	b.ReportMetric(median(rAtSend), "built-at-send/s")
	b.ReportMetric(median(rRecipes), "recipes/s")
	b.ReportMetric(median(vsAtSend), "recipes/built-at-send")
	b.ReportMetric(median(vsHeld), "recipes/prebuilt")
	b.ReportMetric(0, "ns/op")
}

// countPacer lets vegeta fire n hits as fast as its workers allow.
type countPacer uint64

func (n countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(n)
}
func (countPacer) Rate(time.Duration) float64 { return 0 }

// viaVegeta fires the same bodies with vegeta at the same concurrency.
func viaVegeta(b *testing.B, url string, bodies [][]byte, sig string, conc int) time.Duration {
	targets := make([]vegeta.Target, len(bodies))
	for i, body := range bodies {
		targets[i] = vegeta.Target{Method: http.MethodPost, URL: url, Body: body,
			Header: http.Header{"Content-Type": {"application/json"}, bullseye.SignatureHeader: {sig}}}
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(conc)), vegeta.MaxWorkers(uint64(conc)),
		vegeta.Connections(conc), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow))
	start := time.Now()
	ok := 0
	for res := range atk.Attack(vegeta.NewStaticTargeter(targets...), countPacer(len(bodies)), 0, "bench") {
		if res.Code == http.StatusOK {
			ok++
		}
	}
	elapsed := time.Since(start)
	if ok != len(bodies) {
		b.Fatalf("vegeta: %d of %d ok", ok, len(bodies))
	}
	return elapsed
}

// BenchmarkThroughput compares, in one run and at one concurrency, the
// sender's delivery rate (signed, logged, scheduled) with bare net/http
// POSTs of the same bodies, with a minimal signing sender (bare plus an HMAC
// per body) and with vegeta. Each iteration is a round that runs the four
// back to back (rotating which goes first) over the same receiver, so the
// ratios are taken between runs a second apart: on a shared machine, load
// from other processes drifts, and pairing cancels much of it. Rates and
// ratios reported are medians over rounds, with the quartiles of the main
// ratio. Use -benchtime 15x or more.
func BenchmarkThroughput(b *testing.B) {
	for _, conc := range []int{16, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			const n = 5_000
			bodies := benchBodies(n)
			srv, _ := newBenchReceiver(b)
			sig := bullseye.Sign(testSecret, bodies[0])
			// Warm up connections and code paths once.
			bare(srv.URL, bodies[:1000], sig, conc, false)
			viaSender(b, srv.URL, bodies[:1000], conc)
			viaVegeta(b, srv.URL, bodies[:1000], sig, conc)
			var rBare, rSigned, rSender, rVegeta, vsBare, vsSigned, vsVegeta []float64
			for i := 0; b.Loop(); i++ {
				var tb, tg, ts, tv float64
				runs := []func(){
					func() { tb = float64(n) / bare(srv.URL, bodies, sig, conc, false).Seconds() },
					func() { tg = float64(n) / bare(srv.URL, bodies, sig, conc, true).Seconds() },
					func() { ts = float64(n) / viaSender(b, srv.URL, bodies, conc).Seconds() },
					func() { tv = float64(n) / viaVegeta(b, srv.URL, bodies, sig, conc).Seconds() },
				}
				for k := range runs {
					runs[(i+k)%len(runs)]()
				}
				rBare, rSigned, rSender, rVegeta = append(rBare, tb), append(rSigned, tg), append(rSender, ts), append(rVegeta, tv)
				vsBare, vsSigned, vsVegeta = append(vsBare, ts/tb), append(vsSigned, ts/tg), append(vsVegeta, ts/tv)
			}
			b.ReportMetric(median(rBare), "bare/s")
			b.ReportMetric(median(rSigned), "signing/s")
			b.ReportMetric(median(rSender), "sender/s")
			b.ReportMetric(median(rVegeta), "vegeta/s")
			b.ReportMetric(median(vsBare), "sender/bare")
			b.ReportMetric(quantile(vsBare, 0.25), "sender/bare-p25")
			b.ReportMetric(quantile(vsBare, 0.75), "sender/bare-p75")
			b.ReportMetric(median(vsSigned), "sender/signing")
			b.ReportMetric(median(vsVegeta), "sender/vegeta")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkWatchedThroughput is what watching costs: deliveries per second
// through the sender while a stream reads every change (the inspector open,
// or a watch), against the same sender with a feed nobody subscribed to,
// in paired rounds. Use -benchtime 15x or more.
func BenchmarkWatchedThroughput(b *testing.B) {
	const n, conc = 5_000, 64
	bodies := benchBodies(n)
	srv, _ := newBenchReceiver(b)
	viaSenderFeed(b, srv.URL, bodies[:1000], conc, feed.New(0))
	var ratios, rOff, rOn []float64
	for i := 0; b.Loop(); i++ {
		var off, on float64
		runs := []func(){
			func() { off = float64(n) / viaSenderFeed(b, srv.URL, bodies, conc, feed.New(0)).Seconds() },
			func() { on = float64(n) / watched(b, srv.URL, bodies, conc).Seconds() },
		}
		for k := range runs {
			runs[(i+k)%len(runs)]()
		}
		rOff, rOn, ratios = append(rOff, off), append(rOn, on), append(ratios, on/off)
	}
	b.ReportMetric(median(rOff), "unwatched/s")
	b.ReportMetric(median(rOn), "watched/s")
	b.ReportMetric(median(ratios), "watched/unwatched")
	b.ReportMetric(0, "ns/op")
}

// watched runs viaSenderFeed with a reader draining the feed as a stream
// does, until the sender is done.
func watched(b *testing.B, url string, bodies [][]byte, conc int) time.Duration {
	f := feed.New(0)
	release, err := f.Subscribe()
	if err != nil {
		b.Fatal(err)
	}
	defer release()
	done := make(chan struct{})
	read := make(chan int)
	go func() {
		buf, n, after := make([]feed.Event, 0, 4000), 0, f.Last()
		for {
			evs, _, wake := f.Read(after, buf)
			if len(evs) > 0 {
				after, n = evs[len(evs)-1].ID, n+len(evs)
				continue
			}
			select {
			case <-wake:
			case <-done:
				read <- n
				return
			}
		}
	}()
	d := viaSenderFeed(b, url, bodies, conc, f)
	close(done)
	if n := <-read; n < len(bodies) {
		b.Fatalf("the reader saw %d events for %d deliveries", n, len(bodies))
	}
	return d
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile is the nearest-rank q-quantile of xs (0 when empty).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[int(q*float64(len(s)-1)+0.5)]
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func benchSender(b *testing.B, clk clock.Clock, mod func(*Config)) (*Sender, *fakeTargets) {
	tg := &fakeTargets{}
	tg.set("p1", bullseye.KindIdentification, bullseye.Target{URL: "http://receiver.invalid/hook", Secret: testSecret, Enabled: true})
	cfg := Config{Clock: clk, Targets: tg, IDs: rand.NewChaCha8([32]byte{7}), Transport: okTransport{}}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s, tg
}

const million = 1_000_000

// BenchmarkSchedulerPending measures what the sender holds per pending
// delivery: record, index entry, heap entry and interned metadata, with the
// 64-byte payload copy subtracted. No HTTP: every delivery is due far in
// the future.
func BenchmarkSchedulerPending(b *testing.B) {
	body := make([]byte, 64) // exactly one 64-byte size class per copy
	for i := range body {
		body[i] = 'x'
	}
	for b.Loop() {
		before := heapAfterGC()
		s, _ := benchSender(b, clock.NewManual(t0), nil)
		far := t0.Add(24 * time.Hour)
		start := time.Now()
		for range million {
			if _, err := s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, EventType: "visitor.identified",
				OrganizationID: "org-1", Body: body, At: far}); err != nil {
				b.Fatal(err)
			}
		}
		sendRate := million / time.Since(start).Seconds()
		after := heapAfterGC()
		if st := s.Stats(); st.Scheduled != million {
			b.Fatalf("scheduled %d", st.Scheduled)
		}
		// A payload given as bytes costs its copy and the 16-byte string
		// header that boxes it in the Payload interface; the rest is the
		// scheduler's.
		per := (float64(after) - float64(before) - million*float64(len(body)+16)) / million
		b.ReportMetric(per, "B/pending")
		b.ReportMetric(sendRate, "sends/s")
		b.ReportMetric(0, "ns/op")
		runtime.KeepAlive(s)
	}
}

// BenchmarkSchedulerHandoff measures due attempts handed to workers per
// second with a million due at the same instant and workers that do
// nothing: the scheduler's heap pops, its lock and the channel to the
// workers, nothing else.
func BenchmarkSchedulerHandoff(b *testing.B) {
	for _, workers := range []int{4, DefaultWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			body := []byte(`{}`)
			for b.Loop() {
				clk := clock.NewManual(t0)
				s, _ := benchSender(b, clk, func(c *Config) { c.Workers = workers })
				var handed atomic.Int64
				done := make(chan struct{})
				s.handoff = func(*delivery) {
					if handed.Add(1) == million {
						close(done)
					}
				}
				at := t0.Add(time.Hour)
				for range million {
					s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: body, At: at})
				}
				s.Start()
				runtime.GC()
				start := time.Now()
				clk.Set(at)
				<-done
				elapsed := time.Since(start)
				b.ReportMetric(million/elapsed.Seconds(), "handoffs/s")
				b.ReportMetric(0, "ns/op")
				s.Shutdown(context.Background())
			}
		})
	}
}

// BenchmarkPipeline runs whole attempts (target lookup, signing, request
// building, logging, retention) against an in-process transport that
// answers 200 at once, so the figure is the sender's own ceiling.
func BenchmarkPipeline(b *testing.B) {
	bodies := benchBodies(100)
	const n = 200_000
	for b.Loop() {
		clk := clock.NewManual(t0)
		s, _ := benchSender(b, clk, func(c *Config) { c.Workers = 16 })
		s.Start()
		start := time.Now()
		for i := range n {
			s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: bodies[i%len(bodies)]})
		}
		if err := s.Settled(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(n/time.Since(start).Seconds(), "attempts/s")
		b.ReportMetric(0, "ns/op")
		s.Shutdown(context.Background())
	}
}

// BenchmarkMemoryAfterDelivered sends a million deliveries through whole
// attempts (in-process transport) and reports the heap held afterwards: it
// is bounded by the log cap and the delivery cap, not by the count. The
// heap is also sampled after the first 200,000 to show it is flat, and two
// log caps show it follows the cap.
func BenchmarkMemoryAfterDelivered(b *testing.B) {
	bodies := benchBodies(100)
	for _, logCap := range []int{10_000, DefaultLogCap} {
		b.Run(fmt.Sprintf("logcap=%d", logCap), func(b *testing.B) {
			for b.Loop() {
				before := heapAfterGC()
				s, _ := benchSender(b, clock.NewManual(t0), func(c *Config) { c.LogCap = logCap })
				s.Start()
				var at200k uint64
				for sent := 0; sent < million; {
					for range 10_000 {
						s.Send(Delivery{PartnerID: "p1", Kind: bullseye.KindIdentification, Body: bodies[sent%len(bodies)]})
						sent++
					}
					if err := s.Settled(context.Background()); err != nil {
						b.Fatal(err)
					}
					if sent == 200_000 {
						at200k = heapAfterGC() - before
					}
				}
				held := heapAfterGC() - before
				st := s.Stats()
				if st.Delivered != million || st.LogEntries != logCap {
					b.Fatalf("stats %+v", st)
				}
				b.ReportMetric(float64(held)/(1<<20), "MiB-held-1M")
				b.ReportMetric(float64(at200k)/(1<<20), "MiB-held-200k")
				b.ReportMetric(float64(st.Retained), "retained")
				b.ReportMetric(0, "ns/op")
				runtime.KeepAlive(s)
				s.Shutdown(context.Background())
			}
		})
	}
}
