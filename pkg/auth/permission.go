package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is one "resource:action" permission, or a "resource:*"
// wildcard when it comes from ParsePermission.
type Permission string

// The permissions. The first seventeen are Tasker's; TasksPause (pause and
// resume a task) and AuthAdmin (routes the table does not know) are ours.
const (
	TasksCreate      Permission = "tasks:create"
	TasksRead        Permission = "tasks:read"
	TasksList        Permission = "tasks:list"
	TasksCancel      Permission = "tasks:cancel"
	TasksContextRead Permission = "tasks:context_read"
	TasksPause       Permission = "tasks:pause"

	StepsRead    Permission = "steps:read"
	StepsResolve Permission = "steps:resolve"

	DLQRead   Permission = "dlq:read"
	DLQUpdate Permission = "dlq:update"
	DLQStats  Permission = "dlq:stats"

	TemplatesRead     Permission = "templates:read"
	TemplatesValidate Permission = "templates:validate"
	// TemplatesRegister is ours: registering a template changes what can run.
	TemplatesRegister Permission = "templates:register"

	SystemConfigRead    Permission = "system:config_read"
	SystemHandlersRead  Permission = "system:handlers_read"
	SystemAnalyticsRead Permission = "system:analytics_read"

	WorkerConfigRead    Permission = "worker:config_read"
	WorkerTemplatesRead Permission = "worker:templates_read"

	AuthAdmin Permission = "auth:admin"
)

// all lists every permission, grouped by resource.
var all = []Permission{
	TasksCreate, TasksRead, TasksList, TasksCancel, TasksContextRead, TasksPause,
	StepsRead, StepsResolve,
	DLQRead, DLQUpdate, DLQStats,
	TemplatesRead, TemplatesValidate, TemplatesRegister,
	SystemConfigRead, SystemHandlersRead, SystemAnalyticsRead,
	WorkerConfigRead, WorkerTemplatesRead,
	AuthAdmin,
}

// All returns every permission in the vocabulary, grouped by resource.
func All() []Permission { return slices.Clone(all) }

// Resources returns the resources of the vocabulary in sorted order; each
// has a "resource:*" wildcard.
func Resources() []string {
	var out []string
	for _, p := range all {
		if r := p.Resource(); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// Resource returns the part before the colon ("tasks" for "tasks:read").
func (p Permission) Resource() string {
	r, _, _ := strings.Cut(string(p), ":")
	return r
}

// Action returns the part after the colon ("read" for "tasks:read", "*" for
// a wildcard).
func (p Permission) Action() string {
	_, a, _ := strings.Cut(string(p), ":")
	return a
}

// IsWildcard reports whether p is a "resource:*" wildcard.
func (p Permission) IsWildcard() bool { return p.Action() == "*" }

// String returns the permission as written.
func (p Permission) String() string { return string(p) }

// ParsePermission parses "resource:action" or "resource:*" strictly: it
// returns an error wrapping ErrInvalidPermission for a bare "*", for
// anything not of the form resource:action, and for a resource or action
// outside the vocabulary. Surrounding spaces are ignored.
func ParsePermission(s string) (Permission, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return "", fmt.Errorf(`%w "*": a global wildcard is not allowed; grant each resource instead, e.g. "tasks:*"`, ErrInvalidPermission)
	}
	resource, action, ok := strings.Cut(s, ":")
	if !ok || resource == "" || action == "" {
		return "", fmt.Errorf("%w %q: want resource:action, e.g. tasks:read", ErrInvalidPermission, s)
	}
	known := actionsOf(resource)
	if len(known) == 0 {
		return "", fmt.Errorf("%w %q: unknown resource %q (known: %s)", ErrInvalidPermission, s, resource, strings.Join(Resources(), ", "))
	}
	if action != "*" && !slices.Contains(known, action) {
		return "", fmt.Errorf("%w %q: unknown action %q for %s (known: %s, *)", ErrInvalidPermission, s, action, resource, strings.Join(known, ", "))
	}
	return Permission(s), nil
}

// actionsOf returns the sorted actions of a resource, none if it is unknown.
func actionsOf(resource string) []string {
	var out []string
	for _, p := range all {
		if p.Resource() == resource {
			out = append(out, p.Action())
		}
	}
	slices.Sort(out)
	return out
}
