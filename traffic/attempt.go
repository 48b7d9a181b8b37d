// Package traffic measures webhook traffic the way load tools report it:
// requests, rates, success, status codes, error kinds, latency
// percentiles, starts that fell behind the schedule, and a time series;
// thresholds turn a report into a verdict, and Plot draws it as SVG.
//
// The sender hands every finished attempt to a Hub; each Recorder the hub
// feeds (the mock's running total, a scenario run's window) aggregates it
// in bounded memory, whatever the number of attempts. Times are mock time:
// at the default time scale of 1 that is wall time.
package traffic

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Attempt is one finished attempt as the sender saw it.
type Attempt struct {
	Due   time.Time     // when it was scheduled to start; zero: unknown
	Start time.Time     // when it started
	Took  time.Duration // until the outcome was known
	// Number is 1 for a first attempt, 2 and up for retries.
	Number     int
	StatusCode int    // 0: no response
	Error      string // an error kind (ErrorKind); "" when a response came in full
	OK         bool   // a complete 2xx answer: the delivery is delivered
	// Final is set when the attempt ended its delivery (delivered, or
	// failed with no retry left).
	Final bool
	// Canceled attempts made no HTTP request (webhook disabled or gone);
	// they count apart and in no latency.
	Canceled bool
}

// Errors the sender wraps so that ErrorKind can tell them apart.
var (
	ErrTooLarge = errors.New("response too large")
	ErrCutOff   = errors.New("response cut off")
)

// Error kinds, as reports count them.
const (
	KindTimeout  = "timeout"
	KindRefused  = "connection refused"
	KindReset    = "connection reset"
	KindCutOff   = "response cut off"
	KindTooLarge = "response too large"
	KindDNS      = "dns"
	KindTLS      = "tls"
	KindOther    = "other"
)

// ErrorKind names the kind of a failed attempt's error; "" for nil.
func ErrorKind(err error, timedOut bool) string {
	var dns *net.DNSError
	var cert x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	switch {
	case err == nil:
		return ""
	case timedOut:
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return KindReset
	case errors.Is(err, ErrTooLarge):
		return KindTooLarge
	case errors.Is(err, ErrCutOff), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return KindCutOff
	case errors.As(err, &dns):
		return KindDNS
	case errors.As(err, &cert), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &record):
		return KindTLS
	}
	return KindOther
}
