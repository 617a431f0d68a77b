package auth

import (
	"net/http"
	"time"
)

// Defaults of JWTConfig.
const (
	DefaultIssuer       = "tasker-core"
	DefaultAudience     = "tasker-api"
	DefaultJWKSRefresh  = time.Hour
	DefaultJWKSMaxStale = 5 * time.Minute
	// MinAPIKeyLength is the shortest API key New accepts.
	MinAPIKeyLength = 16
)

// Config configures an Authenticator. At least one of APIKeys and JWT must
// be set, unless Disabled is.
type Config struct {
	// APIKeys maps each key value to its name and permissions. New keeps
	// only SHA-256 digests of the values.
	APIKeys map[string]KeyConfig
	// JWT enables bearer tokens; nil disables them.
	JWT *JWTConfig
	// Disabled is insecure mode: every request, with or without
	// credentials, is a KindInsecure principal holding every permission. It
	// cannot be combined with APIKeys or JWT.
	Disabled bool
}

// KeyConfig describes one API key.
type KeyConfig struct {
	// Name identifies the key; it becomes the principal's subject and must
	// be unique.
	Name string `json:"name"`
	// Permissions are parsed with ParsePermission.
	Permissions []string `json:"permissions"`
}

// JWTConfig configures RS256 bearer tokens. Exactly one of PublicKeyPEM
// and JWKSURL must be set.
type JWTConfig struct {
	// PublicKeyPEM is a static RSA public key ("PUBLIC KEY" or "RSA PUBLIC
	// KEY" block) of at least 2048 bits; a token's kid is then ignored.
	PublicKeyPEM string
	// JWKSURL is fetched for the keys; the token's kid selects one. It must
	// be https, except on a loopback host.
	JWKSURL string
	// Issuer is the required "iss"; default DefaultIssuer.
	Issuer string
	// Audience must be the "aud" claim or one of its entries; default
	// DefaultAudience.
	Audience string
	// Leeway is the clock skew allowed when checking exp, nbf and iat;
	// default none.
	Leeway time.Duration
	// HTTPClient fetches the JWKS; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// JWKSRefresh is how long fetched keys are used before a refetch;
	// default DefaultJWKSRefresh. An unknown kid triggers a refetch at most
	// once a minute.
	JWKSRefresh time.Duration
	// JWKSMaxStale is how long past JWKSRefresh cached keys stay usable
	// while refetching fails; default DefaultJWKSMaxStale.
	JWKSMaxStale time.Duration
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}
