package auth

import (
	"errors"
	"slices"
	"strings"
)

// Set is an immutable set of granted permissions and wildcards. The zero
// Set allows nothing.
type Set struct {
	granted map[Permission]struct{}
}

// NewSet parses each permission with ParsePermission. It returns an error
// joining every invalid one (each wrapping ErrInvalidPermission).
func NewSet(perms ...string) (Set, error) {
	s := Set{granted: make(map[Permission]struct{}, len(perms))}
	var errs []error
	for _, raw := range perms {
		p, err := ParsePermission(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.granted[p] = struct{}{}
	}
	if len(errs) > 0 {
		return Set{}, errors.Join(errs...)
	}
	return s, nil
}

// FullSet returns a set holding the wildcard of every resource: it allows
// every permission. It is what an insecure (Config.Disabled) authenticator
// grants.
func FullSet() Set {
	s := Set{granted: map[Permission]struct{}{}}
	for _, r := range Resources() {
		s.granted[Permission(r+":*")] = struct{}{}
	}
	return s
}

// Allows reports whether the set grants p, exactly or through the
// wildcard of p's resource.
func (s Set) Allows(p Permission) bool {
	if _, ok := s.granted[p]; ok {
		return true
	}
	_, ok := s.granted[Permission(p.Resource()+":*")]
	return ok
}

// Len returns the number of granted permissions and wildcards.
func (s Set) Len() int { return len(s.granted) }

// Strings returns the granted permissions and wildcards, sorted.
func (s Set) Strings() []string {
	out := make([]string, 0, len(s.granted))
	for p := range s.granted {
		out = append(out, string(p))
	}
	slices.Sort(out)
	return out
}

// String returns the granted permissions, sorted and comma-separated, as
// the Lambda authorizer passes them on; NewSet(strings.Split(s, ",")...)
// reads it back.
func (s Set) String() string { return strings.Join(s.Strings(), ",") }
