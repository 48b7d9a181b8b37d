// Package bullseye is the vendor's contract as words and pure functions: the
// webhook kinds and event types, the payload dialects, delivery states and
// log statuses, organization statuses and tiers, the header names, signing,
// the signature faults, and the retry policy. It imports nothing of the
// project, so every other package (the store, the engine, the payload
// builders, the check battery, every surface) takes its vocabulary from here
// and no list is written twice.
package bullseye

import (
	"fmt"
	"strings"
	"time"
)

// APIPrefix is where the Partner API lives, as on the real service.
const APIPrefix = "/api/v1"

// Webhook kinds, as the Partner API names its two webhooks
// (PUT /partner/webhooks/identification and .../billing).
const (
	KindIdentification = "identification"
	KindBilling        = "billing"
)

// Kinds lists the webhook kinds, identification first.
func Kinds() []string { return []string{KindIdentification, KindBilling} }

// CheckKind refuses a webhook kind the vendor does not have, as a "type"
// filter or parameter names it.
func CheckKind(kind string) error {
	if kind != KindIdentification && kind != KindBilling {
		return fmt.Errorf("type must be one of %s, got %q", strings.Join(Kinds(), ", "), kind)
	}
	return nil
}

// Event types. EventVisitorIdentified is the vendor's; the billing events are
// the mock's own design (the vendor documents a billing webhook but no billing
// payload), see docs/fixtures.md.
const (
	EventVisitorIdentified   = "visitor.identified"
	EventCreditsAllocated    = "credits.allocated"
	EventCreditsLow          = "credits.low"
	EventCreditsExhausted    = "credits.exhausted"
	EventBillingPeriodClosed = "billing.period_closed"
)

// EventTypes lists every event type, identification first. It returns a
// fresh slice, so callers may modify it.
func EventTypes() []string {
	return []string{
		EventVisitorIdentified,
		EventCreditsAllocated,
		EventCreditsLow,
		EventCreditsExhausted,
		EventBillingPeriodClosed,
	}
}

// KindOf names the webhook an event type is delivered to. An unknown event
// type is an error, so a typo surfaces instead of going to a webhook.
func KindOf(eventType string) (string, error) {
	switch eventType {
	case EventVisitorIdentified:
		return KindIdentification, nil
	case EventCreditsAllocated, EventCreditsLow, EventCreditsExhausted, EventBillingPeriodClosed:
		return KindBilling, nil
	}
	return "", fmt.Errorf("unknown event type %q, expected one of %s", eventType, strings.Join(EventTypes(), ", "))
}

// Dialect selects which of the vendor's two documented payload shapes a
// webhook receives. The vendor documents both (the Partner API page and the
// Integrations page) without saying which one a partner webhook gets, so the
// mock lets each webhook or event choose.
type Dialect string

const (
	// DialectPartner is the full payload of the Partner API webhooks page,
	// keyed by "event_type". It is the default because partners configure
	// their webhooks through the Partner API.
	DialectPartner Dialect = "partner"
	// DialectIntegration is the short payload of the Integrations page, keyed
	// by "event".
	DialectIntegration Dialect = "integration"
)

// Dialects lists the dialects, the default first.
func Dialects() []string { return []string{string(DialectPartner), string(DialectIntegration)} }

// ParseDialect reads a dialect name as a user types it (flag, scenario file,
// control API). The empty string is the default, DialectPartner.
func ParseDialect(s string) (Dialect, error) {
	switch Dialect(strings.ToLower(strings.TrimSpace(s))) {
	case "", DialectPartner:
		return DialectPartner, nil
	case DialectIntegration:
		return DialectIntegration, nil
	}
	return "", fmt.Errorf("unknown dialect %q, expected %s or %s", s, DialectPartner, DialectIntegration)
}

// Delivery states, as the control API reports a delivery. The final states
// are the log's status words.
const (
	StateScheduled = "scheduled" // waiting for its first attempt
	StateRetrying  = "retrying"  // waiting for a retry
	StateReady     = "ready"     // due, waiting for a worker or an endpoint slot
	StateInFlight  = "in_flight"
	StateDelivered = StatusDelivered
	StateFailed    = StatusFailed
	StateCanceled  = StatusCanceled
)

// States lists every delivery state, pending ones first.
func States() []string {
	return []string{StateScheduled, StateRetrying, StateReady, StateInFlight, StateDelivered, StateFailed, StateCanceled}
}

// FinalState reports whether nothing more happens to a delivery in state.
func FinalState(state string) bool {
	return state == StateDelivered || state == StateFailed || state == StateCanceled
}

// Attempt statuses written to the delivery log (the vendor's log "status").
const (
	StatusDelivered = "delivered" // 2xx
	StatusRetrying  = "retrying"  // failed; another attempt is scheduled
	StatusFailed    = "failed"    // failed; no attempt is left
	StatusCanceled  = "canceled"  // a due retry dropped because the webhook was disabled or lost its URL
)

// Statuses lists the log statuses.
func Statuses() []string {
	return []string{StatusDelivered, StatusRetrying, StatusFailed, StatusCanceled}
}

// Organization statuses and tiers, as the vendor's Organizations page names them.
const (
	OrgActive    = "active"
	OrgCanceled  = "canceled"
	OrgSuspended = "suspended"
	TierTrial    = "trial"
	TierPaid     = "paid"
)

// OrgStatuses lists the organization statuses.
func OrgStatuses() []string { return []string{OrgActive, OrgCanceled, OrgSuspended} }

// Tiers lists the organization tiers.
func Tiers() []string { return []string{TierTrial, TierPaid} }

// Billing modes of the vendor's Billing page.
const (
	BillingCreditPool = "credit_pool"
	BillingExternal   = "external"
	BillingUsageBased = "usage_based"
)

// Header names. SignatureHeader is the vendor's; the other two are the
// mock's own (the vendor documents no such header): they let a test receiver
// correlate a request with the control API's delivery and attempt, and are
// named "Mock" so nobody mistakes them for the vendor's.
const (
	APIKeyHeader    = "X-Partner-API-Key"
	SignatureHeader = "X-Bullseye-Signature"
	DeliveryHeader  = "X-Bullseye-Mock-Delivery"
	AttemptHeader   = "X-Bullseye-Mock-Attempt"
)

// Organization is one of a partner's sub-organizations, with the fields of the
// vendor's Organizations page, plus Domain: the website the organization
// tracks, on which its visitors' page views happen.
type Organization struct {
	ID         string
	Name       string // the payload's "workspace"
	ExternalID string
	Status     string // OrgActive, OrgCanceled or OrgSuspended
	Tier       string // TierTrial or TierPaid
	Credits    int    // current allocation; billing events use it when > 0
	Metadata   map[string]string
	CreatedAt  time.Time
	Domain     string // e.g. "acme.com"; derived from Name when empty
}

// Target is a partner's webhook configuration for one kind, as the sender
// reads it: when a delivery is created (the secret) and before each attempt
// (the URL, enabled).
type Target struct {
	URL     string
	Secret  string
	Enabled bool
}
