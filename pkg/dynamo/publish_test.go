package dynamo_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestCreateTaskRefusedBeforePublishLeavesNothing: when beforePublish
// refuses (the engine's creation took longer than it may, and another
// creation may take its identity over), the task is not published, the
// steps and context are removed and the identity is released, so a later
// creation with the same identity succeeds at once.
func TestCreateTaskRefusedBeforePublishLeavesNothing(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{}
	s, db, table := recordedStore(t, rec)
	hash := "slow-" + uuid.NewString()
	slow := newTask("suite", t0)
	slow.IdentityHash = hash
	tooSlow := errors.New("too slow")
	err := s.CreateTaskWith(t.Context(), slow, namedSteps("s", 2), func(*workflow.Task) error { return tooSlow })
	require.ErrorIs(t, err, tooSlow)
	require.Empty(t, partition(t, db, table, slow.UUID), "a refused creation left items")
	require.Empty(t, identityItem(t, db, table, hash), "a refused creation kept its identity")

	again := newTask("suite", t0)
	again.IdentityHash = hash
	require.NoError(t, s.CreateTask(t.Context(), again, namedSteps("s", 2)))
}
