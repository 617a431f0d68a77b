package dynamo

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordCodes are the numbers the compact transition-record form writes for
// state and event names (f, t and e), instead of names of up to 35 bytes:
// name i+1 is recordCodes[i]. A code, once written, names its state or event
// for good, so the list only grows at its end. Names not in it are written
// as strings, and so were all names before the codes, so a string always
// reads as itself and a number as its name.
var recordCodes = []string{
	// Step states, then the task states not among them.
	"pending", "enqueued", "in_progress", "enqueued_for_orchestration",
	"enqueued_as_error_for_orchestration", "waiting_for_retry", "complete", "error",
	"cancelled", "resolved_manually",
	"initializing", "enqueuing_steps", "steps_in_process", "evaluating_results",
	"waiting_for_dependencies", "blocked_by_failures",
	// The engine's creation event, step events, then the task events not
	// among them.
	"create",
	"enqueue", "start", "enqueue_for_orchestration", "enqueue_as_error_for_orchestration",
	"fail", "wait_for_retry", "retry", "reset_for_retry", "cancel", "resolve_manually",
	"complete_manually",
	"ready_steps_found", "no_steps_found", "no_dependencies_ready", "steps_enqueued",
	"enqueue_failed", "step_completed", "all_steps_completed", "step_failed",
	"all_steps_successful", "permanent_failure", "dependencies_ready", "retry_ready",
	"give_up", "manual_resolution", "reset",
}

var recordCodeOf = func() map[string]int64 {
	m := make(map[string]int64, len(recordCodes))
	for i, n := range recordCodes {
		m[n] = int64(i + 1)
	}
	return m
}()

// codeAttr is name as its code, or as a string when it has none.
func codeAttr(name string) types.AttributeValue {
	if c, ok := recordCodeOf[name]; ok {
		return num(c)
	}
	return str(name)
}

// getCode reads a name written by codeAttr (or in full). A code this
// version does not know (written by a newer one) reads as "#<code>".
func getCode(m map[string]types.AttributeValue, k string) string {
	v, ok := m[k].(*types.AttributeValueMemberN)
	if !ok {
		return getS(m, k)
	}
	c, err := strconv.Atoi(v.Value)
	if err != nil || c < 1 || c > len(recordCodes) {
		return "#" + v.Value
	}
	return recordCodes[c-1]
}
