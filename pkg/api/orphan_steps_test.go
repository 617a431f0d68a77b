package api_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestStepsWithoutTaskAreNotServed: step items under a key with no task
// item (a creation that stopped before its transaction) answer like an
// unknown task.
func TestStepsWithoutTaskAreNotServed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	orphan, stepID := uuid.NewString(), uuid.NewString()
	_, err := srv.Engine.Store().PutSteps(t.Context(), orphan, []*workflow.Step{{
		UUID: stepID, Name: "a", TemplateStep: "a", Handler: "h", Type: "standard", State: statemachine.StepPending, MaxAttempts: 1,
	}})
	require.NoError(t, err)

	base := "/v1/tasks/" + orphan + "/workflow_steps"
	for _, target := range []string{base, base + "/" + stepID, base + "/" + stepID + "/audit", "/v1/tasks/" + orphan, "/v1/tasks/" + orphan + "/audit"} {
		errorOf(t, do(t, srv.Handler, "GET", target, ""), 404, api.CodeTaskNotFound)
	}
}
