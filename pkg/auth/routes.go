package auth

import "strings"

// RoutePermission is one row of the route table. Path parameters are
// written in braces and match any one non-empty segment. An empty
// Permission marks an open route.
type RoutePermission struct {
	Method     string
	Path       string
	Permission Permission
}

// routeTable is the route table, matched in order. Open routes come first.
var routeTable = []RoutePermission{
	{"GET", "/health", ""},
	{"GET", "/health/live", ""},
	{"GET", "/health/ready", ""},
	{"GET", "/metrics", ""},

	{"POST", "/v1/tasks", TasksCreate},
	{"GET", "/v1/tasks", TasksList},
	{"GET", "/v1/tasks/{task_uuid}", TasksRead},
	{"DELETE", "/v1/tasks/{task_uuid}", TasksCancel},
	{"GET", "/v1/tasks/{task_uuid}/audit", TasksRead},
	{"GET", "/v1/tasks/{task_uuid}/summary", TasksRead},
	{"GET", "/v1/tasks/{task_uuid}/context", TasksContextRead},
	{"POST", "/v1/tasks/{task_uuid}/pause", TasksPause},
	{"POST", "/v1/tasks/{task_uuid}/resume", TasksPause},

	{"GET", "/v1/tasks/{task_uuid}/workflow_steps", StepsRead},
	{"GET", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", StepsRead},
	{"PATCH", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", StepsResolve},
	{"GET", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit", StepsRead},

	{"GET", "/v1/templates", TemplatesRead},
	{"POST", "/v1/templates", TemplatesRegister},
	{"GET", "/v1/templates/{namespace}", TemplatesRead},
	{"GET", "/v1/templates/{namespace}/{name}", TemplatesRead},
	{"GET", "/v1/templates/{namespace}/{name}/{version}", TemplatesRead},
	{"POST", "/v1/templates/validate", TemplatesValidate},
	{"POST", "/v1/templates/{namespace}/{name}/{version}/validate", TemplatesValidate},

	{"GET", "/v1/dlq", DLQRead},
	{"GET", "/v1/dlq/stats", DLQStats},
	{"GET", "/v1/dlq/investigation-queue", DLQRead},
	{"GET", "/v1/dlq/staleness", DLQRead},
	{"GET", "/v1/dlq/task/{task_uuid}", DLQRead},
	{"GET", "/v1/dlq/entry/{entry_uuid}", DLQRead},
	{"PATCH", "/v1/dlq/entry/{entry_uuid}", DLQUpdate},

	{"GET", "/v1/analytics/performance", SystemAnalyticsRead},
	{"GET", "/v1/analytics/bottlenecks", SystemAnalyticsRead},
	{"GET", "/v1/handlers", SystemHandlersRead},
	{"GET", "/v1/handlers/{namespace}", SystemHandlersRead},
	{"GET", "/v1/handlers/{namespace}/{name}", SystemHandlersRead},
	{"GET", "/config", SystemConfigRead},
}

// RoutePermissions returns the route table, in matching order.
func RoutePermissions() []RoutePermission {
	out := make([]RoutePermission, len(routeTable))
	copy(out, routeTable)
	return out
}

// RequiredPermission returns the permission a request needs. method is
// upper-cased; path is the request path without query string or stage
// prefix (a trailing slash is ignored, as the API handler ignores it). It
// returns false for the open routes (health and metrics), which need no
// credentials, and AuthAdmin for any route not in the table: unknown routes
// are denied by default.
func RequiredPermission(method, path string) (Permission, bool) {
	method = strings.ToUpper(method)
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, rt := range routeTable {
		if rt.Method == method && matchSegments(rt.Path, segs) {
			return rt.Permission, rt.Permission != ""
		}
	}
	return AuthAdmin, true
}

// matchSegments matches pattern segment by segment, as package api does.
func matchSegments(pattern string, segs []string) bool {
	want := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	if len(want) != len(segs) {
		return false
	}
	for i, w := range want {
		if strings.HasPrefix(w, "{") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if w != segs[i] {
			return false
		}
	}
	return true
}
