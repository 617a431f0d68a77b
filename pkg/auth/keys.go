package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GenerateKeyPair returns a new RSA 2048 key pair as PEM: the private key
// in PKCS #8 ("PRIVATE KEY"), the public key in PKIX ("PUBLIC KEY").
func GenerateKeyPair() (privatePEM, publicPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, minRSABits)
	if err != nil {
		return "", "", fmt.Errorf("generate key pair: %w", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode private key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), nil
}

// IssueToken signs an RS256 token for subject with the permissions (each
// checked with ParsePermission), valid from now for ttl. An empty issuer or
// audience means DefaultIssuer or DefaultAudience. The header's kid is the
// key's RFC 7638 thumbprint, as in PublicJWKS. It returns an error for an
// invalid key, permission, subject or ttl.
func IssueToken(privatePEM string, subject string, perms []string, ttl time.Duration, issuer, audience string) (string, error) {
	return issueToken(privatePEM, subject, perms, ttl, issuer, audience, time.Now())
}

func issueToken(privatePEM, subject string, perms []string, ttl time.Duration, issuer, audience string, now time.Time) (string, error) {
	key, err := parsePrivateKeyPEM(privatePEM)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	if subject == "" {
		return "", errors.New("issue token: the subject is empty")
	}
	if ttl <= 0 {
		return "", errors.New("issue token: the ttl must be positive")
	}
	set, err := NewSet(perms...)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	if audience == "" {
		audience = DefaultAudience
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	now = now.Truncate(time.Second)
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: subject, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: base64.RawURLEncoding.EncodeToString(jti),
		},
		Permissions: set.Strings(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = thumbprint(&key.PublicKey)
	s, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return s, nil
}

// jwk is one RSA key of a JSON Web Key Set (RFC 7517).
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// PublicJWKS returns a JSON Web Key Set holding the public keys, each with
// its RFC 7638 thumbprint as kid, for serving at a JWKS URL.
func PublicJWKS(publicPEMs ...string) ([]byte, error) {
	set := jwkSet{Keys: []jwk{}}
	for _, p := range publicPEMs {
		pub, err := parsePublicKeyPEM(p)
		if err != nil {
			return nil, fmt.Errorf("JWKS: %w", err)
		}
		k := rsaJWK(pub)
		k.Use, k.Alg, k.Kid = "sig", "RS256", thumbprint(pub)
		set.Keys = append(set.Keys, k)
	}
	return json.MarshalIndent(set, "", "  ")
}

func rsaJWK(pub *rsa.PublicKey) jwk {
	return jwk{
		Kty: "RSA",
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of an RSA key, base64url.
func thumbprint(pub *rsa.PublicKey) string {
	k := rsaJWK(pub)
	// Members in lexicographic order, no whitespace, per RFC 7638 §3.
	canon := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, k.E, k.N)
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func parsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, not RSA", key)
	}
	return pub, checkRSASize(pub)
}

func parsePrivateKeyPEM(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block found in the private key")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is a %T, not RSA", key)
	}
	return priv, checkRSASize(&priv.PublicKey)
}

func checkRSASize(pub *rsa.PublicKey) error {
	if n := pub.N.BitLen(); n < minRSABits {
		return fmt.Errorf("the RSA key has %d bits; at least %d are required", n, minRSABits)
	}
	return nil
}
