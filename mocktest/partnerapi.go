package mocktest

import (
	"context"

	"github.com/bullseye-mock/bullseye-mock/journal"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// The helpers below test the app's side of the integration: what it sends
// the Partner API (the journal), how it copes when the API fails (faults),
// and keys with scopes or revoked. They are the control API's
// /_mock/requests, /_mock/faults and /_mock/keys, in process.

// AddKey gives the partner (k.PartnerID, else the server's) another API
// key and returns it; with no k.APIKey one is made from the seed.
func (s *Server) AddKey(k ops.Key) string {
	s.helper()
	if k.PartnerID == "" {
		k.PartnerID = s.PartnerID
	}
	out, err := s.Ops().AddKey(k)
	if err != nil {
		s.fail("add key: %v", err)
	}
	return out.Key
}

// RevokeKey revokes an API key: it gets 401 from then on.
func (s *Server) RevokeKey(apiKey string) {
	s.helper()
	if _, err := s.Ops().RevokeKey(apiKey); err != nil {
		s.fail("revoke key: %v", err)
	}
}

// AddAPIFault puts a fault on the Partner API in force and returns its id.
func (s *Server) AddAPIFault(f ops.APIFault) string {
	s.helper()
	out, err := s.Ops().AddAPIFault(f)
	if err != nil {
		s.fail("add Partner API fault: %v", err)
	}
	return out.ID
}

// Requests returns the journaled Partner API requests m selects, newest
// first (up to the journal's cap).
func (s *Server) Requests(m ops.RequestMatch) []journal.Entry {
	s.helper()
	list, _, err := s.Ops().Requests(m, 1, journal.MaxCap)
	if err != nil {
		s.fail("requests: %v", err)
	}
	return list
}

// WaitRequests blocks until at least n journaled requests match m and
// returns them, newest first; after DefaultWait it fails.
func (s *Server) WaitRequests(m ops.RequestMatch, n int) []journal.Entry {
	s.helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	res, err := s.Ops().WaitRequests(ctx, m, n, journal.MaxCap)
	if err != nil {
		s.fail("wait for requests: %v", err)
		return nil
	}
	if !res.Satisfied {
		v, _ := s.Ops().ExpectRequests(ops.RequestExpectation{RequestMatch: m, AtLeast: &n})
		s.fail("waited %s for %s", DefaultWait, v.Report)
	}
	return res.Requests
}

// ExpectRequests fails the test, saying what the journal holds instead,
// unless the expectation holds now; it reports whether it held.
func (s *Server) ExpectRequests(e ops.RequestExpectation) bool {
	s.helper()
	v, err := s.Ops().ExpectRequests(e)
	switch {
	case err != nil:
		s.fail("expect requests: %v", err)
		return false
	case !v.OK:
		s.errorf("expected %s", v.Report)
	}
	return v.OK
}
