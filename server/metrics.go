package server

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bullseye-mock/bullseye-mock/sender"
)

// MetricsPath is where Prometheus scrapes the mock.
const MetricsPath = "/metrics"

// latencyBuckets are attempt latencies in seconds of mock time, around the
// vendor's 30 s timeout.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30}

// metricsCollector turns the sender's counters into metrics when scraped.
// Nothing is counted on the delivery path: the counters exist anyway, and
// the latency histogram is filled from the attempt log, scrape by scrape.
type metricsCollector struct {
	stats func() sender.Stats
	logs  LogReader

	deliveries, attempts, queue, retries, logEntries, evictions, sent, latency *prometheus.Desc

	mu      sync.Mutex // serialises scrapes: the histogram state below
	lastID  string     // newest log entry already observed
	written uint64     // entries ever written to the log at the last scrape
	buckets []uint64   // cumulative counts per latencyBuckets entry
	count   uint64
	sum     float64
}

func newMetricsCollector(stats func() sender.Stats, logs LogReader) *metricsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("bullseye_mock_"+name, help, labels, nil)
	}
	return &metricsCollector{
		stats:      stats,
		logs:       logs,
		sent:       d("deliveries_sent_total", "Deliveries accepted by the sender since start or the last reset."),
		deliveries: d("deliveries_total", "Deliveries that reached a final state, by outcome (delivered, failed, canceled).", "outcome"),
		attempts:   d("attempts_total", "HTTP attempts made, by outcome (success: 2xx; failure: anything else).", "outcome"),
		queue:      d("queue_depth", "Deliveries not final, by state (scheduled, retrying, ready, in_flight).", "state"),
		retries:    d("pending_retries", "Deliveries waiting for a retry."),
		logEntries: d("log_entries", "Entries in the bounded attempt log."),
		evictions:  d("log_evictions_total", "Attempt-log entries evicted because the log was full."),
		latency:    d("attempt_latency_seconds", "Latency of HTTP attempts in mock time, read from the attempt log at scrape time."),
		buckets:    make([]uint64, len(latencyBuckets)),
	}
}

func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sent, c.deliveries, c.attempts, c.queue, c.retries, c.logEntries, c.evictions, c.latency} {
		ch <- d
	}
}

func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter(c.sent, st.Sent)
	counter(c.deliveries, st.Delivered, sender.StateDelivered)
	counter(c.deliveries, st.Failed, sender.StateFailed)
	counter(c.deliveries, st.Canceled, sender.StateCanceled)
	counter(c.attempts, st.Attempts-min(st.FailedAttempts, st.Attempts), "success")
	counter(c.attempts, st.FailedAttempts, "failure")
	gauge(c.queue, st.Scheduled, sender.StateScheduled)
	gauge(c.queue, st.Retrying, sender.StateRetrying)
	gauge(c.queue, st.Ready, sender.StateReady)
	gauge(c.queue, st.InFlight, sender.StateInFlight)
	gauge(c.retries, st.Retrying)
	gauge(c.logEntries, st.LogEntries)
	counter(c.evictions, st.LogEvicted)
	ch <- c.histogram(st)
}

// histogram observes the log entries written since the last scrape. The log
// is newest first; it reads as many entries as were written since (plus a
// margin for those written meanwhile) and stops at the newest one seen
// before. Entries evicted between two scrapes are not observed: the
// histogram is a sample then, and log_evictions_total says so.
func (c *metricsCollector) histogram(st sender.Stats) prometheus.Metric {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := uint64(st.LogEntries) + st.LogEvicted
	fresh := uint64(st.LogEntries) // after a reset, every entry is new
	if written >= c.written {
		fresh = min(written-c.written, fresh)
	}
	c.written = written
	if c.logs != nil && fresh > 0 {
		entries, _ := c.logs.Logs(sender.LogQuery{AllPartners: true, Page: 1, PageSize: int(fresh) + 64})
		for _, e := range entries {
			if e.ID == c.lastID {
				break
			}
			if e.Status == sender.StatusCanceled {
				continue // no HTTP was made
			}
			sec := float64(e.ResponseTimeMs) / 1000
			c.count++
			c.sum += sec
			for i, b := range latencyBuckets {
				if sec <= b {
					c.buckets[i]++
				}
			}
		}
		if len(entries) > 0 {
			c.lastID = entries[0].ID
		}
	}
	b := make(map[float64]uint64, len(latencyBuckets))
	for i, le := range latencyBuckets {
		b[le] = c.buckets[i]
	}
	return prometheus.MustNewConstHistogram(c.latency, c.count, c.sum, b)
}

// metricsHandler serves a registry of the mock's own, not the global one,
// so that two mocks in one test process do not collide and nothing a
// user's program registers globally leaks into the mock's metrics.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newMetricsCollector(s.deliveries.Stats, s.logs),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
