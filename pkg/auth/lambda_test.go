package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

// fixture reads a testdata payload and fills its placeholders.
func fixture(t *testing.T, name string, replace map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	for k, v := range replace {
		b = bytes.ReplaceAll(b, []byte(k), []byte(v))
	}
	return b
}

// invokeAuthorizer runs the payload through lambda.NewHandler(h.Handle), so
// the event and the answer go through Lambda's JSON decoding.
func invokeAuthorizer(t *testing.T, h *auth.LambdaAuthorizer, payload []byte) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	t.Helper()
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
	var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
	if err != nil {
		return resp, err
	}
	require.NoError(t, json.Unmarshal(out, &resp))
	// API Gateway reads "isAuthorized" and "context".
	var raw map[string]any
	require.NoError(t, json.Unmarshal(out, &raw))
	require.Contains(t, raw, "isAuthorized")
	return resp, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func lambdaAuthorizer(t *testing.T, cfg auth.Config) *auth.LambdaAuthorizer {
	t.Helper()
	return auth.NewLambdaAuthorizer(newAuth(t, cfg), quietLogger())
}

func TestLambdaAuthorizerAPIKey(t *testing.T) {
	t.Parallel()
	h := lambdaAuthorizer(t, keyConfig())
	tests := []struct {
		name        string
		key         string
		wantAllowed bool
	}{
		{name: "key with tasks:*", key: ciKey, wantAllowed: true},
		{name: "key without tasks:create", key: readerKey},
		{name: "unknown key", key: "tk_unknown-0123456789abcdef"},
		{name: "no key", key: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := invokeAuthorizer(t, h, fixture(t, "authorizer-create-task.json", map[string]string{"{{API_KEY}}": tt.key}))
			require.NoError(t, err)
			require.Equal(t, tt.wantAllowed, resp.IsAuthorized)
			if !tt.wantAllowed {
				require.Empty(t, resp.Context)
				return
			}
			require.Equal(t, map[string]any{
				"principal": "ci", "kind": "api_key", "permissions": "steps:read,tasks:*", "permission": "tasks:create",
			}, resp.Context)
			p, err := auth.PrincipalFromAuthorizerContext(resp.Context)
			require.NoError(t, err)
			require.Equal(t, "ci", p.Subject)
			require.NoError(t, auth.Authorize(p, auth.TasksCancel), "the intake reads the permissions back")
		})
	}
}

func TestLambdaAuthorizerJWTOnNamedStage(t *testing.T) {
	t.Parallel()
	h := lambdaAuthorizer(t, auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: keyA().publicPEM, Clock: clockAt(t0)}})
	tests := []struct {
		name        string
		token       string
		wantAllowed bool
	}{
		{name: "steps:resolve", wantAllowed: true, token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"steps:resolve"} }))},
		{name: "steps:*", wantAllowed: true, token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"steps:*"} }))},
		{name: "steps:read only", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"steps:read"} }))},
		{name: "expired", token: sign(t, keyA(), "", with(func(c jwt.MapClaims) {
			c["permissions"] = []string{"steps:resolve"}
			c["exp"] = t0.Add(-time.Minute).Unix()
		}))},
		{name: "forged", token: sign(t, keyB(), "", with(func(c jwt.MapClaims) { c["permissions"] = []string{"steps:resolve"} }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := invokeAuthorizer(t, h, fixture(t, "authorizer-resolve-step-stage.json", map[string]string{"{{TOKEN}}": tt.token}))
			require.NoError(t, err)
			require.Equal(t, tt.wantAllowed, resp.IsAuthorized)
			if tt.wantAllowed {
				require.Equal(t, "alice", resp.Context["principal"])
				require.Equal(t, "jwt", resp.Context["kind"])
				require.Equal(t, "steps:resolve", resp.Context["permission"], "the stage prefix is stripped before the route lookup")
			}
		})
	}
}

func TestLambdaAuthorizerOpenRoute(t *testing.T) {
	t.Parallel()
	h := lambdaAuthorizer(t, keyConfig())
	resp, err := invokeAuthorizer(t, h, fixture(t, "authorizer-health.json", nil))
	require.NoError(t, err)
	require.True(t, resp.IsAuthorized)
	require.Equal(t, auth.KindAnonymous, resp.Context["kind"])
	_, err = auth.PrincipalFromAuthorizerContext(resp.Context)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
}

func TestLambdaAuthorizerUnknownRoute(t *testing.T) {
	t.Parallel()
	h := lambdaAuthorizer(t, keyConfig())
	payload := fixture(t, "authorizer-create-task.json", map[string]string{"{{API_KEY}}": ciKey})
	payload = bytes.ReplaceAll(payload, []byte(`"/v1/tasks"`), []byte(`"/v1/admin/purge"`))
	resp, err := invokeAuthorizer(t, h, payload)
	require.NoError(t, err)
	require.False(t, resp.IsAuthorized, "unknown routes need auth:admin")

	admin := lambdaAuthorizer(t, auth.Config{APIKeys: map[string]auth.KeyConfig{ciKey: {Name: "root", Permissions: []string{"auth:admin"}}}})
	resp, err = invokeAuthorizer(t, admin, payload)
	require.NoError(t, err)
	require.True(t, resp.IsAuthorized)
	require.Equal(t, "auth:admin", resp.Context["permission"])
}

func TestLambdaAuthorizerKeysUnavailable(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, nil)
	srv.fail(http.StatusServiceUnavailable)
	h := lambdaAuthorizer(t, auth.Config{JWT: &auth.JWTConfig{JWKSURL: srv.URL, Clock: clockAt(t0)}})
	_, err := invokeAuthorizer(t, h, fixture(t, "authorizer-resolve-step-stage.json", map[string]string{"{{TOKEN}}": tokenAt(t, keyA(), "k", t0)}))
	require.Error(t, err, "a server-side failure is an error (API Gateway answers 500), not a denial")
}

func TestLambdaAuthorizerInsecure(t *testing.T) {
	t.Parallel()
	h := lambdaAuthorizer(t, auth.Config{Disabled: true})
	resp, err := invokeAuthorizer(t, h, fixture(t, "authorizer-create-task.json", map[string]string{"{{API_KEY}}": ""}))
	require.NoError(t, err)
	require.True(t, resp.IsAuthorized)
	require.Equal(t, auth.KindInsecure, resp.Context["kind"])
}

func TestPrincipalFromAuthorizerContextRejects(t *testing.T) {
	t.Parallel()
	_, err := auth.PrincipalFromAuthorizerContext(nil)
	require.ErrorIs(t, err, auth.ErrUnauthenticated)
	_, err = auth.PrincipalFromAuthorizerContext(map[string]any{"principal": "x", "kind": "api_key", "permissions": "*"})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}
