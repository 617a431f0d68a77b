package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestConfigFromLookup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "keys.json")
	require.NoError(t, os.WriteFile(keysFile, []byte(`[
  {"name": "ci", "key": "`+ciKey+`", "permissions": ["tasks:*", "steps:read"]},
  {"name": "reader", "key": "`+readerKey+`", "permissions": ["tasks:read"]}
]`), 0o600))
	badKeysFile := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badKeysFile, []byte(`[{"name": "ci", "key": "k", "perms": []}]`), 0o600))
	pubFile := filepath.Join(dir, "jwt.pub")
	require.NoError(t, os.WriteFile(pubFile, []byte(keyA().publicPEM), 0o600))

	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, cfg auth.Config)
		wantErr string
	}{
		{name: "nothing", env: nil, check: func(t *testing.T, cfg auth.Config) {
			require.Equal(t, auth.Config{}, cfg)
		}},
		{name: "inline keys", env: map[string]string{auth.EnvAPIKeys: "ci:" + ciKey + ":tasks:*,steps:read; reader:" + readerKey + ":tasks:read"},
			check: func(t *testing.T, cfg auth.Config) {
				require.Equal(t, map[string]auth.KeyConfig{
					ciKey:     {Name: "ci", Permissions: []string{"tasks:*", "steps:read"}},
					readerKey: {Name: "reader", Permissions: []string{"tasks:read"}},
				}, cfg.APIKeys)
			}},
		{name: "keys file", env: map[string]string{auth.EnvAPIKeysFile: keysFile}, check: func(t *testing.T, cfg auth.Config) {
			require.Len(t, cfg.APIKeys, 2)
			require.Equal(t, "reader", cfg.APIKeys[readerKey].Name)
		}},
		{name: "public key", env: map[string]string{auth.EnvJWTPublicKey: keyA().publicPEM, auth.EnvJWTIssuer: "idp", auth.EnvJWTLeeway: "30s"},
			check: func(t *testing.T, cfg auth.Config) {
				require.Equal(t, strings.TrimSpace(keyA().publicPEM), cfg.JWT.PublicKeyPEM)
				require.Equal(t, "idp", cfg.JWT.Issuer)
				require.Equal(t, "", cfg.JWT.Audience, "New applies the default")
				require.Equal(t, 30*time.Second, cfg.JWT.Leeway)
			}},
		{name: "public key with escaped newlines", env: map[string]string{auth.EnvJWTPublicKey: strings.ReplaceAll(keyA().publicPEM, "\n", `\n`)},
			check: func(t *testing.T, cfg auth.Config) {
				_, err := auth.New(cfg)
				require.NoError(t, err)
			}},
		{name: "public key file", env: map[string]string{auth.EnvJWTPublicKeyFile: pubFile}, check: func(t *testing.T, cfg auth.Config) {
			require.Equal(t, keyA().publicPEM, cfg.JWT.PublicKeyPEM)
		}},
		{name: "JWKS", env: map[string]string{auth.EnvJWTJWKSURL: "https://idp.example.com/.well-known/jwks.json", auth.EnvJWTAudience: "api", auth.EnvJWTJWKSRefresh: "10m"},
			check: func(t *testing.T, cfg auth.Config) {
				require.Equal(t, "https://idp.example.com/.well-known/jwks.json", cfg.JWT.JWKSURL)
				require.Equal(t, "api", cfg.JWT.Audience)
				require.Equal(t, 10*time.Minute, cfg.JWT.JWKSRefresh)
			}},
		{name: "disabled", env: map[string]string{auth.EnvAuthDisabled: "true"}, check: func(t *testing.T, cfg auth.Config) {
			require.True(t, cfg.Disabled)
		}},
		{name: "disabled false", env: map[string]string{auth.EnvAuthDisabled: "false"}, check: func(t *testing.T, cfg auth.Config) {
			require.False(t, cfg.Disabled)
		}},
		{name: "disabled typo", env: map[string]string{auth.EnvAuthDisabled: "yes"}, wantErr: "want true or false"},
		{name: "both key forms", env: map[string]string{auth.EnvAPIKeys: "a:" + ciKey + ":tasks:read", auth.EnvAPIKeysFile: keysFile}, wantErr: "not both"},
		{name: "entry without permissions", env: map[string]string{auth.EnvAPIKeys: "ci:" + ciKey}, wantErr: "want name:key:permissions"},
		{name: "entry without name", env: map[string]string{auth.EnvAPIKeys: ":" + ciKey + ":tasks:read"}, wantErr: "empty"},
		{name: "same key twice", env: map[string]string{auth.EnvAPIKeys: "a:" + ciKey + ":tasks:read;b:" + ciKey + ":tasks:read"}, wantErr: "repeats"},
		{name: "missing keys file", env: map[string]string{auth.EnvAPIKeysFile: filepath.Join(dir, "nope.json")}, wantErr: auth.EnvAPIKeysFile},
		{name: "keys file with unknown field", env: map[string]string{auth.EnvAPIKeysFile: badKeysFile}, wantErr: "unknown field"},
		{name: "public key and JWKS", env: map[string]string{auth.EnvJWTPublicKey: keyA().publicPEM, auth.EnvJWTJWKSURL: "https://x"}, wantErr: "not both"},
		{name: "both public key forms", env: map[string]string{auth.EnvJWTPublicKey: keyA().publicPEM, auth.EnvJWTPublicKeyFile: pubFile}, wantErr: "not both"},
		{name: "issuer without key", env: map[string]string{auth.EnvJWTIssuer: "idp"}, wantErr: "TASKER_JWT_ISSUER is set"},
		{name: "bad leeway", env: map[string]string{auth.EnvJWTPublicKey: keyA().publicPEM, auth.EnvJWTLeeway: "soon"}, wantErr: "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := auth.ConfigFromLookup(lookupFrom(tt.env))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestConfigFromLookupFeedsNew(t *testing.T) {
	t.Parallel()
	cfg, err := auth.ConfigFromLookup(lookupFrom(map[string]string{auth.EnvAPIKeys: "ci:" + ciKey + ":tasks:*,bogus:read"}))
	require.NoError(t, err, "permissions are checked by New")
	_, err = auth.New(cfg)
	require.ErrorIs(t, err, auth.ErrInvalidPermission)

	cfg, err = auth.ConfigFromLookup(lookupFrom(nil))
	require.NoError(t, err)
	_, err = auth.New(cfg)
	require.ErrorContains(t, err, "no API keys and no JWT", "an empty environment does not mean insecure")
}
