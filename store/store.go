// Package store keeps the partners' state in memory: API keys, webhook
// configurations and organizations. Handlers and the sender reach it only
// through its methods, so a persistent store could replace it later.
package store

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/google/uuid"
)

// Errors callers map to API errors.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Webhook is one partner's configuration of one webhook kind.
type Webhook struct {
	URL     string
	Secret  string
	Enabled bool
	Dialect bullseye.Dialect
}

// WebhookPatch is a partial update: nil fields keep their value.
type WebhookPatch struct {
	URL     *string
	Secret  *string
	Enabled *bool
	Dialect *bullseye.Dialect
}

// Partner is what one API key owns.
type Partner struct {
	ID  string
	Key string
}

// Key is one API key: the partner it authenticates and its scopes.
type Key struct {
	Key       string
	PartnerID string
	Scopes    []string // none: full access
	Primary   bool     // the key the partner was registered with
}

type apiKey struct {
	Key
	hash [32]byte
}

// MaxKeys bounds how many API keys the store holds, primary ones included.
const MaxKeys = 1000

type partner struct {
	Partner
	webhooks    map[string]Webhook
	orgs        []bullseye.Organization // in creation order
	allocations map[string]*Allocation  // by organization id
}

// Store is safe for concurrent use.
type Store struct {
	mu       sync.RWMutex
	partners []*partner
	byID     map[string]*partner
	keys     []*apiKey // every partner's keys, in the order they were added
}

// New returns an empty store.
func New() *Store { return &Store{byID: map[string]*partner{}} }

// partnerNamespace makes partner ids stable for a key across runs.
var partnerNamespace = uuid.MustParse("6f1d2a3c-9b0e-4c55-8a77-0c0ffee0b5e1")

