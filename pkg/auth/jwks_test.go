package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// jwksServer serves a settable JWKS and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys map[string]keyPair) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.serve(t, keys)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != 0 {
			w.WriteHeader(s.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve sets the keys served, by kid.
func (s *jwksServer) serve(t *testing.T, keys map[string]keyPair) {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range keys {
		pub := k.private.PublicKey
		set.Keys = append(set.Keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	s.setBody(b, 0)
}

func (s *jwksServer) setBody(b []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = b, status
}

func (s *jwksServer) fail(status int) { s.setBody(nil, status) }

func jwksAuth(t *testing.T, srv *jwksServer, clock *fakeClock, refresh time.Duration) *auth.Authenticator {
	t.Helper()
	return newAuth(t, auth.Config{JWT: &auth.JWTConfig{JWKSURL: srv.URL, Clock: clock.Now, JWKSRefresh: refresh, HTTPClient: srv.Client()}})
}

// tokenAt is a valid token at now signed by key with kid.
func tokenAt(t *testing.T, key keyPair, kid string, now time.Time) string {
	t.Helper()
	return sign(t, key, kid, jwt.MapClaims{
		"iss": auth.DefaultIssuer, "aud": auth.DefaultAudience, "sub": "svc",
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "permissions": []string{"tasks:read"},
	})
}

func authn(a *auth.Authenticator, token string) error {
	_, err := a.Authenticate(context.Background(), bearer(token))
	return err
}

func TestJWKSKeySelection(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"a": keyA(), "b": keyB()})
	clock := &fakeClock{now: t0}
	a := jwksAuth(t, srv, clock, 0)

	require.NoError(t, authn(a, tokenAt(t, keyA(), "a", t0)))
	require.NoError(t, authn(a, tokenAt(t, keyB(), "b", t0)))
	require.ErrorIs(t, authn(a, tokenAt(t, keyB(), "a", t0)), auth.ErrInvalidCredentials, "kid a, signed by b")
	require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "", t0)), auth.ErrInvalidCredentials, "no kid with two keys")
	require.EqualValues(t, 1, srv.fetches.Load(), "the set is cached")
}

func TestJWKSNoKidWithOneKey(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"only": keyA()})
	a := jwksAuth(t, srv, &fakeClock{now: t0}, 0)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "", t0)))
}

func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"k1": keyA()})
	clock := &fakeClock{now: t0}
	a := jwksAuth(t, srv, clock, 0)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))
	require.EqualValues(t, 1, srv.fetches.Load())

	// The issuer rotates to k2. Right after a fetch, an unknown kid does not
	// refetch (at most once a minute).
	srv.serve(t, map[string]keyPair{"k2": keyB()})
	clock.Advance(30 * time.Second)
	require.ErrorIs(t, authn(a, tokenAt(t, keyB(), "k2", clock.Now())), auth.ErrInvalidCredentials)
	require.EqualValues(t, 1, srv.fetches.Load())

	// A minute after the last fetch, the unknown kid refetches once.
	clock.Advance(31 * time.Second)
	require.NoError(t, authn(a, tokenAt(t, keyB(), "k2", clock.Now())))
	require.EqualValues(t, 2, srv.fetches.Load())

	// k1 is gone from the new set.
	require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())), auth.ErrInvalidCredentials)
	require.EqualValues(t, 2, srv.fetches.Load(), "no refetch within the minute")

	// Unknown kids do not hammer the server.
	for range 5 {
		require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "bogus", clock.Now())), auth.ErrInvalidCredentials)
	}
	require.EqualValues(t, 2, srv.fetches.Load())
}

func TestJWKSRefreshInterval(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"k1": keyA()})
	clock := &fakeClock{now: t0}
	a := jwksAuth(t, srv, clock, 10*time.Minute)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))
	clock.Advance(9 * time.Minute)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))
	require.EqualValues(t, 1, srv.fetches.Load())
	clock.Advance(2 * time.Minute)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))
	require.EqualValues(t, 2, srv.fetches.Load(), "refetched after the refresh interval")
}

