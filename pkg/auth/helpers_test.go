package auth_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

// t0 is the test clock's now.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// keyPair is a generated RSA key pair in PEM and parsed form.
type keyPair struct {
	privatePEM, publicPEM string
	private               *rsa.PrivateKey
}

// Two key pairs shared by the tests: generating RSA keys is slow.
var (
	keyA = sync.OnceValue(func() keyPair { return mustKeyPair() })
	keyB = sync.OnceValue(func() keyPair { return mustKeyPair() })
)

func mustKeyPair() keyPair {
	priv, pub, err := auth.GenerateKeyPair()
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode([]byte(priv))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return keyPair{privatePEM: priv, publicPEM: pub, private: k.(*rsa.PrivateKey)}
}

// claims returns valid claims at t0 for subject "alice" with tasks:read.
func claims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":         auth.DefaultIssuer,
		"aud":         auth.DefaultAudience,
		"sub":         "alice",
		"iat":         t0.Add(-time.Minute).Unix(),
		"nbf":         t0.Add(-time.Minute).Unix(),
		"exp":         t0.Add(time.Hour).Unix(),
		"permissions": []string{"tasks:read"},
	}
}

// sign signs c with RS256 and key, setting kid when it is not empty.
func sign(t *testing.T, key keyPair, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key.private)
	require.NoError(t, err)
	return s
}

// newAuth builds an authenticator and fails t on error.
func newAuth(t *testing.T, cfg auth.Config) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(cfg)
	require.NoError(t, err)
	return a
}

func bearer(token string) map[string]string {
	return map[string]string{"authorization": "Bearer " + token}
}
