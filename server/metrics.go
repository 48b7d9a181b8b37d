package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// MetricsPath is where Prometheus scrapes the mock.
const MetricsPath = "/metrics"

// metricsCollector turns the sender's counters into metrics when scraped.
// The sender keeps every counter, the latency histogram included, so a
// scrape costs one snapshot and the collector holds no state.
type metricsCollector struct {
	stats func() sender.Stats

	deliveries, attempts, queue, retries, logEntries, evictions, sent, latency *prometheus.Desc
}

func newMetricsCollector(stats func() sender.Stats) *metricsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("bullseye_mock_"+name, help, labels, nil)
	}
	return &metricsCollector{
		stats:      stats,
		sent:       d("deliveries_sent_total", "Deliveries accepted by the sender since start or the last reset."),
		deliveries: d("deliveries_total", "Deliveries that reached a final state, by outcome (delivered, failed, canceled).", "outcome"),
		attempts:   d("attempts_total", "HTTP attempts made, by outcome (success: 2xx; failure: anything else).", "outcome"),
		queue:      d("queue_depth", "Deliveries not final, by state (scheduled, retrying, ready, in_flight).", "state"),
		retries:    d("pending_retries", "Deliveries waiting for a retry."),
		logEntries: d("log_entries", "Entries in the bounded attempt log."),
		evictions:  d("log_evictions_total", "Attempt-log entries evicted because the log was full."),
		latency:    d("attempt_latency_seconds", "Latency of HTTP attempts in mock time."),
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
	counter(c.deliveries, st.Delivered, bullseye.StateDelivered)
	counter(c.deliveries, st.Failed, bullseye.StateFailed)
	counter(c.deliveries, st.Canceled, bullseye.StateCanceled)
	counter(c.attempts, st.Attempts-min(st.FailedAttempts, st.Attempts), "success")
	counter(c.attempts, st.FailedAttempts, "failure")
	gauge(c.queue, st.Scheduled, bullseye.StateScheduled)
	gauge(c.queue, st.Retrying, bullseye.StateRetrying)
	gauge(c.queue, st.Ready, bullseye.StateReady)
	gauge(c.queue, st.InFlight, bullseye.StateInFlight)
	gauge(c.retries, st.Retrying)
	gauge(c.logEntries, st.LogEntries)
	counter(c.evictions, st.LogEvicted)
	ch <- c.histogram(st)
}

// histogram is the sender's own latency histogram: counted as attempts
// finish, so it is exact whatever the log evicts, and a scrape reads no log.
func (c *metricsCollector) histogram(st sender.Stats) prometheus.Metric {
	b := make(map[float64]uint64, len(st.Latency.Bounds))
	for i, le := range st.Latency.Bounds {
		b[le] = st.Latency.Buckets[i]
	}
	return prometheus.MustNewConstHistogram(c.latency, st.Latency.Count, st.Latency.Sum, b)
}

// partnerAPICollector reports the journal of Partner API requests and the
// faults on it, read when scraped.
type partnerAPICollector struct {
	ops                                          *ops.Ops
	entries, evictions, faults, firings, streams *prometheus.Desc
}

func newPartnerAPICollector(o *ops.Ops) *partnerAPICollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("bullseye_mock_"+name, help, nil, nil)
	}
	return &partnerAPICollector{
		ops:       o,
		entries:   d("journal_entries", "Partner API requests held in the journal."),
		evictions: d("journal_evictions_total", "Journal entries evicted because the journal was full, since start or the last reset."),
		faults:    d("partner_api_faults", "Partner API faults held, spent ones included."),
		firings:   d("partner_api_fault_firings_total", "Partner API requests answered by a fault, since start or the last reset."),
		streams:   d("streams_open", "Change streams (GET /_mock/stream) open now."),
	}
}

func (c *partnerAPICollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.entries, c.evictions, c.faults, c.firings, c.streams} {
		ch <- d
	}
}

func (c *partnerAPICollector) Collect(ch chan<- prometheus.Metric) {
	st := c.ops.JournalStats()
	faults := c.ops.APIFaults()
	fired := c.ops.APIFaultFirings()
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Held))
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(st.Evicted))
	ch <- prometheus.MustNewConstMetric(c.faults, prometheus.GaugeValue, float64(len(faults)))
	ch <- prometheus.MustNewConstMetric(c.firings, prometheus.CounterValue, float64(fired))
	ch <- prometheus.MustNewConstMetric(c.streams, prometheus.GaugeValue, float64(c.ops.Feed().Readers()))
}

// metricsHandler serves a registry of the mock's own, not the global one,
// so that two mocks in one test process do not collide and nothing a
// user's program registers globally leaks into the mock's metrics.
func (s *controlAPI) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newMetricsCollector(s.ops.Stats),
		newPartnerAPICollector(s.ops),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
