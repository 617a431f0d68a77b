package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

// TestAuthCommands generates a key pair and a token with the CLI and checks
// that an authenticator trusting the public key accepts the token with the
// permissions asked for; a bare "*" is refused as a usage error.
func TestAuthCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exec := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errOut, func(string) string { return "" })
		return code, out.String(), errOut.String()
	}
	code, out, _ := exec("auth", "generate-key")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "tk_"))

	code, _, errOut := exec("auth", "generate-keys", "--out", dir)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = exec("auth", "generate-keys", "--out", dir)
	require.NotEqual(t, 0, code, "an existing key is never overwritten")
	require.Contains(t, errOut, "refusing to overwrite")

	code, tok, errOut := exec("auth", "generate-token", "--key", filepath.Join(dir, "jwt-private.pem"), "--subject", "ops", "--permissions", "dlq:*,tasks:read")
	require.Equal(t, 0, code, errOut)
	pub, err := os.ReadFile(filepath.Join(dir, "jwt-public.pem"))
	require.NoError(t, err)
	a, err := auth.New(auth.Config{JWT: &auth.JWTConfig{PublicKeyPEM: string(pub)}})
	require.NoError(t, err)
	p, err := a.Authenticate(context.Background(), map[string]string{"authorization": "Bearer " + strings.TrimSpace(tok)})
	require.NoError(t, err)
	require.Equal(t, "ops", p.Subject)
	require.NoError(t, auth.Authorize(p, auth.DLQUpdate))
	require.Error(t, auth.Authorize(p, auth.TasksCreate))

	code, _, errOut = exec("auth", "generate-token", "--key", filepath.Join(dir, "jwt-private.pem"), "--subject", "ops", "--permissions", "*")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--permissions")
}
