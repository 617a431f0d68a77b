package dynamo

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// storedCodes are the codes records in tables already hold: the list may
// grow at its end, but no code may change.
var storedCodes = []string{
	"pending", "enqueued", "in_progress", "enqueued_for_orchestration",
	"enqueued_as_error_for_orchestration", "waiting_for_retry", "complete", "error",
	"cancelled", "resolved_manually", "initializing", "enqueuing_steps", "steps_in_process",
	"evaluating_results", "waiting_for_dependencies", "blocked_by_failures", "create",
	"enqueue", "start", "enqueue_for_orchestration", "enqueue_as_error_for_orchestration",
	"fail", "wait_for_retry", "retry", "reset_for_retry", "cancel", "resolve_manually",
	"complete_manually", "ready_steps_found", "no_steps_found", "no_dependencies_ready",
	"steps_enqueued", "enqueue_failed", "step_completed", "all_steps_completed", "step_failed",
	"all_steps_successful", "permanent_failure", "dependencies_ready", "retry_ready",
	"give_up", "manual_resolution", "reset",
}

func TestRecordCodesOnlyGrow(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(recordCodes), len(storedCodes))
	require.Equal(t, storedCodes, recordCodes[:len(storedCodes)], "a stored code changed meaning")
	require.Len(t, recordCodeOf, len(recordCodes), "a name listed twice")
}

func TestRecordCodesCoverTheMachines(t *testing.T) {
	t.Parallel()
	names := []string{"create"}
	for _, s := range statemachine.AllStepStates() {
		names = append(names, string(s))
	}
	for _, s := range statemachine.AllTaskStates() {
		names = append(names, string(s))
	}
	for _, e := range statemachine.AllStepEvents() {
		names = append(names, string(e))
	}
	for _, e := range statemachine.AllTaskEvents() {
		names = append(names, string(e))
	}
	for _, n := range names {
		require.True(t, slices.Contains(recordCodes, n), "%q has no code", n)
	}
}

// TestCompactRecordNames writes known names as codes and other names in
// full, and reads records written before the codes (names in full) as they
// were.
func TestCompactRecordNames(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 9, 0, 0, 1, time.UTC)
	tr := workflow.Transition{From: "in_progress", To: "enqueued_for_orchestration", Event: "enqueue_for_orchestration",
		Attempt: 2, At: at, Processor: "results", CorrelationID: "corr", Reason: "ok"}
	enc := compactForm.encode(tr).Value
	for _, k := range []string{"f", "t", "e"} {
		require.IsType(t, &types.AttributeValueMemberN{}, enc[k], k)
	}
	require.Equal(t, tr, compactForm.decode(enc))

	old := map[string]types.AttributeValue{"f": str(tr.From), "t": str(tr.To), "e": str(tr.Event), "n": num(2),
		"a": num(at.UnixNano()), "p": str("results"), "c": str("corr"), "r": str("ok")}
	require.Equal(t, tr, compactForm.decode(old))

	other := workflow.Transition{To: "x", Event: "e1", At: at}
	enc = compactForm.encode(other).Value
	require.Equal(t, str("e1"), enc["e"])
	require.Equal(t, other, compactForm.decode(enc))

	require.Equal(t, "#9999", getCode(map[string]types.AttributeValue{"t": num(9999)}, "t"), "a code from a newer version")
}
