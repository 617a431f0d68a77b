package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tasker-go/tasker/pkg/auth"
)

// FuzzAuthenticateBearer feeds arbitrary Authorization headers to a JWT
// authenticator: it must never panic, and every failure must be a 401.
func FuzzAuthenticateBearer(f *testing.F) {
	a, err := auth.New(auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(t0)}})
	if err != nil {
		f.Fatal(err)
	}
	valid, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims()).SignedString(keyA().private)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"Bearer " + valid,
		"Bearer " + valid[:len(valid)-3],
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"Bearer eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
		"Bearer a.b.c",
		"Bearer ...",
		"bearer  x",
		"Basic Zm9vOmJhcg==",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		p, err := a.Authenticate(context.Background(), map[string]string{"authorization": header})
		if err == nil {
			if p == nil || p.Subject == "" || p.Kind != auth.KindJWT {
				t.Fatalf("accepted %q as %+v", header, p)
			}
			return
		}
		if !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("%q: %v is not a 401", header, err)
		}
	})
}

// FuzzParsePermission: never panics; whatever parses is in the vocabulary
// or a known resource's wildcard.
func FuzzParsePermission(f *testing.F) {
	for _, seed := range []string{"tasks:read", "tasks:*", "*", ":", "a:b:c", " dlq:stats ", "tasks:\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := auth.ParsePermission(s)
		if err != nil {
			return
		}
		set, err := auth.NewSet(string(p))
		if err != nil {
			t.Fatalf("%q parsed but does not build a set: %v", s, err)
		}
		if p.IsWildcard() {
			return
		}
		if !set.Allows(p) {
			t.Fatalf("set of %q does not allow it", p)
		}
		found := false
		for _, known := range auth.All() {
			found = found || known == p
		}
		if !found {
			t.Fatalf("%q parsed to %q, outside the vocabulary", s, p)
		}
	})
}
