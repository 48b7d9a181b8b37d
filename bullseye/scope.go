package bullseye

import (
	"fmt"
	"net/http"
	"strings"
)

// API key scopes, as the vendor's Authentication page names them. A key
// without scopes has full access.
const (
	ScopeRead  = "read"  // GET (and HEAD)
	ScopeWrite = "write" // PUT, POST, DELETE (and PATCH)
	ScopeAdmin = "admin" // everything
)

// Scopes lists the scopes a key can carry.
func Scopes() []string { return []string{ScopeRead, ScopeWrite, ScopeAdmin} }

// CheckScope says what is wrong with a scope name, or nil.
func CheckScope(s string) error {
	for _, k := range Scopes() {
		if s == k {
			return nil
		}
	}
	return fmt.Errorf("unknown scope %q, expected one of %s", s, strings.Join(Scopes(), ", "))
}

// RequiredScope is the scope a request of method needs: read for the
// methods that change nothing, write for the others.
func RequiredScope(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ScopeRead
	}
	return ScopeWrite
}

// ScopesAllow reports whether a key with scopes may make a request of
// method. The vendor lists write as PUT, POST and DELETE, without GET, so
// write does not imply read; admin and no scopes at all allow everything.
func ScopesAllow(scopes []string, method string) bool {
	if len(scopes) == 0 {
		return true
	}
	need := RequiredScope(method)
	for _, s := range scopes {
		if s == ScopeAdmin || s == need {
			return true
		}
	}
	return false
}

// MaskKey shows the end of an API key only, as journals, logs and
// messages print it.
func MaskKey(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return strings.Repeat("*", len(key)-4) + key[len(key)-4:]
}
