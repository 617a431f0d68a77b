package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables ConfigFromEnv reads.
const (
	EnvAPIKeys          = "TASKER_API_KEYS"
	EnvAPIKeysFile      = "TASKER_API_KEYS_FILE"
	EnvJWTPublicKey     = "TASKER_JWT_PUBLIC_KEY"
	EnvJWTPublicKeyFile = "TASKER_JWT_PUBLIC_KEY_FILE"
	EnvJWTJWKSURL       = "TASKER_JWT_JWKS_URL"
	EnvJWTIssuer        = "TASKER_JWT_ISSUER"
	EnvJWTAudience      = "TASKER_JWT_AUDIENCE"
	EnvJWTLeeway        = "TASKER_JWT_LEEWAY"
	EnvJWTJWKSRefresh   = "TASKER_JWT_JWKS_REFRESH"
	EnvAuthDisabled     = "TASKER_AUTH_DISABLED"
)

// APIKeyFileEntry is one element of the JSON array in TASKER_API_KEYS_FILE.
type APIKeyFileEntry struct {
	Name        string   `json:"name"`
	Key         string   `json:"key"`
	Permissions []string `json:"permissions"`
}

// ConfigFromEnv reads the configuration from the process environment; see
// ConfigFromLookup.
func ConfigFromEnv() (Config, error) { return ConfigFromLookup(os.LookupEnv) }

// ConfigFromLookup reads the configuration through lookup (os.LookupEnv in
// ConfigFromEnv):
//
//   - TASKER_API_KEYS: "name:key:perm1,perm2;name2:key2:tasks:*", or
//     TASKER_API_KEYS_FILE: a JSON array of APIKeyFileEntry;
//   - TASKER_JWT_PUBLIC_KEY (PEM) or TASKER_JWT_PUBLIC_KEY_FILE, or
//     TASKER_JWT_JWKS_URL; with TASKER_JWT_ISSUER, TASKER_JWT_AUDIENCE,
//     TASKER_JWT_LEEWAY and TASKER_JWT_JWKS_REFRESH (Go durations);
//   - TASKER_AUTH_DISABLED=true: insecure mode, honoured only when set
//     explicitly to a true value.
//
// It returns an error for a malformed value, for both forms of one setting,
// and for JWT options without a key. It does not check that anything is
// configured: New does.
func ConfigFromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var cfg Config
	if v := get(EnvAuthDisabled); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("%s=%q: want true or false", EnvAuthDisabled, v)
		}
		cfg.Disabled = b
	}
	keys, err := apiKeysFromEnv(get)
	if err != nil {
		return Config{}, err
	}
	cfg.APIKeys = keys
	if cfg.JWT, err = jwtFromEnv(get); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func apiKeysFromEnv(get func(string) string) (map[string]KeyConfig, error) {
	inline, file := get(EnvAPIKeys), get(EnvAPIKeysFile)
	switch {
	case inline != "" && file != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvAPIKeys, EnvAPIKeysFile)
	case inline != "":
		keys, err := ParseAPIKeys(inline)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAPIKeys, err)
		}
		return keys, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAPIKeysFile, err)
		}
		keys, err := ParseAPIKeysJSON(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", EnvAPIKeysFile, file, err)
		}
		return keys, nil
	}
	return nil, nil
}

// ParseAPIKeys parses the TASKER_API_KEYS form: entries separated by ";",
// each "name:key:permissions" with comma-separated permissions. Key values
// cannot contain ":" or ";" (generated keys never do). Permissions are
// checked by New, not here.
func ParseAPIKeys(s string) (map[string]KeyConfig, error) {
	keys := map[string]KeyConfig{}
	for i, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("entry %d: want name:key:permissions", i+1)
		}
		name, key := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if err := addKey(keys, name, key, strings.Split(parts[2], ",")); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return keys, nil
}

// ParseAPIKeysJSON parses the TASKER_API_KEYS_FILE form: a JSON array of
// APIKeyFileEntry. Unknown fields are rejected.
func ParseAPIKeysJSON(b []byte) (map[string]KeyConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var entries []APIKeyFileEntry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	keys := map[string]KeyConfig{}
	for i, e := range entries {
		if err := addKey(keys, e.Name, e.Key, e.Permissions); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return keys, nil
}

func addKey(keys map[string]KeyConfig, name, key string, perms []string) error {
	if name == "" || key == "" {
		return errors.New("the name or the key is empty")
	}
	if _, dup := keys[key]; dup {
		return fmt.Errorf("key %q repeats the value of key %q", name, keys[key].Name)
	}
	var clean []string
	for _, p := range perms {
		if p = strings.TrimSpace(p); p != "" {
			clean = append(clean, p)
		}
	}
	keys[key] = KeyConfig{Name: name, Permissions: clean}
	return nil
}

func jwtFromEnv(get func(string) string) (*JWTConfig, error) {
	pemText, err := publicKeyFromEnv(get)
	if err != nil {
		return nil, err
	}
	jwksURL := get(EnvJWTJWKSURL)
	options := []string{EnvJWTIssuer, EnvJWTAudience, EnvJWTLeeway, EnvJWTJWKSRefresh}
	if pemText == "" && jwksURL == "" {
		for _, name := range options {
			if get(name) != "" {
				return nil, fmt.Errorf("%s is set but neither %s(_FILE) nor %s is", name, EnvJWTPublicKey, EnvJWTJWKSURL)
			}
		}
		return nil, nil
	}
	if pemText != "" && jwksURL != "" {
		return nil, fmt.Errorf("set %s(_FILE) or %s, not both", EnvJWTPublicKey, EnvJWTJWKSURL)
	}
	cfg := &JWTConfig{PublicKeyPEM: pemText, JWKSURL: jwksURL, Issuer: get(EnvJWTIssuer), Audience: get(EnvJWTAudience)}
	if cfg.Leeway, err = durationFromEnv(get, EnvJWTLeeway); err != nil {
		return nil, err
	}
	if cfg.JWKSRefresh, err = durationFromEnv(get, EnvJWTJWKSRefresh); err != nil {
		return nil, err
	}
	return cfg, nil
}

func publicKeyFromEnv(get func(string) string) (string, error) {
	inline, file := get(EnvJWTPublicKey), get(EnvJWTPublicKeyFile)
	switch {
	case inline != "" && file != "":
		return "", fmt.Errorf("set %s or %s, not both", EnvJWTPublicKey, EnvJWTPublicKeyFile)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", EnvJWTPublicKeyFile, err)
		}
		return string(b), nil
	}
	// Environment variables often carry PEM with escaped newlines.
	return strings.ReplaceAll(inline, `\n`, "\n"), nil
}

func durationFromEnv(get func(string) string, name string) (time.Duration, error) {
	v := get(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative duration such as 30s", name, v)
	}
	return d, nil
}