func TestJWKSUnavailable(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, nil)
	srv.fail(http.StatusInternalServerError)
	clock := &fakeClock{now: t0}
	a := jwksAuth(t, srv, clock, 0)
	err := authn(a, tokenAt(t, keyA(), "k1", clock.Now()))
	require.ErrorIs(t, err, auth.ErrKeysUnavailable)
	require.NotErrorIs(t, err, auth.ErrInvalidCredentials)
	require.Equal(t, 503, auth.HTTPStatus(err))

	// Failures back off: an immediate retry does not refetch.
	require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())), auth.ErrKeysUnavailable)
	require.EqualValues(t, 1, srv.fetches.Load())

	// Once the server is back, the next request after the backoff succeeds.
	srv.serve(t, map[string]keyPair{"k1": keyA()})
	clock.Advance(6 * time.Second)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))
}

func TestJWKSStaleKeys(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"k1": keyA()})
	clock := &fakeClock{now: t0}
	a := newAuth(t, auth.Config{JWT: &auth.JWTConfig{JWKSURL: srv.URL, Clock: clock.Now, JWKSRefresh: time.Hour, JWKSMaxStale: 5 * time.Minute}})
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())))

	srv.fail(http.StatusBadGateway)
	clock.Advance(time.Hour + time.Minute)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())), "stale keys serve while refetching fails")
	clock.Advance(5 * time.Minute)
	require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "k1", clock.Now())), auth.ErrKeysUnavailable, "past the max staleness")
}

func TestJWKSBadSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{name: "not JSON", body: "<html>"},
		{name: "no keys", body: `{"keys":[]}`},
		{name: "only unusable keys", body: `{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"},{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newJWKSServer(t, nil)
			srv.setBody([]byte(tt.body), 0)
			a := jwksAuth(t, srv, &fakeClock{now: t0}, 0)
			require.ErrorIs(t, authn(a, tokenAt(t, keyA(), "e", t0)), auth.ErrKeysUnavailable)
		})
	}
}

func TestJWKSSkipsKeysForOtherUses(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, map[string]keyPair{"sig": keyA()})
	// Serve key B under "enc" with use=enc: it must not verify tokens.
	var set map[string][]map[string]string
	srv.mu.Lock()
	require.NoError(t, json.Unmarshal(srv.body, &set))
	srv.mu.Unlock()
	enc := map[string]string{}
	for k, v := range set["keys"][0] {
		enc[k] = v
	}
	pub := keyB().private.PublicKey
	enc["kid"], enc["use"] = "enc", "enc"
	enc["n"] = base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
	set["keys"] = append(set["keys"], enc)
	b, err := json.Marshal(set)
	require.NoError(t, err)
	srv.setBody(b, 0)

	a := jwksAuth(t, srv, &fakeClock{now: t0}, 0)
	require.NoError(t, authn(a, tokenAt(t, keyA(), "sig", t0)))
	require.ErrorIs(t, authn(a, tokenAt(t, keyB(), "enc", t0)), auth.ErrInvalidCredentials)
}

func TestPublicJWKSMatchesIssueToken(t *testing.T) {
	t.Parallel()
	body, err := auth.PublicJWKS(keyA().publicPEM, keyB().publicPEM)
	require.NoError(t, err)
	srv := newJWKSServer(t, nil)
	srv.setBody(body, 0)
	a := newAuth(t, auth.Config{JWT: &auth.JWTConfig{JWKSURL: srv.URL}})
	for _, k := range []keyPair{keyA(), keyB()} {
		tok, err := auth.IssueToken(k.privatePEM, "ops", []string{"dlq:*"}, time.Minute, "", "")
		require.NoError(t, err)
		p, err := a.Authenticate(context.Background(), bearer(tok))
		require.NoError(t, err, "the token's kid selects its key")
		require.Equal(t, "ops", p.Subject)
	}
}
