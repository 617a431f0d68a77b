package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Header names Authenticate reads, lower-cased.
const (
	HeaderAPIKey        = "x-api-key"
	HeaderAuthorization = "authorization"
)

// Authenticator turns request headers into a Principal. It is safe for
// concurrent use.
type Authenticator struct {
	disabled bool
	keys     *keyring
	jwt      *jwtVerifier
}

// New validates cfg and returns an authenticator. It returns an error when
// neither APIKeys nor JWT is set (unless Disabled is), when Disabled is
// combined with either, when a key or its permissions are invalid, or when
// the JWT configuration is.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Disabled {
		if len(cfg.APIKeys) > 0 || cfg.JWT != nil {
			return nil, errors.New("auth: Config.Disabled cannot be combined with API keys or JWT")
		}
		return &Authenticator{disabled: true}, nil
	}
	if len(cfg.APIKeys) == 0 && cfg.JWT == nil {
		return nil, errors.New("auth: no API keys and no JWT configured; set Config.Disabled for insecure mode")
	}
	kr, err := newKeyring(cfg.APIKeys)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	a := &Authenticator{keys: kr}
	if cfg.JWT != nil {
		if a.jwt, err = newJWTVerifier(*cfg.JWT); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	return a, nil
}

// Disabled reports whether a is in insecure mode.
func (a *Authenticator) Disabled() bool { return a.disabled }

// Authenticate reads the X-API-Key or the Authorization: Bearer header
// (header names are matched case-insensitively; lower-cased keys are
// looked up first). It returns ErrUnauthenticated when neither is sent;
// ErrInvalidCredentials when both are, when the key is unknown, when the
// scheme is not Bearer, when JWT is not configured, or when the token does
// not verify; and ErrKeysUnavailable when the JWKS cannot be fetched.
func (a *Authenticator) Authenticate(ctx context.Context, headers map[string]string) (*Principal, error) {
	if a.disabled {
		return &Principal{Subject: InsecureSubject, Kind: KindInsecure, Permissions: FullSet()}, nil
	}
	key := header(headers, HeaderAPIKey)
	authz := header(headers, HeaderAuthorization)
	switch {
	case key != "" && authz != "":
		return nil, invalid("send either X-API-Key or Authorization, not both")
	case key != "":
		p, ok := a.keys.lookup(key)
		if !ok {
			return nil, invalid("unknown API key")
		}
		return p, nil
	case authz != "":
		return a.bearer(ctx, authz)
	default:
		return nil, ErrUnauthenticated
	}
}

func (a *Authenticator) bearer(ctx context.Context, authz string) (*Principal, error) {
	scheme, token, ok := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return nil, invalid("the Authorization header must be \"Bearer <token>\"")
	}
	if a.jwt == nil {
		return nil, invalid("bearer tokens are not accepted by this server; use an API key")
	}
	return a.jwt.verify(ctx, token)
}

// header returns the trimmed value of the named (lower-case) header,
// falling back to a case-insensitive search.
func header(headers map[string]string, name string) string {
	if v, ok := headers[name]; ok {
		return strings.TrimSpace(v)
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
