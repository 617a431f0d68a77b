package auth_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api/apitest"
	"github.com/tasker-go/tasker/pkg/auth"
)

// TestEveryAPIRouteHasAPermission walks the API handler's own route table:
// a route added to package api without a row in RequiredPermission's table
// falls to auth:admin and fails here.
func TestEveryAPIRouteHasAPermission(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t)
	routes := srv.Handler.Routes()
	require.NotEmpty(t, routes)
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, rt := range routes {
		path := param.ReplaceAllString(rt.Path, "0195f1c2-7a51-7c3e-9a10-3f2b1d4e5a6b")
		perm, needed := auth.RequiredPermission(rt.Method, path)
		if rt.Path == "/health" || strings.HasPrefix(rt.Path, "/health/") || rt.Path == "/metrics" {
			require.False(t, needed, "%s %s is open", rt.Method, rt.Path)
			continue
		}
		require.True(t, needed, "%s %s needs a permission", rt.Method, rt.Path)
		require.NotEqual(t, auth.AuthAdmin, perm, "%s %s is missing from auth's route table", rt.Method, rt.Path)
		_, err := auth.ParsePermission(string(perm))
		require.NoError(t, err)
	}
}
