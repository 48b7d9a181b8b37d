package sender

import (
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

// Targets looks up the current webhook configuration. The store implements it.
type Targets interface {
	Target(partnerID, kind string) (bullseye.Target, bool)
}

// Delivery is one payload to deliver to a partner's webhook of a kind.
type Delivery struct {
	PartnerID      string
	Kind           string // KindIdentification or KindBilling
	EventType      string // e.g. "visitor.identified"
	OrganizationID string
	// Body is the payload, copied at Send; or Payload builds it at each
	// attempt (one of the two).
	Body        []byte
	Payload     Payload
	Fault       bullseye.Fault // signature fault; "" signs correctly
	At          time.Time      // mock time of the first attempt; zero means now
	DuplicateOf string         // id of the delivery this one repeats, for the log
	// Policy overrides the sender's retry policy for this delivery (a
	// scenario's schedule); its zero fields take DefaultPolicy's values.
	Policy *bullseye.Policy
	// ReplayAfter, when positive, sends a copy (the same bytes and
	// signature, DuplicateOf this one) that long after this delivery is
	// delivered, as the vendor may after an incident.
	ReplayAfter time.Duration
}

// Payload builds a delivery's body at each attempt: a generated payload
// held as the recipe it was drawn from (fixtures.Recipe), so that a million
// pending deliveries do not each hold kilobytes. Build must give the same
// bytes on every call and from any goroutine, in a new slice that nothing
// else keeps (the sender reads it without a copy). Size is what the
// pending-bytes budget counts it as.
type Payload interface {
	Build() []byte
	Size() int64
}

// literal is a payload given as bytes.
type literal string

func (l literal) Build() []byte { return []byte(l) }
func (l literal) Size() int64   { return int64(len(l)) }

// Attempt is one entry of the attempt log. The first seven fields are the
// vendor's documented log fields; the rest are the mock's own.
//
// Times are mock time: AttemptedAt is when the attempt started, and
// ResponseTimeMs is the mock time from then until the outcome was known. On
// a manual clock that is 0 unless the clock moved during the attempt (a
// timeout reads exactly the timeout, 30000); on a clock scaled by N it is
// N times the real latency. A canceled entry made no HTTP request: its
// StatusCode and ResponseTimeMs are 0 and Error says why. NextAttemptAt is
// set on "retrying" entries: the failure time plus the policy's delay.
type Attempt struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	OrganizationID string     `json:"organizationId"`
	Status         string     `json:"status"`
	StatusCode     int        `json:"statusCode"`
	AttemptedAt    time.Time  `json:"attemptedAt"`
	ResponseTimeMs int64      `json:"responseTimeMs"`
	DeliveryID     string     `json:"deliveryId"`
	Attempt        int        `json:"attempt"`
	EventType      string     `json:"eventType"`
	URL            string     `json:"url"`
	Error          string     `json:"error,omitempty"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt,omitempty"`
	PartnerID      string     `json:"-"`
}

// LogQuery selects a page of one partner's attempt log, newest first.
// Empty filters match everything. Page is 1-based.
type LogQuery struct {
	PartnerID      string
	Type           string
	Status         string
	OrganizationID string
	Page           int
	PageSize       int
	// AllPartners ignores PartnerID and reads every partner's entries. For
	// the control API only: the Partner API must always set PartnerID, and
	// an empty PartnerID without AllPartners matches nothing.
	AllPartners bool
}
