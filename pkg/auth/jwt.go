package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenBytes bounds the size of a bearer token.
const MaxTokenBytes = 16 << 10

// minRSABits is the smallest RSA key accepted for signing or verifying.
const minRSABits = 2048

// tokenClaims are the claims Tasker reads.
type tokenClaims struct {
	jwt.RegisteredClaims
	Permissions []string `json:"permissions"`
}

// keySource returns the key that verifies a token with the given kid.
type keySource interface {
	key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// staticKey is a configured public key; kids are ignored.
type staticKey struct{ pub *rsa.PublicKey }

func (s staticKey) key(context.Context, string) (*rsa.PublicKey, error) { return s.pub, nil }

// jwtVerifier verifies RS256 tokens.
type jwtVerifier struct {
	keys   keySource
	parser *jwt.Parser
}

func newJWTVerifier(cfg JWTConfig) (*jwtVerifier, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Leeway < 0 {
		return nil, errors.New("JWT leeway is negative")
	}
	keys, err := newKeySource(cfg)
	if err != nil {
		return nil, err
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Clock),
	)
	return &jwtVerifier{keys: keys, parser: parser}, nil
}

func newKeySource(cfg JWTConfig) (keySource, error) {
	switch {
	case cfg.PublicKeyPEM != "" && cfg.JWKSURL != "":
		return nil, errors.New("JWT: set either a public key or a JWKS URL, not both")
	case cfg.PublicKeyPEM != "":
		pub, err := parsePublicKeyPEM(cfg.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("JWT public key: %w", err)
		}
		return staticKey{pub: pub}, nil
	case cfg.JWKSURL != "":
		return newJWKS(cfg)
	default:
		return nil, errors.New("JWT: set a public key or a JWKS URL")
	}
}

// verify checks token and returns its principal. Every failure wraps
// ErrInvalidCredentials, except an unreachable JWKS (ErrKeysUnavailable).
func (v *jwtVerifier) verify(ctx context.Context, token string) (*Principal, error) {
	if len(token) > MaxTokenBytes {
		return nil, invalid("token is longer than %d bytes", MaxTokenBytes)
	}
	var claims tokenClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.keys.key(ctx, kid)
	})
	switch {
	case errors.Is(err, ErrKeysUnavailable), errors.Is(err, ErrInvalidCredentials):
		return nil, err
	case err != nil:
		return nil, invalid("%v", err)
	case claims.Subject == "":
		return nil, invalid("token has no sub claim")
	}
	perms, err := NewSet(claims.Permissions...)
	if err != nil {
		return nil, invalid("token permissions: %v", err)
	}
	return &Principal{Subject: claims.Subject, Kind: KindJWT, Permissions: perms}, nil
}

// httpClientOr returns c, or a client with a 10 s timeout that refuses
// redirects from https to plain http.
func httpClientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("fetch JWKS: too many redirects")
			}
			if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
				return fmt.Errorf("fetch JWKS: refusing the redirect to %s", req.URL.Redacted())
			}
			return nil
		},
	}
}
