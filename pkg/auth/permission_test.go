package auth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

func TestParsePermission(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    auth.Permission
		wantErr string
	}{
		{in: "tasks:create", want: auth.TasksCreate},
		{in: " dlq:stats ", want: auth.DLQStats},
		{in: "tasks:pause", want: auth.TasksPause},
		{in: "auth:admin", want: auth.AuthAdmin},
		{in: "tasks:*", want: "tasks:*"},
		{in: "worker:*", want: "worker:*"},
		{in: "*", wantErr: "global wildcard is not allowed"},
		{in: "*:*", wantErr: `unknown resource "*"`},
		{in: "", wantErr: "want resource:action"},
		{in: "tasks", wantErr: "want resource:action"},
		{in: "tasks:", wantErr: "want resource:action"},
		{in: ":read", wantErr: "want resource:action"},
		{in: "bogus:read", wantErr: `unknown resource "bogus"`},
		{in: "bogus:*", wantErr: `unknown resource "bogus"`},
		{in: "tasks:delete", wantErr: `unknown action "delete" for tasks`},
		{in: "Tasks:read", wantErr: `unknown resource "Tasks"`},
		{in: "tasks:read:extra", wantErr: "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := auth.ParsePermission(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, auth.ErrInvalidPermission)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestVocabulary(t *testing.T) {
	t.Parallel()
	all := auth.All()
	require.Len(t, all, 20, "Tasker's 17 plus tasks:pause, templates:register and auth:admin")
	seen := map[auth.Permission]bool{}
	for _, p := range all {
		require.False(t, seen[p], "%s listed twice", p)
		seen[p] = true
		got, err := auth.ParsePermission(string(p))
		require.NoError(t, err)
		require.Equal(t, p, got)
		require.False(t, p.IsWildcard())
	}
	require.Equal(t, []string{"auth", "dlq", "steps", "system", "tasks", "templates", "worker"}, auth.Resources())
}

func TestSetAllows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		granted []string
		allowed []auth.Permission
		denied  []auth.Permission
	}{
		{name: "exact", granted: []string{"tasks:read"},
			allowed: []auth.Permission{auth.TasksRead},
			denied:  []auth.Permission{auth.TasksList, auth.TasksCreate, auth.StepsRead, "tasks:*"}},
		{name: "resource wildcard", granted: []string{"tasks:*"},
			allowed: []auth.Permission{auth.TasksRead, auth.TasksCreate, auth.TasksCancel, auth.TasksPause, auth.TasksContextRead, "tasks:*"},
			denied:  []auth.Permission{auth.StepsRead, auth.DLQRead, auth.AuthAdmin}},
		{name: "several", granted: []string{"dlq:*", "steps:read"},
			allowed: []auth.Permission{auth.DLQRead, auth.DLQUpdate, auth.DLQStats, auth.StepsRead},
			denied:  []auth.Permission{auth.StepsResolve, auth.TasksRead}},
		{name: "empty", granted: nil,
			denied: []auth.Permission{auth.TasksRead, auth.AuthAdmin}},
		{name: "unknown permission asked", granted: []string{"tasks:*"},
			denied: []auth.Permission{"bogus:read", "", "*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := auth.NewSet(tt.granted...)
			require.NoError(t, err)
			for _, p := range tt.allowed {
				require.True(t, s.Allows(p), "%v allows %s", tt.granted, p)
			}
			for _, p := range tt.denied {
				require.False(t, s.Allows(p), "%v denies %s", tt.granted, p)
			}
		})
	}
}

func TestNewSetRejects(t *testing.T) {
	t.Parallel()
	_, err := auth.NewSet("tasks:read", "*", "bogus:x")
	require.ErrorIs(t, err, auth.ErrInvalidPermission)
	require.ErrorContains(t, err, `"*"`)
	require.ErrorContains(t, err, `"bogus:x"`, "every invalid permission is reported")
}

func TestSetString(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSet("tasks:read", "dlq:*", "tasks:read")
	require.NoError(t, err)
	require.Equal(t, "dlq:*,tasks:read", s.String())
	require.Equal(t, 2, s.Len())
	var zero auth.Set
	require.Equal(t, "", zero.String())
	require.False(t, zero.Allows(auth.TasksRead))
}

func TestFullSetAllowsEverything(t *testing.T) {
	t.Parallel()
	full := auth.FullSet()
	for _, p := range auth.All() {
		require.True(t, full.Allows(p), p)
	}
	_, err := auth.NewSet(full.Strings()...)
	require.NoError(t, err, "the full set parses back")
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSet("tasks:read")
	require.NoError(t, err)
	p := &auth.Principal{Subject: "ci", Kind: auth.KindAPIKey, Permissions: s}
	require.NoError(t, auth.Authorize(p, auth.TasksRead))

	err = auth.Authorize(p, auth.TasksCreate)
	require.ErrorIs(t, err, auth.ErrForbidden)
	var fe *auth.ForbiddenError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, auth.TasksCreate, fe.Permission)
	require.ErrorContains(t, err, "ci lacks permission tasks:create")
	require.Equal(t, 403, auth.HTTPStatus(err))

	require.ErrorIs(t, auth.Authorize(nil, auth.TasksRead), auth.ErrUnauthenticated)
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	require.Equal(t, 200, auth.HTTPStatus(nil))
	require.Equal(t, 401, auth.HTTPStatus(auth.ErrUnauthenticated))
	require.Equal(t, 401, auth.HTTPStatus(auth.ErrInvalidCredentials))
	require.Equal(t, 403, auth.HTTPStatus(auth.ErrForbidden))
	require.Equal(t, 503, auth.HTTPStatus(auth.ErrKeysUnavailable))
	require.Equal(t, 500, auth.HTTPStatus(auth.ErrInvalidPermission))
}
