package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

func staticJWT(t *testing.T) *auth.Authenticator {
	t.Helper()
	return newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(t0)}})
}

// with returns claims() changed by f.
func with(f func(jwt.MapClaims)) jwt.MapClaims {
	c := claims()
	f(c)
	return c
}

func TestJWTAccepted(t *testing.T) {
	t.Parallel()
	a := staticJWT(t)
	tests := []struct {
		name   string
		claims jwt.MapClaims
		perms  string
	}{
		{name: "valid", claims: claims(), perms: "tasks:read"},
		{name: "audience in an array", claims: with(func(c jwt.MapClaims) { c["aud"] = []string{"other", auth.DefaultAudience} }), perms: "tasks:read"},
		{name: "wildcards", claims: with(func(c jwt.MapClaims) { c["permissions"] = []string{"tasks:*", "dlq:stats"} }), perms: "dlq:stats,tasks:*"},
		{name: "no permissions", claims: with(func(c jwt.MapClaims) { delete(c, "permissions") }), perms: ""},
		{name: "no nbf and iat", claims: with(func(c jwt.MapClaims) { delete(c, "nbf"); delete(c, "iat") }), perms: "tasks:read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := a.Authenticate(context.Background(), bearer(sign(t, keyA(), "any-kid", tt.claims)))
			require.NoError(t, err)
			require.Equal(t, "alice", p.Subject)
			require.Equal(t, auth.KindJWT, p.Kind)
			require.Equal(t, tt.perms, p.Permissions.String())
		})
	}
}

func TestJWTRejected(t *testing.T) {
	t.Parallel()
	a := staticJWT(t)
	valid := sign(t, keyA(), "", claims())
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		why   string // in the error
		token string
	}{
		{name: "expired", why: "token is expired", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["exp"] = t0.Add(-time.Second).Unix() }))},
		{name: "no exp", why: "exp claim is required", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "not yet valid", why: "not valid yet", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["nbf"] = t0.Add(time.Minute).Unix() }))},
		{name: "issued in the future", why: "used before issued", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["iat"] = t0.Add(time.Minute).Unix() }))},
		{name: "wrong issuer", why: "invalid issuer", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["iss"] = "someone-else" }))},
		{name: "no issuer", why: "iss claim is required", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { delete(c, "iss") }))},
		{name: "wrong audience", why: "invalid audience", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["aud"] = "other-api" }))},
		{name: "wrong audiences", why: "invalid audience", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }))},
		{name: "no audience", why: "aud claim is required", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { delete(c, "aud") }))},
		{name: "no subject", why: "no sub claim", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { delete(c, "sub") }))},
		{name: "global wildcard", why: "global wildcard", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"*"} }))},
		{name: "unknown permission", why: "unknown action", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"tasks:read", "tasks:delete"} }))},
		{name: "permissions not an array", why: "permissions", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = "tasks:read" }))},
		{name: "forged: signed by another key", why: "verification error", token: sign(t, keyB(), "", claims())},
		{name: "alg none", why: "signing method none is invalid", token: noneToken(t, claims())},
		{name: "alg none, signature kept", why: "signing method none is invalid", token: resign(t, parts, `{"alg":"none","typ":"JWT"}`, parts[2])},
		{name: "HS256 with the public key as secret", why: "signing method HS256 is invalid", token: hmacToken(t, jwt.SigningMethodHS256, []byte(keyA().publicPEM), claims())},
		{name: "HS512 with the public key as secret", why: "signing method HS512 is invalid", token: hmacToken(t, jwt.SigningMethodHS512, []byte(keyA().publicPEM), claims())},
		{name: "PS256 by the right key", why: "signing method PS256 is invalid", token: psToken(t, claims())},
		{name: "RS512 by the right key", why: "signing method RS512 is invalid", token: rs512Token(t, claims())},
		{name: "payload tampered", why: "verification error", token: parts[0] + "." + b64(`{"iss":"tasker-core","aud":"tasker-api","sub":"mallory","exp":9999999999,"permissions":["dlq:*"]}`) + "." + parts[2]},
		{name: "signature stripped", why: "signature is invalid", token: parts[0] + "." + parts[1] + "."},
		{name: "two segments", why: "malformed", token: parts[0] + "." + parts[1]},
		{name: "garbage", why: "malformed", token: "not-a-token"},
		{name: "too long", why: "longer than", token: strings.Repeat("a", auth.MaxTokenBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := a.Authenticate(context.Background(), bearer(tt.token))
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			require.ErrorContains(t, err, tt.why)
			require.Nil(t, p)
			require.Equal(t, 401, auth.HTTPStatus(err))
		})
	}
}

