package auth_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
)

func TestRequiredPermission(t *testing.T) {
	t.Parallel()
	const task, step = "0195f1c2-7a51-7c3e-9a10-3f2b1d4e5a6b", "0195f1c2-7a51-7c3e-9a10-000000000002"
	tests := []struct {
		method, path string
		want         auth.Permission // "" = open
	}{
		{"POST", "/v1/tasks", auth.TasksCreate},
		{"GET", "/v1/tasks", auth.TasksList},
		{"GET", "/v1/tasks/", auth.TasksList},
		{"get", "/v1/tasks", auth.TasksList},
		{"GET", "/v1/tasks/" + task, auth.TasksRead},
		{"DELETE", "/v1/tasks/" + task, auth.TasksCancel},
		{"POST", "/v1/tasks/" + task + "/pause", auth.TasksPause},
		{"POST", "/v1/tasks/" + task + "/resume", auth.TasksPause},
		{"GET", "/v1/tasks/" + task + "/audit", auth.TasksRead},
		{"GET", "/v1/tasks/" + task + "/workflow_steps", auth.StepsRead},
		{"GET", "/v1/tasks/" + task + "/workflow_steps/" + step, auth.StepsRead},
		{"PATCH", "/v1/tasks/" + task + "/workflow_steps/" + step, auth.StepsResolve},
		{"GET", "/v1/tasks/" + task + "/workflow_steps/" + step + "/audit", auth.StepsRead},
		{"GET", "/v1/templates", auth.TemplatesRead},
		{"GET", "/v1/templates/billing/invoice/1.2.0", auth.TemplatesRead},
		{"POST", "/v1/templates/billing/invoice/1.2.0/validate", auth.TemplatesValidate},
		{"GET", "/v1/dlq", auth.DLQRead},
		{"GET", "/v1/dlq/task/" + task, auth.DLQRead},
		{"PATCH", "/v1/dlq/entry/" + task, auth.DLQUpdate},
		{"GET", "/v1/dlq/stats", auth.DLQStats},
		{"GET", "/v1/dlq/investigation-queue", auth.DLQRead},
		{"GET", "/v1/analytics/performance", auth.SystemAnalyticsRead},
		{"GET", "/config", auth.SystemConfigRead},
		{"GET", "/health", ""},
		{"GET", "/health/live", ""},
		{"GET", "/health/ready", ""},
		{"GET", "/health/ready/", ""},
		{"GET", "/metrics", ""},
		// Deny by default: anything the table does not know needs auth:admin.
		{"POST", "/health", auth.AuthAdmin},
		{"GET", "/health/detailed", auth.AuthAdmin},
		{"GET", "/v1/secrets", auth.AuthAdmin},
		{"PUT", "/v1/tasks", auth.AuthAdmin},
		{"PATCH", "/v1/tasks/" + task, auth.AuthAdmin},
		{"GET", "/v1/tasks//audit", auth.AuthAdmin},
		{"GET", "//v1/tasks", auth.AuthAdmin},
		{"GET", "/v1/tasks/" + task + "/workflow_steps/" + step + "/audit/more", auth.AuthAdmin},
		{"GET", "/", auth.AuthAdmin},
		{"GET", "", auth.AuthAdmin},
		{"GET", "/HEALTH", auth.AuthAdmin},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			got, needed := auth.RequiredPermission(tt.method, tt.path)
			require.Equal(t, tt.want != "", needed)
			if needed {
				require.Equal(t, tt.want, got)
			}
		})
	}
}

// TestRouteTableDocumented checks that docs/auth.md lists every row of the
// route table and every permission.
func TestRouteTableDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/auth.md")
	require.NoError(t, err)
	doc := string(b)
	for _, rt := range auth.RoutePermissions() {
		require.Contains(t, doc, "`"+rt.Method+" "+rt.Path+"`", "docs/auth.md lists %s %s", rt.Method, rt.Path)
	}
	for _, p := range auth.All() {
		require.Contains(t, doc, "`"+string(p)+"`", "docs/auth.md lists %s", p)
	}
}

func TestRouteTableUsesTheVocabulary(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, rt := range auth.RoutePermissions() {
		key := rt.Method + " " + rt.Path
		require.False(t, seen[key], "%s listed twice", key)
		seen[key] = true
		if rt.Permission != "" {
			_, err := auth.ParsePermission(string(rt.Permission))
			require.NoError(t, err)
			require.False(t, rt.Permission.IsWildcard())
		}
	}
}
