package statemachine

// The expectations below are written out by hand, as plain strings, on
// purpose: they do not use the package's constants or tables, so a change to
// the implementation that is not also made here fails the tests.

// wantTaskStates lists the twelve task states in declaration order.
var wantTaskStates = []string{
	"pending", "initializing", "enqueuing_steps", "steps_in_process",
	"evaluating_results", "waiting_for_dependencies", "waiting_for_retry",
	"blocked_by_failures", "complete", "error", "cancelled", "resolved_manually",
}

// wantTaskEvents lists the task events in declaration order.
var wantTaskEvents = []string{
	"start", "ready_steps_found", "no_steps_found", "no_dependencies_ready",
	"steps_enqueued", "enqueue_failed", "step_completed", "all_steps_completed",
	"step_failed", "all_steps_successful", "permanent_failure",
	"dependencies_ready", "retry_ready", "give_up", "manual_resolution",
	"cancel", "reset", "resolve_manually", "complete", "fail",
}

// wantTaskNext maps from-state → event → to-state. A pair absent here must be
// refused.
var wantTaskNext = map[string]map[string]string{
	"pending": {
		"start":            "initializing",
		"cancel":           "cancelled",
		"resolve_manually": "resolved_manually",
	},
	"initializing": {
		"ready_steps_found":     "enqueuing_steps",
		"no_steps_found":        "complete",
		"no_dependencies_ready": "waiting_for_dependencies",
		"cancel":                "cancelled",
		"resolve_manually":      "resolved_manually",
	},
	"enqueuing_steps": {
		"steps_enqueued":   "steps_in_process",
		"enqueue_failed":   "error",
		"cancel":           "cancelled",
		"resolve_manually": "resolved_manually",
	},
	"steps_in_process": {
		"step_completed":      "evaluating_results",
		"all_steps_completed": "evaluating_results",
		"step_failed":         "waiting_for_retry",
		"complete":            "complete",
		"fail":                "error",
		"cancel":              "cancelled",
		"resolve_manually":    "resolved_manually",
	},
	"evaluating_results": {
		"all_steps_successful":  "complete",
		"ready_steps_found":     "enqueuing_steps",
		"no_dependencies_ready": "waiting_for_dependencies",
		"permanent_failure":     "blocked_by_failures",
		"cancel":                "cancelled",
		"resolve_manually":      "resolved_manually",
	},
	"waiting_for_dependencies": {
		"dependencies_ready": "evaluating_results",
		"cancel":             "cancelled",
		"resolve_manually":   "resolved_manually",
	},
	"waiting_for_retry": {
		"retry_ready":      "enqueuing_steps",
		"cancel":           "cancelled",
		"resolve_manually": "resolved_manually",
	},
	"blocked_by_failures": {
		"give_up":           "error",
		"manual_resolution": "resolved_manually",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
	},
	"error": {
		"reset":            "pending",
		"resolve_manually": "resolved_manually",
	},
	"complete":          {},
	"cancelled":         {},
	"resolved_manually": {},
}

// wantTaskTerminal is the set of terminal task states.
var wantTaskTerminal = map[string]bool{
	"complete": true, "error": true, "cancelled": true, "resolved_manually": true,
}

// wantStepStates lists the ten step states in declaration order.
var wantStepStates = []string{
	"pending", "enqueued", "in_progress", "enqueued_for_orchestration",
	"enqueued_as_error_for_orchestration", "waiting_for_retry", "complete",
	"error", "cancelled", "resolved_manually",
}

// wantStepEvents lists the step events in declaration order.
var wantStepEvents = []string{
	"enqueue", "start", "enqueue_for_orchestration",
	"enqueue_as_error_for_orchestration", "complete", "fail", "wait_for_retry",
	"retry", "reset_for_retry", "cancel", "resolve_manually", "complete_manually",
}

// wantStepNext maps from-state → event → to-state. A pair absent here must be
// refused.
var wantStepNext = map[string]map[string]string{
	"pending": {
		"enqueue":           "enqueued",
		"start":             "in_progress",
		"wait_for_retry":    "waiting_for_retry",
		"fail":              "error",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"enqueued": {
		"start":             "in_progress",
		"wait_for_retry":    "waiting_for_retry",
		"fail":              "error",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"in_progress": {
		"enqueue_for_orchestration":          "enqueued_for_orchestration",
		"enqueue_as_error_for_orchestration": "enqueued_as_error_for_orchestration",
		"complete":                           "complete",
		"fail":                               "error",
		"wait_for_retry":                     "waiting_for_retry",
		"cancel":                             "cancelled",
		"resolve_manually":                   "resolved_manually",
		"complete_manually":                  "complete",
	},
	"enqueued_for_orchestration": {
		"complete":          "complete",
		"fail":              "error",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"enqueued_as_error_for_orchestration": {
		"wait_for_retry":    "waiting_for_retry",
		"fail":              "error",
		"complete":          "complete",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"waiting_for_retry": {
		"retry":             "pending",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"error": {
		"retry":             "pending",
		"reset_for_retry":   "pending",
		"cancel":            "cancelled",
		"resolve_manually":  "resolved_manually",
		"complete_manually": "complete",
	},
	"complete":          {},
	"cancelled":         {},
	"resolved_manually": {},
}

// wantStepTerminal is the set of terminal step states.
var wantStepTerminal = map[string]bool{
	"complete": true, "cancelled": true, "resolved_manually": true,
}

// wantStepSatisfies is the set of step states that satisfy a dependency.
var wantStepSatisfies = map[string]bool{
	"complete": true, "resolved_manually": true,
}

// wantStepActive is the set of step states with work in flight.
var wantStepActive = map[string]bool{
	"enqueued": true, "in_progress": true, "enqueued_for_orchestration": true,
	"enqueued_as_error_for_orchestration": true,
}

// countRows counts the rows of an expectation map.
func countRows(m map[string]map[string]string) int {
	n := 0
	for _, evs := range m {
		n += len(evs)
	}
	return n
}

// asStrings converts a slice of a string type to []string.
func asStrings[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}