func TestJWTLeewayAndClaimsConfig(t *testing.T) {
	t.Parallel()
	expired := sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["exp"] = t0.Add(-10 * time.Second).Unix() }))
	a := newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(t0), Leeway: 30 * time.Second}})
	_, err := a.Authenticate(context.Background(), bearer(expired))
	require.NoError(t, err, "within the leeway")

	custom := newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(t0), Issuer: "idp", Audience: "tasker-prod"}})
	ok := sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["iss"] = "idp"; c["aud"] = "tasker-prod" }))
	_, err = custom.Authenticate(context.Background(), bearer(ok))
	require.NoError(t, err)
	_, err = custom.Authenticate(context.Background(), bearer(sign(t, keyA(), "", claims())))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "the defaults no longer apply")
}

func TestBearerHeaderForms(t *testing.T) {
	t.Parallel()
	a := staticJWT(t)
	tok := sign(t, keyA(), "", claims())
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER  " + tok} {
		_, err := a.Authenticate(context.Background(), map[string]string{"authorization": h})
		require.NoError(t, err, h[:8])
	}
	for _, h := range []string{"Bearer", "Bearer ", tok, "Token " + tok} {
		_, err := a.Authenticate(context.Background(), map[string]string{"authorization": h})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
}

func TestIssueToken(t *testing.T) {
	t.Parallel()
	a := newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM}})
	tok, err := auth.IssueToken(keyA().privatePEM, "ci-bot", []string{"tasks:*", "dlq:read"}, time.Hour, "", "")
	require.NoError(t, err)
	p, err := a.Authenticate(context.Background(), bearer(tok))
	require.NoError(t, err)
	require.Equal(t, "ci-bot", p.Subject)
	require.Equal(t, "dlq:read,tasks:*", p.Permissions.String())

	other, err := auth.IssueToken(keyA().privatePEM, "ci-bot", []string{"tasks:read"}, time.Hour, "other-issuer", "")
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), bearer(other))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)

	later := newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(time.Now().Add(2 * time.Hour))}})
	_, err = later.Authenticate(context.Background(), bearer(tok))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "expired after its ttl")

	earlier := newAuth(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(time.Now().Add(-time.Hour))}})
	_, err = earlier.Authenticate(context.Background(), bearer(tok))
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "not valid before it was issued")
}

func TestIssueTokenRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string
		subject string
		perms   []string
		ttl     time.Duration
		wantErr string
	}{
		{name: "global wildcard", key: keyA().privatePEM, subject: "s", perms: []string{"*"}, ttl: time.Hour, wantErr: "global wildcard"},
		{name: "unknown permission", key: keyA().privatePEM, subject: "s", perms: []string{"x:y"}, ttl: time.Hour, wantErr: "unknown resource"},
		{name: "no subject", key: keyA().privatePEM, perms: []string{"tasks:read"}, ttl: time.Hour, wantErr: "subject"},
		{name: "zero ttl", key: keyA().privatePEM, subject: "s", perms: []string{"tasks:read"}, wantErr: "ttl"},
		{name: "public key", key: keyA().publicPEM, subject: "s", perms: []string{"tasks:read"}, ttl: time.Hour, wantErr: "not a private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.IssueToken(tt.key, tt.subject, tt.perms, tt.ttl, "", "")
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// resign replaces the header of a token's parts.
func resign(t *testing.T, parts []string, header, sig string) string {
	t.Helper()
	return b64(header) + "." + parts[1] + "." + sig
}

func noneToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}

func hmacToken(t *testing.T, m jwt.SigningMethod, secret []byte, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(secret)
	require.NoError(t, err)
	return s
}

func psToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodPS256, c).SignedString(keyA().private)
	require.NoError(t, err)
	return s
}

func rs512Token(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS512, c).SignedString(keyA().private)
	require.NoError(t, err)
	return s
}
