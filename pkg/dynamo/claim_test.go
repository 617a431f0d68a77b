package dynamo_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestClaimPendingStepRecordsEnqueueAndStart claims a step the engine sent
// without storing its enqueue: one write moves it from pending to
// in_progress and records both transitions, the enqueue at the message's
// time; a claim that expects the other state fails and changes nothing.
func TestClaimPendingStepRecordsEnqueueAndStart(t *testing.T) {
	t.Parallel()
	s := newRawStore(t)
	task := createTask(t, s.Store, newStep("a"))
	sentAt, claimedAt := t0.Add(time.Second), t0.Add(3*time.Second)

	_, err := s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, "w", "", claimedAt)
	require.True(t, errors.Is(err, workflow.ErrConflict), "a claim from enqueued of a pending step: %v", err)

	got, err := s.ClaimPendingStep(t.Context(), task.UUID, "a", 1, time.Minute, "w", task.CorrelationID, sentAt, claimedAt)
	require.NoError(t, err)
	require.Equal(t, "in_progress", string(got.State))
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, &sentAt, got.EnqueuedAt)
	require.Equal(t, &claimedAt, got.ClaimedAt)
	var path []string
	for _, tr := range got.History {
		path = append(path, tr.From+">"+tr.To+":"+tr.Event)
	}
	require.Equal(t, []string{">pending:create", "pending>enqueued:enqueue", "enqueued>in_progress:start"}, path)
	require.Equal(t, got.History, getStep(t, s.Store, task.UUID, "a").History)

	_, err = s.ClaimPendingStep(t.Context(), task.UUID, "a", 1, time.Minute, "w2", "", sentAt, claimedAt.Add(time.Second))
	require.True(t, errors.Is(err, workflow.ErrConflict), "a second claim of the same message: %v", err)
}
