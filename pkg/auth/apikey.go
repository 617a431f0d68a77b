package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// APIKeyPrefix starts every key GenerateAPIKey makes.
const APIKeyPrefix = "tk_"

// GenerateAPIKey returns a new key: APIKeyPrefix and 32 random bytes,
// base64url-encoded without padding.
func GenerateAPIKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate API key: %w", err)
	}
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// keyring holds the SHA-256 digests of the configured API keys.
type keyring struct {
	keys []storedKey
}

type storedKey struct {
	digest [sha256.Size]byte
	name   string
	perms  Set
}

func newKeyring(keys map[string]KeyConfig) (*keyring, error) {
	kr := &keyring{}
	var names []string
	for value, kc := range keys {
		if err := checkKey(value, kc, names); err != nil {
			return nil, err
		}
		perms, err := NewSet(kc.Permissions...)
		if err != nil {
			return nil, fmt.Errorf("API key %q: %w", kc.Name, err)
		}
		names = append(names, kc.Name)
		kr.keys = append(kr.keys, storedKey{digest: sha256.Sum256([]byte(value)), name: kc.Name, perms: perms})
	}
	return kr, nil
}

func checkKey(value string, kc KeyConfig, names []string) error {
	switch {
	case kc.Name == "":
		return fmt.Errorf("an API key has no name")
	case slices.Contains(names, kc.Name):
		return fmt.Errorf("API key name %q is used twice", kc.Name)
	case len(value) < MinAPIKeyLength:
		return fmt.Errorf("API key %q is shorter than %d characters", kc.Name, MinAPIKeyLength)
	case strings.TrimSpace(value) != value:
		return fmt.Errorf("API key %q has surrounding spaces", kc.Name)
	case len(kc.Permissions) == 0:
		return fmt.Errorf("API key %q has no permissions", kc.Name)
	}
	return nil
}

// lookup compares the digest of value with every stored digest in constant
// time, without stopping at a match, so timing reveals neither the key nor
// which entry matched.
func (kr *keyring) lookup(value string) (*Principal, bool) {
	d := sha256.Sum256([]byte(value))
	var found *storedKey
	for i := range kr.keys {
		if subtle.ConstantTimeCompare(kr.keys[i].digest[:], d[:]) == 1 {
			found = &kr.keys[i]
		}
	}
	if found == nil {
		return nil, false
	}
	return &Principal{Subject: found.name, Kind: KindAPIKey, Permissions: found.perms}, true
}

// DevConfig returns a configuration with one generated API key that holds
// every permission (each resource's wildcard), for `tasker dev` and the demo.
func DevConfig() (Config, string, error) {
	key, err := GenerateAPIKey()
	if err != nil {
		return Config{}, "", err
	}
	perms := make([]string, 0, len(Resources()))
	for _, r := range Resources() {
		perms = append(perms, r+":*")
	}
	return Config{APIKeys: map[string]KeyConfig{key: {Name: "dev", Permissions: perms}}}, key, nil
}
