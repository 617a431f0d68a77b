package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

const (
	ciKey     = "tk_ci-key-0123456789abcdef"
	readerKey = "tk_reader-key-0123456789abcdef"
)

func keyConfig() auth.Config {
	return auth.Config{APIKeys: map[string]auth.KeyConfig{
		ciKey:     {Name: "ci", Permissions: []string{"tasks:*", "steps:read"}},
		readerKey: {Name: "reader", Permissions: []string{"tasks:read", "tasks:list"}},
	}}
}

func TestAPIKeyAuthentication(t *testing.T) {
	t.Parallel()
	a := newAuth(t, keyConfig())
	tests := []struct {
		name        string
		headers     map[string]string
		wantSubject string
		wantErr     error
	}{
		{name: "right key", headers: map[string]string{"x-api-key": ciKey}, wantSubject: "ci"},
		{name: "other key", headers: map[string]string{"x-api-key": readerKey}, wantSubject: "reader"},
		{name: "header name in any case", headers: map[string]string{"X-Api-Key": readerKey}, wantSubject: "reader"},
		{name: "surrounding spaces", headers: map[string]string{"x-api-key": " " + ciKey + " "}, wantSubject: "ci"},
		{name: "wrong key", headers: map[string]string{"x-api-key": "tk_wrong-key-0123456789abcdef"}, wantErr: auth.ErrInvalidCredentials},
		{name: "prefix of a key", headers: map[string]string{"x-api-key": ciKey[:len(ciKey)-1]}, wantErr: auth.ErrInvalidCredentials},
		{name: "key with suffix", headers: map[string]string{"x-api-key": ciKey + "x"}, wantErr: auth.ErrInvalidCredentials},
		{name: "two keys joined", headers: map[string]string{"x-api-key": ciKey + "," + readerKey}, wantErr: auth.ErrInvalidCredentials},
		{name: "missing", headers: map[string]string{"accept": "application/json"}, wantErr: auth.ErrUnauthenticated},
		{name: "empty value", headers: map[string]string{"x-api-key": ""}, wantErr: auth.ErrUnauthenticated},
		{name: "nil headers", headers: nil, wantErr: auth.ErrUnauthenticated},
		{name: "key and bearer", headers: map[string]string{"x-api-key": ciKey, "authorization": "Bearer x.y.z"}, wantErr: auth.ErrInvalidCredentials},
		{name: "bearer without JWT configured", headers: map[string]string{"authorization": "Bearer x.y.z"}, wantErr: auth.ErrInvalidCredentials},
		{name: "basic scheme", headers: map[string]string{"authorization": "Basic Y2k6c2VjcmV0"}, wantErr: auth.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := a.Authenticate(context.Background(), tt.headers)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, p)
				require.Equal(t, 401, auth.HTTPStatus(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantSubject, p.Subject)
			require.Equal(t, auth.KindAPIKey, p.Kind)
		})
	}
}

func TestAPIKeyPermissions(t *testing.T) {
	t.Parallel()
	a := newAuth(t, keyConfig())
	p, err := a.Authenticate(context.Background(), map[string]string{"x-api-key": readerKey})
	require.NoError(t, err)
	require.NoError(t, auth.Authorize(p, auth.TasksList))
	require.ErrorIs(t, auth.Authorize(p, auth.TasksCreate), auth.ErrForbidden)

	p, err = a.Authenticate(context.Background(), map[string]string{"x-api-key": ciKey})
	require.NoError(t, err)
	require.NoError(t, auth.Authorize(p, auth.TasksCancel), "tasks:* covers cancel")
	require.ErrorIs(t, auth.Authorize(p, auth.DLQRead), auth.ErrForbidden)
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	a := newAuth(t, auth.Config{Disabled: true})
	require.True(t, a.Disabled())
	for _, h := range []map[string]string{nil, {"x-api-key": "anything"}} {
		p, err := a.Authenticate(context.Background(), h)
		require.NoError(t, err)
		require.Equal(t, auth.KindInsecure, p.Kind)
		for _, perm := range auth.All() {
			require.NoError(t, auth.Authorize(p, perm))
		}
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     auth.Config
		wantErr string
	}{
		{name: "nothing configured", cfg: auth.Config{}, wantErr: "no API keys and no JWT"},
		{name: "disabled with keys", cfg: auth.Config{Disabled: true, APIKeys: keyConfig().APIKeys}, wantErr: "cannot be combined"},
		{name: "disabled with JWT", cfg: auth.Config{Disabled: true, JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM}}, wantErr: "cannot be combined"},
		{name: "short key", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{"short": {Name: "a", Permissions: []string{"tasks:read"}}}}, wantErr: "shorter than 16"},
		{name: "no name", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{ciKey: {Permissions: []string{"tasks:read"}}}}, wantErr: "no name"},
		{name: "no permissions", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{ciKey: {Name: "ci"}}}, wantErr: "no permissions"},
		{name: "global wildcard", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{ciKey: {Name: "ci", Permissions: []string{"*"}}}}, wantErr: "global wildcard"},
		{name: "unknown permission", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{ciKey: {Name: "ci", Permissions: []string{"tasks:delete"}}}}, wantErr: "unknown action"},
		{name: "duplicate name", cfg: auth.Config{APIKeys: map[string]auth.KeyConfig{
			ciKey: {Name: "ci", Permissions: []string{"tasks:read"}}, readerKey: {Name: "ci", Permissions: []string{"tasks:read"}}}}, wantErr: "used twice"},
		{name: "JWT without key", cfg: auth.Config{JWT: &auth.JWTConfig{}}, wantErr: "set a public key or a JWKS URL"},
		{name: "JWT with both", cfg: auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, JWKSURL: "https://example.com/jwks"}}, wantErr: "not both"},
		{name: "JWT bad PEM", cfg: auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: "not pem"}}, wantErr: "no PEM block"},
		{name: "JWT private key as public", cfg: auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().privatePEM}}, wantErr: "not a public key"},
		{name: "JWKS over http", cfg: auth.Config{JWT: &auth.JWTConfig{JWKSURL: "http://keys.example.com/jwks"}}, wantErr: "must be https"},
		{name: "negative leeway", cfg: auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Leeway: -1}}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.New(tt.cfg)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestGenerateAPIKey(t *testing.T) {
	t.Parallel()
	k1, err := auth.GenerateAPIKey()
	require.NoError(t, err)
	k2, err := auth.GenerateAPIKey()
	require.NoError(t, err)
	require.NotEqual(t, k1, k2)
	require.True(t, strings.HasPrefix(k1, auth.APIKeyPrefix))
	require.Len(t, k1, len(auth.APIKeyPrefix)+43, "32 bytes in unpadded base64url")
	require.NotContains(t, k1, ":", "usable in TASKER_API_KEYS")
	require.NotContains(t, k1, ";")

	a := newAuth(t, auth.Config{APIKeys: map[string]auth.KeyConfig{k1: {Name: "gen", Permissions: []string{"dlq:read"}}}})
	p, err := a.Authenticate(context.Background(), map[string]string{"x-api-key": k1})
	require.NoError(t, err)
	require.Equal(t, "gen", p.Subject)
}
