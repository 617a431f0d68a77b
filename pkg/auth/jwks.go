package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

const (
	// jwksMinRefetch bounds refetches for unknown kids.
	jwksMinRefetch = time.Minute
	// jwksFailureBackoff bounds refetches after a failed fetch.
	jwksFailureBackoff = 5 * time.Second
	// jwksMaxBytes bounds a JWKS response.
	jwksMaxBytes = 1 << 20
)

// jwks fetches and caches a JSON Web Key Set. Fetches are serialized.
type jwks struct {
	url      string
	client   *http.Client
	refresh  time.Duration
	maxStale time.Duration
	clock    func() time.Time

	mu          sync.Mutex
	keys        map[string]*rsa.PublicKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch, successful or not
	failedAt    time.Time // last failed fetch
}

func newJWKS(cfg JWTConfig) (*jwks, error) {
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL: %w", err)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return nil, fmt.Errorf("JWKS URL %q: must be https (plain http only on a loopback host)", cfg.JWKSURL)
	}
	j := &jwks{url: cfg.JWKSURL, client: httpClientOr(cfg.HTTPClient), refresh: cfg.JWKSRefresh, maxStale: cfg.JWKSMaxStale, clock: cfg.Clock}
	if j.refresh <= 0 {
		j.refresh = DefaultJWKSRefresh
	}
	if j.maxStale <= 0 {
		j.maxStale = DefaultJWKSMaxStale
	}
	if j.clock == nil {
		j.clock = time.Now
	}
	return j, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// key returns the key for kid, fetching the set when it is due for refresh
// or, at most once a minute, when kid is unknown. An empty kid selects the
// only key of a one-key set. It returns ErrKeysUnavailable when no usable
// set can be had and ErrInvalidCredentials when kid matches no key.
func (j *jwks) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.clock()
	if err := j.ensureFresh(ctx, now); err != nil {
		return nil, err
	}
	if k, ok := j.pick(kid); ok {
		return k, nil
	}
	if kid != "" && now.Sub(j.attemptedAt) >= jwksMinRefetch {
		_ = j.fetch(ctx, now) // a failure leaves the cached set in place
		if k, ok := j.pick(kid); ok {
			return k, nil
		}
	}
	if kid == "" {
		return nil, invalid("token has no kid and the JWKS holds %d keys", len(j.keys))
	}
	return nil, invalid("no key with kid %q in the JWKS", kid)
}

// ensureFresh fetches the set when there is none or it is due, and fails
// when the set is missing or older than refresh+maxStale.
func (j *jwks) ensureFresh(ctx context.Context, now time.Time) error {
	due := j.keys == nil || now.Sub(j.fetchedAt) >= j.refresh
	var fetchErr error
	if due && (j.failedAt.IsZero() || now.Sub(j.failedAt) >= jwksFailureBackoff) {
		fetchErr = j.fetch(ctx, now)
	}
	switch {
	case j.keys == nil && fetchErr != nil:
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, fetchErr)
	case j.keys == nil:
		return fmt.Errorf("%w: the last fetch of %s failed", ErrKeysUnavailable, j.url)
	case now.Sub(j.fetchedAt) >= j.refresh+j.maxStale:
		return fmt.Errorf("%w: the cached JWKS is older than %s and refetching failed", ErrKeysUnavailable, j.refresh+j.maxStale)
	}
	return nil
}

func (j *jwks) pick(kid string) (*rsa.PublicKey, bool) {
	if kid == "" {
		if len(j.keys) != 1 {
			return nil, false
		}
		for _, k := range j.keys {
			return k, true
		}
	}
	k, ok := j.keys[kid]
	return k, ok
}

// fetch replaces the cached set; on failure it keeps the old one.
func (j *jwks) fetch(ctx context.Context, now time.Time) error {
	j.attemptedAt = now
	keys, err := j.download(ctx)
	if err != nil {
		j.failedAt = now
		return err
	}
	j.keys, j.fetchedAt, j.failedAt = keys, now, time.Time{}
	return nil
}

func (j *jwks) download(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %d", j.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	if len(body) > jwksMaxBytes {
		return nil, fmt.Errorf("fetch JWKS %s: larger than %d bytes", j.url, jwksMaxBytes)
	}
	return parseJWKS(body)
}

// parseJWKS returns the RS256 signing keys of a set by kid, skipping keys
// of other types, uses or algorithms and RSA keys under 2048 bits. A key
// without a kid is kept under "" and only used when it is the only key.
func parseJWKS(body []byte) (map[string]*rsa.PublicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := k.publicKey()
		if err != nil || checkRSASize(pub) != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("parse JWKS: no RS256 signing key of at least 2048 bits")
	}
	return keys, nil
}

func (k jwk) publicKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		return nil, err
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, errors.New("bad RSA exponent")
	}
	exp := new(big.Int).SetBytes(e)
	if exp.Int64() < 3 || exp.Int64()%2 == 0 {
		return nil, errors.New("bad RSA exponent")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
}