// AddPartner registers an API key with full access and returns its
// partner. Adding a key twice returns the existing partner, and gives its
// key back if it was revoked: the setup makes the key work again.
func (s *Store) AddPartner(key string) (Partner, error) {
	if key == "" {
		return Partner{}, errors.New("an API key must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uuid.NewSHA1(partnerNamespace, []byte(key)).String()
	if p, ok := s.byID[id]; ok {
		if s.findKey(key) == nil {
			if err := s.addKey(Key{Key: key, PartnerID: id, Primary: true}); err != nil {
				return Partner{}, err
			}
		}
		return p.Partner, nil
	}
	if other := s.findKey(key); other != nil {
		return Partner{}, fmt.Errorf("API key %s is already a key of partner %s: %w", bullseye.MaskKey(key), other.PartnerID, ErrConflict)
	}
	if err := s.addKey(Key{Key: key, PartnerID: id, Primary: true}); err != nil {
		return Partner{}, err
	}
	p := &partner{
		Partner:  Partner{ID: id, Key: key},
		webhooks: map[string]Webhook{bullseye.KindIdentification: {}, bullseye.KindBilling: {}},
	}
	s.partners = append(s.partners, p)
	s.byID[id] = p
	return p.Partner, nil
}

// AddKey gives a partner one more API key with scopes (none: full access).
// A key can belong to one partner only; adding a key the partner has sets
// its scopes, so a setup run twice makes the same keys. A primary key
// keeps full access.
func (s *Store) AddKey(k Key) (Key, error) {
	if k.Key == "" {
		return Key{}, errors.New("an API key must not be empty")
	}
	for _, sc := range k.Scopes {
		if err := bullseye.CheckScope(sc); err != nil {
			return Key{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.partner(k.PartnerID); err != nil {
		return Key{}, err
	}
	if other := s.findKey(k.Key); other != nil {
		switch {
		case other.PartnerID != k.PartnerID:
			return Key{}, fmt.Errorf("API key %s belongs to another partner: %w", bullseye.MaskKey(k.Key), ErrConflict)
		case other.Primary:
			return Key{}, fmt.Errorf("API key %s is the partner's primary key and keeps full access: %w", bullseye.MaskKey(k.Key), ErrConflict)
		}
		other.Scopes = append([]string(nil), k.Scopes...)
		return other.Key, nil
	}
	k.Primary = false
	k.Scopes = append([]string(nil), k.Scopes...)
	if err := s.addKey(k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// addKey appends a key; the caller holds the lock and has checked it is new.
func (s *Store) addKey(k Key) error {
	if len(s.keys) >= MaxKeys {
		return fmt.Errorf("the mock holds at most %d API keys: %w", MaxKeys, ErrConflict)
	}
	s.keys = append(s.keys, &apiKey{Key: k, hash: sha256.Sum256([]byte(k.Key))})
	return nil
}

func (s *Store) findKey(key string) *apiKey {
	for _, k := range s.keys {
		if k.Key.Key == key {
			return k
		}
	}
	return nil
}

// RevokeKey removes an API key: requests carrying it get 401, like an
// unknown key. The partner and what it owns stay.
func (s *Store) RevokeKey(key string) (Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keys {
		if k.Key.Key == key {
			s.keys = append(s.keys[:i:i], s.keys[i+1:]...)
			return k.Key, nil
		}
	}
	return Key{}, fmt.Errorf("API key %s: %w", bullseye.MaskKey(key), ErrNotFound)
}

// Keys lists the keys in force, in the order they were added.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Key, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.Key
		out[i].Scopes = append([]string(nil), k.Scopes...)
	}
	return out
}

// Partners lists the partners in the order they were added.
func (s *Store) Partners() []Partner {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Partner, len(s.partners))
	for i, p := range s.partners {
		out[i] = p.Partner
	}
	return out
}

// Authenticate finds the partner owning key, and the key's scopes. It
// compares digests in constant time and always looks at every key, so
// timing tells nothing about which keys exist or how much of a guess was
// right. The scopes are shared: callers must not change them.
func (s *Store) Authenticate(key string) (Partner, Key, bool) {
	h := sha256.Sum256([]byte(key))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found *apiKey
	for _, k := range s.keys {
		if subtle.ConstantTimeCompare(h[:], k.hash[:]) == 1 {
			found = k
		}
	}
	if found == nil || key == "" {
		return Partner{}, Key{}, false
	}
	return s.byID[found.PartnerID].Partner, found.Key, true
}

func (s *Store) partner(id string) (*partner, error) {
	p, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("partner %q: %w", id, ErrNotFound)
	}
	return p, nil
}

// Webhook returns a partner's configuration of one kind.
func (s *Store) Webhook(partnerID, kind string) (Webhook, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, w, err := s.webhook(partnerID, kind)
	return w, err
}

// webhook finds a partner and its webhook of one kind; the caller holds the lock.
func (s *Store) webhook(partnerID, kind string) (*partner, Webhook, error) {
	p, err := s.partner(partnerID)
	if err != nil {
		return nil, Webhook{}, err
	}
	w, ok := p.webhooks[kind]
	if !ok {
		return nil, Webhook{}, fmt.Errorf("webhook type %q: %w", kind, ErrNotFound)
	}
	return p, w, nil
}

// UpdateWebhook applies a partial update and returns the result.
func (s *Store) UpdateWebhook(partnerID, kind string, patch WebhookPatch) (Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, w, err := s.webhook(partnerID, kind)
	if err != nil {
		return Webhook{}, err
	}
	if patch.URL != nil {
		w.URL = *patch.URL
	}
	if patch.Secret != nil {
		w.Secret = *patch.Secret
	}
	if patch.Enabled != nil {
		w.Enabled = *patch.Enabled
	}
	if patch.Dialect != nil {
		w.Dialect = *patch.Dialect
	}
	p.webhooks[kind] = w
	return w, nil
}

// OrganizationIDs lists a partner's organization ids in creation order.
func (s *Store) OrganizationIDs(partnerID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return nil
	}
	out := make([]string, len(p.orgs))
	for i, o := range p.orgs {
		out[i] = o.ID
	}
	return out
}

// Target implements sender.Targets.
func (s *Store) Target(partnerID, kind string) (bullseye.Target, bool) {
	w, err := s.Webhook(partnerID, kind)
	if err != nil {
		return bullseye.Target{}, false
	}
	return bullseye.Target{URL: w.URL, Secret: w.Secret, Enabled: w.Enabled}, true
}

// AddOrganization stores a new organization of a partner. Its id and
// externalId must be unique within the partner.
func (s *Store) AddOrganization(partnerID string, org bullseye.Organization) (bullseye.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return bullseye.Organization{}, err
	}
	if len(p.orgs) >= MaxOrganizations {
		return bullseye.Organization{}, fmt.Errorf("a partner holds at most %d organizations: %w", MaxOrganizations, ErrConflict)
	}
	for _, o := range p.orgs {
		if o.ID == org.ID {
			return bullseye.Organization{}, fmt.Errorf("organization id %q exists: %w", org.ID, ErrConflict)
		}
		if org.ExternalID != "" && o.ExternalID == org.ExternalID {
			return bullseye.Organization{}, fmt.Errorf("an organization with externalId %q exists: %w", org.ExternalID, ErrConflict)
		}
	}
	if err := p.checkPool(org.ID, org.Credits); err != nil {
		return bullseye.Organization{}, err
	}
	p.orgs = append(p.orgs, org)
	a := p.allocation(org.ID)
	a.CreditsAllocated, a.AllocatedAt = org.Credits, org.CreatedAt.UTC()
	return org, nil
}

// Organization returns one organization of a partner.
func (s *Store) Organization(partnerID, orgID string) (bullseye.Organization, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return bullseye.Organization{}, err
	}
	for _, o := range p.orgs {
		if o.ID == orgID {
			return o, nil
		}
	}
	return bullseye.Organization{}, fmt.Errorf("organization %q: %w", orgID, ErrNotFound)
}

// OrgFilter selects organizations; empty fields match all. Search matches a
// case-insensitive substring of the name or externalId.
type OrgFilter struct {
	Status     string
	Search     string
	ExternalID string
	Page       int // 1-based
	PageSize   int
}

// Organizations returns one page of a partner's organizations, newest
// first, and how many matched in all.
func (s *Store) Organizations(partnerID string, f OrgFilter) ([]bullseye.Organization, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return nil, 0, err
	}
	search := strings.ToLower(f.Search)
	var match []bullseye.Organization
	for i := len(p.orgs) - 1; i >= 0; i-- {
		o := p.orgs[i]
		switch {
		case f.Status != "" && o.Status != f.Status,
			f.ExternalID != "" && o.ExternalID != f.ExternalID,
			search != "" && !strings.Contains(strings.ToLower(o.Name), search) &&
				!strings.Contains(strings.ToLower(o.ExternalID), search):
			continue
		}
		match = append(match, o)
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].CreatedAt.After(match[j].CreatedAt) })
	return Page(match, f.Page, f.PageSize), len(match), nil
}

// Page cuts page (1-based) of size out of items.
func Page[T any](items []T, page, size int) []T {
	if page < 1 || size < 1 {
		return []T{}
	}
	start := (page - 1) * size
	if start >= len(items) || start < 0 {
		return []T{}
	}
	end := min(start+size, len(items))
	return items[start:end]
}

// MaxOrganizations bounds how many organizations one partner can hold.
const MaxOrganizations = 10000
