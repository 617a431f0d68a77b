package dynamo_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// This file is the store's conformance suite: every test runs over real
// DynamoDB wire calls against the embedded emulator (or the endpoint named
// by TASKER_TEST_ENDPOINT), each on its own table.

// t0 is the suite's reference time. Its nanoseconds have no trailing zero,
// so every RFC 3339 rendering of t0 + whole seconds has the same width.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

func newStore(t *testing.T) *dynamo.Store {
	t.Helper()
	f := localtest.New(t)
	return dynamo.New(f.Env.DynamoDB, f.Names.StateTable())
}

// newTask returns a started task (no sweep entry) in namespace ns.
func newTask(ns string, created time.Time) *workflow.Task {
	id := uuid.NewString()
	return &workflow.Task{
		UUID: id, Namespace: ns, Name: "flow", Version: "1.0.0",
		State: statemachine.TaskStepsInProcess, Rev: 1, Context: json.RawMessage(`{"order":42}`),
		Initiator: "suite", SourceSystem: "test", CorrelationID: "corr-" + id,
		CreatedAt: created, UpdatedAt: created,
		History: []workflow.Transition{{To: string(statemachine.TaskPending), Event: "create", At: created}},
	}
}

func newStep(name string, deps ...string) *workflow.Step {
	return &workflow.Step{
		UUID: uuid.NewString(), Name: name, TemplateStep: name, Handler: "h", Type: "standard",
		State: statemachine.StepPending, MaxAttempts: 3, Retryable: true, Dependencies: deps, CreatedAt: t0,
		History: []workflow.Transition{{To: string(statemachine.StepPending), Event: "create", At: t0}},
	}
}

func namedSteps(prefix string, n int) []*workflow.Step {
	steps := make([]*workflow.Step, n)
	for i := range steps {
		steps[i] = newStep(fmt.Sprintf("%s%03d", prefix, i))
	}
	return steps
}

// createTask stores a started task with the given steps and counts them as unfinished.
func createTask(t *testing.T, s *dynamo.Store, steps ...*workflow.Step) *workflow.Task {
	t.Helper()
	task := newTask("suite", t0)
	require.NoError(t, s.CreateTask(t.Context(), task, steps))
	return task
}

func enqueue(t *testing.T, s *dynamo.Store, task, step string) {
	t.Helper()
	_, err := s.TransitionStep(t.Context(), task, step, dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepPending}, Attempts: 0, To: statemachine.StepEnqueued, At: t0,
		Transitions: []workflow.Transition{{From: "pending", To: "enqueued", Event: "enqueue", Attempt: 1, At: t0}},
	})
	require.NoError(t, err)
}

// inProgress moves a pending step to in_progress on attempt 1, claimed at now.
func inProgress(t *testing.T, s *dynamo.Store, task, step string, now time.Time) {
	t.Helper()
	enqueue(t, s, task, step)
	_, err := s.ClaimStep(t.Context(), task, step, 1, time.Minute, "worker-1", "corr", now)
	require.NoError(t, err)
}

func getTask(t *testing.T, s *dynamo.Store, id string) *workflow.Task {
	t.Helper()
	got, err := s.GetTask(t.Context(), id)
	require.NoError(t, err)
	return got
}

func getStep(t *testing.T, s *dynamo.Store, task, name string) *workflow.Step {
	t.Helper()
	got, err := s.GetStep(t.Context(), task, name)
	require.NoError(t, err)
	return got
}

func TestCreateTaskRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := newTask("suite", t0)
	task.Tags, task.Priority, task.Reason = []string{"a", "b"}, 7, "because"
	task.ParentCorrelationID, task.IdempotencyKey, task.IdentityHash = "parent", "key-1", "hash-roundtrip"
	a, b := newStep("a"), newStep("b", "a")
	b.TimeoutSecs, b.Inputs = 12, json.RawMessage(`{"cursor":3}`)
	require.NoError(t, s.CreateTask(t.Context(), task, []*workflow.Step{a, b}))

	got := getTask(t, s, task.UUID)
	require.Equal(t, task.UUID, got.UUID)
	require.Equal(t, statemachine.TaskStepsInProcess, got.State)
	require.Equal(t, []string{"a", "b"}, got.Tags)
	require.Equal(t, 7, got.Priority)
	require.Equal(t, "because", got.Reason)
	require.Equal(t, "parent", got.ParentCorrelationID)
	require.Equal(t, "key-1", got.IdempotencyKey)
	require.Equal(t, "hash-roundtrip", got.IdentityHash)
	require.True(t, t0.Equal(got.CreatedAt), "created_at %s", got.CreatedAt)
	require.Nil(t, got.CompletedAt)
	require.Len(t, got.History, 1)
	require.Nil(t, got.Context, "GetTask does not read the context")

	c, err := s.GetContext(t.Context(), task.UUID)
	require.NoError(t, err)
	require.JSONEq(t, `{"order":42}`, string(c))

	owner, err := s.LookupIdentity(t.Context(), "hash-roundtrip")
	require.NoError(t, err)
	require.Equal(t, task.UUID, owner)

	gb := getStep(t, s, task.UUID, "b")
	require.Equal(t, b.UUID, gb.UUID)
	require.Equal(t, task.UUID, gb.TaskUUID)
	require.Equal(t, statemachine.StepPending, gb.State)
	require.Equal(t, []string{"a"}, gb.Dependencies)
	require.Empty(t, gb.Satisfied)
	require.Equal(t, 12, gb.TimeoutSecs)
	require.JSONEq(t, `{"cursor":3}`, string(gb.Inputs))
	require.Equal(t, 3, gb.MaxAttempts)
	require.True(t, gb.Retryable)
	require.False(t, gb.DependenciesMet())
}

func TestCreateTaskWithoutContextStoresEmptyObject(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := newTask("suite", t0)
	task.Context = nil
	require.NoError(t, s.CreateTask(t.Context(), task, nil))
	c, err := s.GetContext(t.Context(), task.UUID)
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(c))
}

func TestCreateTaskDuplicateIdentityWritesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps int
	}{
		{"one batch of steps", 3},
		{"more steps than a transaction holds", 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			first := newTask("suite", t0)
			first.IdentityHash = "same-identity"
			require.NoError(t, s.CreateTask(t.Context(), first, namedSteps("s", tt.steps)))
			steps, err := s.ListSteps(t.Context(), first.UUID)
			require.NoError(t, err)
			require.Len(t, steps, tt.steps)

			second := newTask("suite", t0.Add(time.Second))
			second.IdentityHash = "same-identity"
			err = s.CreateTask(t.Context(), second, namedSteps("s", tt.steps))
			require.ErrorIs(t, err, workflow.ErrDuplicateTask)

			_, err = s.GetTask(t.Context(), second.UUID)
			require.ErrorIs(t, err, workflow.ErrNotFound)
			_, err = s.GetContext(t.Context(), second.UUID)
			require.ErrorIs(t, err, workflow.ErrNotFound)
			steps, err = s.ListSteps(t.Context(), second.UUID)
			require.NoError(t, err)
			require.Empty(t, steps)
			owner, err := s.LookupIdentity(t.Context(), "same-identity")
			require.NoError(t, err)
			require.Equal(t, first.UUID, owner, "the identity still names the first task")
			page, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "suite"}, 10, "")
			require.NoError(t, err)
			require.Len(t, page.Tasks, 1)
		})
	}
}

func TestCreateTaskManyStepsCreatesAll(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, namedSteps("s", 230)...)
	steps, err := s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, steps, 230)
	require.Equal(t, "s000", steps[0].Name)
	require.Equal(t, "s229", steps[229].Name)
}

func TestCreateTaskContextSize(t *testing.T) {
	t.Parallel()
	// contextOf returns a JSON object of exactly n bytes.
	contextOf := func(n int) json.RawMessage {
		return json.RawMessage(`{"p":"` + strings.Repeat("x", n-8) + `"}`)
	}
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"at the limit", dynamo.MaxContextBytes, nil},
		{"one byte over", dynamo.MaxContextBytes + 1, workflow.ErrTooLarge},
		{"far over", 4 * dynamo.MaxContextBytes, workflow.ErrTooLarge},
	}
	s := newStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			task := newTask("suite", t0)
			task.Context = contextOf(tt.size)
			require.Len(t, task.Context, tt.size)
			err := s.CreateTask(t.Context(), task, []*workflow.Step{newStep("a")})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				_, err = s.GetTask(t.Context(), task.UUID)
				require.ErrorIs(t, err, workflow.ErrNotFound, "nothing is written")
				_, err = s.GetStep(t.Context(), task.UUID, "a")
				require.ErrorIs(t, err, workflow.ErrNotFound, "nothing is written")
				return
			}
			require.NoError(t, err)
			c, err := s.GetContext(t.Context(), task.UUID)
			require.NoError(t, err)
			require.Equal(t, string(task.Context), string(c))
		})
	}
}

func TestMissingRecordsAreNotFound(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	tests := []struct {
		name string
		call func() error
	}{
		{"GetTask", func() error { _, err := s.GetTask(t.Context(), "no-such-task"); return err }},
		{"GetContext", func() error { _, err := s.GetContext(t.Context(), "no-such-task"); return err }},
		{"GetStep of a missing task", func() error { _, err := s.GetStep(t.Context(), "no-such-task", "a"); return err }},
		{"GetStep of a missing step", func() error { _, err := s.GetStep(t.Context(), task.UUID, "zz"); return err }},
		{"LookupIdentity", func() error { _, err := s.LookupIdentity(t.Context(), "no-such-hash"); return err }},
		{"GetTemplate", func() error { _, err := s.GetTemplate(t.Context(), "ns", "tpl", "1.0.0"); return err }},
		{"LatestTemplateVersion", func() error { _, err := s.LatestTemplateVersion(t.Context(), "ns", "tpl"); return err }},
		{"SatisfyDependency of a missing step", func() error {
			_, err := s.SatisfyDependency(t.Context(), task.UUID, "zz", "a")
			return err
		}},
		{"TransitionStep of a missing step", func() error {
			_, err := s.TransitionStep(t.Context(), task.UUID, "zz", dynamo.StepChange{
				From: []statemachine.StepState{statemachine.StepPending}, To: statemachine.StepEnqueued, At: t0})
			return err
		}},
		{"ClaimStep of a missing step", func() error {
			_, err := s.ClaimStep(t.Context(), task.UUID, "zz", 1, time.Minute, "w", "", t0)
			return err
		}},
		{"SetPaused", func() error { return s.SetPaused(t.Context(), "no-such-task", true, t0, time.Time{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tt.call(), workflow.ErrNotFound)
		})
	}
	got, err := s.GetSteps(t.Context(), task.UUID, []string{"a", "zz"})
	require.NoError(t, err)
	require.Len(t, got, 1, "GetSteps leaves missing steps out")
	require.Contains(t, got, "a")
}

func TestTransitionTaskGuards(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	tests := []struct {
		name   string
		change dynamo.TaskChange
	}{
		{"wrong from state", dynamo.TaskChange{From: statemachine.TaskPending, To: statemachine.TaskInitializing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := getTask(t, s, task.UUID)
			c := tt.change
			c.At = t0.Add(time.Minute)
			c.Transitions = []workflow.Transition{{From: string(c.From), To: string(c.To), Event: "x", At: c.At}}
			_, err := s.TransitionTask(t.Context(), task.UUID, c)
			require.ErrorIs(t, err, workflow.ErrConflict)
			after := getTask(t, s, task.UUID)
			require.Equal(t, before.State, after.State)
			require.Equal(t, before.Rev, after.Rev)
			require.Len(t, after.History, len(before.History))
		})
	}

	at := t0.Add(2 * time.Minute)
	got, err := s.TransitionTask(t.Context(), task.UUID, dynamo.TaskChange{
		From: statemachine.TaskStepsInProcess, To: statemachine.TaskComplete, At: at,
		Transitions: []workflow.Transition{{From: "steps_in_process", To: "complete", Event: "all_steps_successful", At: at}},
	})
	require.NoError(t, err)
	require.Equal(t, statemachine.TaskComplete, got.State)
	require.Equal(t, task.Rev+1, got.Rev)
	require.NotNil(t, got.CompletedAt)
	require.True(t, at.Equal(*got.CompletedAt))
	require.Len(t, got.History, 2)
	require.Equal(t, "all_steps_successful", got.History[1].Event)
}

func TestTransitionStepGuardsChangeNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	inProgress(t, s, task.UUID, "a", t0) // in_progress, attempt 1
	tests := []struct {
		name     string
		from     []statemachine.StepState
		attempts int
	}{
		{"wrong from state", []statemachine.StepState{statemachine.StepEnqueued}, 1},
		{"wrong from states", []statemachine.StepState{statemachine.StepPending, statemachine.StepWaitingForRetry}, -1},
		{"wrong attempts", []statemachine.StepState{statemachine.StepInProgress}, 2},
		{"stale attempt", []statemachine.StepState{statemachine.StepInProgress}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			beforeStep := getStep(t, s, task.UUID, "a")
			beforeTask := getTask(t, s, task.UUID)
			at := t0.Add(time.Hour)
			_, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
				From: tt.from, Attempts: tt.attempts, To: statemachine.StepComplete, At: at,
				Result:      json.RawMessage(`{"x":1}`),
				Transitions: []workflow.Transition{{From: "in_progress", To: "complete", Event: "complete", Attempt: 1, At: at}},
			})
			require.ErrorIs(t, err, workflow.ErrConflict)
			afterStep := getStep(t, s, task.UUID, "a")
			require.Equal(t, statemachine.StepInProgress, afterStep.State)
			require.Equal(t, 1, afterStep.Attempts)
			require.Nil(t, afterStep.Result)
			require.Nil(t, afterStep.CompletedAt)
			require.Len(t, afterStep.History, len(beforeStep.History))
			afterTask := getTask(t, s, task.UUID)
			require.Equal(t, beforeTask.Rev, afterTask.Rev)
		})
	}
}

func TestTransitionStepWritesFields(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	inProgress(t, s, task.UUID, "a", t0)
	next := t0.Add(time.Minute)
	failed, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: 1, To: statemachine.StepWaitingForRetry, At: t0,
		Error:       &protocol.StepError{Message: "boom", ErrorType: "http", Retryable: true, StatusCode: 503, RetryAfterSeconds: 1.5, Context: json.RawMessage(`{"url":"u"}`)},
		NextRetryAt: &next, SweepAt: next,
	})
	require.NoError(t, err)
	require.Equal(t, statemachine.StepWaitingForRetry, failed.State)
	require.Equal(t, &protocol.StepError{Message: "boom", ErrorType: "http", Retryable: true, StatusCode: 503,
		RetryAfterSeconds: 1.5, Context: json.RawMessage(`{"url":"u"}`)}, failed.Error)
	require.NotNil(t, failed.NextRetryAt)
	require.True(t, next.Equal(*failed.NextRetryAt))
	require.NotNil(t, failed.LastFailure)

	// Retry and complete: the error and the retry time are cleared.
	retry := 0
	_, err = s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepWaitingForRetry}, Attempts: 1, To: statemachine.StepEnqueued, At: t0,
	})
	require.NoError(t, err)
	_, err = s.ClaimStep(t.Context(), task.UUID, "a", 2, time.Minute, "worker-2", "", t0)
	require.NoError(t, err)
	ref := &protocol.PayloadRef{PK: "T#" + task.UUID, SK: "B#a#2#result", Chunks: 1, Bytes: 5}
	done, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: 2, To: statemachine.StepComplete, At: t0,
		ResultRef: ref,
	})
	require.NoError(t, err)
	require.Equal(t, statemachine.StepComplete, done.State)
	require.Equal(t, 2, done.Attempts)
	require.Equal(t, "worker-2", done.WorkerID)
	require.Nil(t, done.Error)
	require.Nil(t, done.NextRetryAt)
	require.Equal(t, ref, done.ResultRef)
	require.NotNil(t, done.CompletedAt)

	// Reset to zero attempts (SetAttempts) with any attempts (-1).
	reset, err := s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepError, statemachine.StepComplete}, Attempts: -1,
		To: statemachine.StepPending, At: t0, SetAttempts: &retry,
	})
	require.NoError(t, err)
	require.Equal(t, 0, reset.Attempts)
	require.Equal(t, statemachine.StepPending, reset.State)
}

func TestClaimStep(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"), newStep("b"))
	enqueue(t, s, task.UUID, "a")

	_, err := s.ClaimStep(t.Context(), task.UUID, "a", 2, time.Minute, "w", "", t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "attempt 2 of a step with no attempt yet")
	_, err = s.ClaimStep(t.Context(), task.UUID, "b", 1, time.Minute, "w", "", t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "a pending step cannot be claimed")

	got, err := s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, "worker-1", "corr-1", t0)
	require.NoError(t, err)
	require.Equal(t, statemachine.StepInProgress, got.State)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, "worker-1", got.WorkerID)
	require.NotNil(t, got.ClaimedAt)
	require.True(t, t0.Equal(*got.ClaimedAt))
	last := got.History[len(got.History)-1]
	require.Equal(t, workflow.Transition{From: "enqueued", To: "in_progress", Event: "start", Attempt: 1, At: t0,
		Processor: "worker-1", CorrelationID: "corr-1"}, last)

	_, err = s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, "worker-2", "corr-1", t0.Add(time.Second))
	require.ErrorIs(t, err, workflow.ErrConflict, "second claim of the same attempt")
	after := getStep(t, s, task.UUID, "a")
	require.Equal(t, "worker-1", after.WorkerID)
	require.Len(t, after.History, len(got.History))
}

func TestClaimStepConcurrentlyOnlyOneWins(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	enqueue(t, s, task.UUID, "a")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, fmt.Sprintf("worker-%d", i), "", t0)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, workflow.ErrConflict)
	}
	require.Equal(t, 1, won)
	got := getStep(t, s, task.UUID, "a")
	starts := 0
	for _, tr := range got.History {
		if tr.Event == "start" {
			starts++
		}
	}
	require.Equal(t, 1, starts)
}

func TestSatisfyDependencyIsASet(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"), newStep("b"), newStep("c", "a", "b"))
	for _, parent := range []string{"a", "a", "b", "a", "b"} {
		got, err := s.SatisfyDependency(t.Context(), task.UUID, "c", parent)
		require.NoError(t, err)
		require.Equal(t, "c", got.Name)
	}
	got := getStep(t, s, task.UUID, "c")
	sat := slices.Clone(got.Satisfied)
	slices.Sort(sat)
	require.Equal(t, []string{"a", "b"}, sat)
	require.True(t, got.DependenciesMet())
	require.Equal(t, statemachine.StepPending, got.State, "satisfying leaves the state alone")

	_, err := s.SatisfyDependency(t.Context(), task.UUID, "missing", "a")
	require.ErrorIs(t, err, workflow.ErrNotFound)
	_, err = s.GetStep(t.Context(), task.UUID, "missing")
	require.ErrorIs(t, err, workflow.ErrNotFound, "satisfying a missing child does not create it")
}

func TestPutStepsIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s)
	steps := namedSteps("p", 250)
	created, err := s.PutSteps(t.Context(), task.UUID, steps)
	require.NoError(t, err)
	require.Len(t, created, 250)
	all, err := s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, all, 250)

	// Some steps move on; a redelivered creation must not reset them.
	moved := []string{"p000", "p099", "p100", "p249"}
	for _, n := range moved {
		inProgress(t, s, task.UUID, n, t0)
	}
	_, err = s.SatisfyDependency(t.Context(), task.UUID, "p150", "p000")
	require.NoError(t, err)

	created, err = s.PutSteps(t.Context(), task.UUID, namedSteps("p", 250))
	require.NoError(t, err)
	require.Empty(t, created, "no step is created twice")
	for _, n := range moved {
		got := getStep(t, s, task.UUID, n)
		require.Equal(t, statemachine.StepInProgress, got.State, n)
		require.Equal(t, 1, got.Attempts, n)
		require.Len(t, got.History, 3, n)
	}
	require.Equal(t, []string{"p000"}, getStep(t, s, task.UUID, "p150").Satisfied)
	require.Equal(t, steps[7].UUID, getStep(t, s, task.UUID, "p007").UUID, "existing steps keep their UUID")

	// A mix of existing and new steps creates exactly the new ones.
	mixed := append(namedSteps("p", 250), newStep("q1"), newStep("q2"))
	created, err = s.PutSteps(t.Context(), task.UUID, mixed)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"q1", "q2"}, created)
	all, err = s.ListSteps(t.Context(), task.UUID)
	require.NoError(t, err)
	require.Len(t, all, 252)
}

func historyEvents(h []workflow.Transition) []string {
	out := make([]string, len(h))
	for i, tr := range h {
		out[i] = tr.Event
	}
	return out
}

// transit applies a guarded pending->pending change carrying trs.
func transit(t *testing.T, s *dynamo.Store, task, step string, trs ...workflow.Transition) {
	t.Helper()
	_, err := s.TransitionStep(t.Context(), task, step, dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepPending}, Attempts: 0, To: statemachine.StepPending,
		At: trs[0].At, Transitions: trs,
	})
	require.NoError(t, err)
}

func TestHistoryComesBackInWriteOrder(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name   string
		writes [][]workflow.Transition
	}{
		{"several records in one write", [][]workflow.Transition{{
			{Event: "e1", At: t0.Add(time.Second)}, {Event: "e2", At: t0.Add(2 * time.Second)}, {Event: "e3", At: t0.Add(3 * time.Second)},
		}}},
		{"several records in one write at the same time", [][]workflow.Transition{{
			{Event: "e1", At: t0}, {Event: "e2", At: t0}, {Event: "e3", At: t0}, {Event: "e4", At: t0},
		}}},
		{"several writes at the same time", func() [][]workflow.Transition {
			var ws [][]workflow.Transition
			for i := range 15 {
				ws = append(ws, []workflow.Transition{{Event: fmt.Sprintf("e%d", i+1), At: t0}})
			}
			return ws
		}()},
		{"several multi-record writes at the same time", [][]workflow.Transition{
			{{Event: "e1", At: t0}, {Event: "e2", At: t0}},
			{{Event: "e3", At: t0}, {Event: "e4", At: t0}, {Event: "e5", At: t0}},
			{{Event: "e6", At: t0}},
			{{Event: "e7", At: t0}, {Event: "e8", At: t0}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			task := createTask(t, s, newStep("a"))
			var want []string
			for _, w := range tt.writes {
				transit(t, s, task.UUID, "a", w...)
				for _, tr := range w {
					want = append(want, tr.Event)
				}
			}
			got := getStep(t, s, task.UUID, "a")
			require.Equal(t, append([]string{"create"}, want...), historyEvents(got.History))
		})
	}

	t.Run("task history", func(t *testing.T) {
		t.Parallel()
		task := newTask("suite", t0)
		task.History = []workflow.Transition{{Event: "create", At: t0}, {Event: "e1", At: t0}, {Event: "e2", At: t0}}
		require.NoError(t, s.CreateTask(t.Context(), task, nil))
		for i := 3; i <= 6; i++ {
			_, err := s.TransitionTask(t.Context(), task.UUID, dynamo.TaskChange{
				From: statemachine.TaskStepsInProcess, To: statemachine.TaskStepsInProcess, At: t0,
				Transitions: []workflow.Transition{{Event: fmt.Sprintf("e%d", i), At: t0}},
			})
			require.NoError(t, err)
		}
		got := getTask(t, s, task.UUID)
		require.Equal(t, []string{"create", "e1", "e2", "e3", "e4", "e5", "e6"}, historyEvents(got.History))
	})

	t.Run("full records round trip", func(t *testing.T) {
		t.Parallel()
		task := createTask(t, s, newStep("a"))
		tr := workflow.Transition{From: "pending", To: "pending", Event: "x", Attempt: 4, At: t0.Add(time.Millisecond),
			Processor: "results", CorrelationID: "corr", Reason: "retry in 1s"}
		transit(t, s, task.UUID, "a", tr)
		got := getStep(t, s, task.UUID, "a")
		// A step's compact records leave the correlation ID to the task.
		want := tr
		want.CorrelationID = ""
		require.Equal(t, want, got.History[1])
		got.FillCorrelation("corr")
		require.Equal(t, tr, got.History[1])
	})
}

// TestHistoryWriteOrderSurvivesClockSkew records transitions whose At does
// not increase with the write order, as happens when the engine stamps a
// record with the worker's finished_at (another machine's clock) next to a
// record stamped with its own clock.
func TestHistoryWriteOrderSurvivesClockSkew(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	transit(t, s, task.UUID, "a",
		workflow.Transition{Event: "enqueue_for_orchestration", At: t0.Add(2 * time.Second)},
		workflow.Transition{Event: "complete", At: t0.Add(time.Second)})
	got := getStep(t, s, task.UUID, "a")
	// Writes by different processes are ordered by their writers' clocks
	// (each write is guarded by the state the previous one left, so the
	// from/to chain stays consistent); see docs/data-model.md.
	require.Equal(t, []string{"create", "enqueue_for_orchestration", "complete"}, historyEvents(got.History))
}

func TestPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s)
	tests := []struct {
		name       string
		size       int
		wantChunks int
	}{
		{"empty", 0, 1},
		{"ten bytes", 10, 1},
		{"900 KiB", 900 * 1024, 3},
		{"the limit", dynamo.MaxPayloadBytes, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := make([]byte, tt.size)
			for i := range data {
				data[i] = byte(i*7 + i/1024)
			}
			id := "p#" + tt.name
			ref, err := s.SavePayload(t.Context(), task.UUID, id, data)
			require.NoError(t, err)
			require.Equal(t, tt.size, ref.Bytes)
			require.Equal(t, tt.wantChunks, ref.Chunks)
			got, err := s.LoadPayload(t.Context(), ref)
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got), "payload differs (%d bytes back, want %d)", len(got), len(data))

			// A retried save with the same id stores the same chunks again.
			ref2, err := s.SavePayload(t.Context(), task.UUID, id, data)
			require.NoError(t, err)
			require.Equal(t, ref, ref2)
		})
	}
}

func TestSavePayloadTooLarge(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	_, err := s.SavePayload(t.Context(), "task", "big", make([]byte, dynamo.MaxPayloadBytes+1))
	require.ErrorIs(t, err, workflow.ErrTooLarge)
	_, err = s.LoadPayload(t.Context(), &protocol.PayloadRef{PK: "T#task", SK: "B#big", Chunks: 1, Bytes: 0})
	require.ErrorIs(t, err, workflow.ErrNotFound, "nothing was stored")
}

func TestLoadPayloadRejectsBadReferences(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	require.NoError(t, s.PutTemplate(t.Context(), "ns", "tpl", "1.0.0", []byte(`{}`)))
	good, err := s.SavePayload(t.Context(), task.UUID, "a#1#result", bytes.Repeat([]byte("z"), 400*1024))
	require.NoError(t, err)
	require.Equal(t, 2, good.Chunks)
	with := func(f func(r *protocol.PayloadRef)) *protocol.PayloadRef {
		r := *good
		f(&r)
		return &r
	}
	tests := []struct {
		name string
		ref  *protocol.PayloadRef
	}{
		{"nil", nil},
		{"negative bytes", with(func(r *protocol.PayloadRef) { r.Bytes = -1 })},
		{"very negative bytes", with(func(r *protocol.PayloadRef) { r.Bytes = -1 << 40 })},
		{"bytes over the limit", with(func(r *protocol.PayloadRef) { r.Bytes = dynamo.MaxPayloadBytes + 1 })},
		{"bytes differ", with(func(r *protocol.PayloadRef) { r.Bytes++ })},
		{"zero chunks", with(func(r *protocol.PayloadRef) { r.Chunks = 0 })},
		{"negative chunks", with(func(r *protocol.PayloadRef) { r.Chunks = -3 })},
		{"absurd chunks", with(func(r *protocol.PayloadRef) { r.Chunks = 1 << 40 })},
		{"one chunk too many", with(func(r *protocol.PayloadRef) { r.Chunks++ })},
		{"one chunk too few", with(func(r *protocol.PayloadRef) { r.Chunks-- })},
		{"foreign sk: the task item", with(func(r *protocol.PayloadRef) { r.SK = "TASK" })},
		{"foreign sk: the context", with(func(r *protocol.PayloadRef) { r.SK = "CTX" })},
		{"foreign sk: a step", with(func(r *protocol.PayloadRef) { r.SK = "S#a" })},
		{"foreign pk: a template", with(func(r *protocol.PayloadRef) { r.PK, r.SK = "TPL#ns/tpl", "V#1.0.0" })},
		{"foreign pk with a blob sk", with(func(r *protocol.PayloadRef) { r.PK = "TPL#ns/tpl" })},
		{"foreign pk: an identity", with(func(r *protocol.PayloadRef) { r.PK, r.SK = "ID#x", "ID" })},
		{"empty keys", &protocol.PayloadRef{Chunks: 1}},
		{"another task's partition", with(func(r *protocol.PayloadRef) { r.PK = "T#no-such-task" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.LoadPayload(t.Context(), tt.ref)
			require.ErrorIs(t, err, workflow.ErrNotFound)
			require.Nil(t, got)
		})
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	require.NoError(t, s.PutTemplate(ctx, "billing", "invoice", "1.2.0", []byte(`{"v":"1.2.0"}`)))
	require.NoError(t, s.PutTemplate(ctx, "billing", "invoice", "1.2.0", []byte(`{"v":"1.2.0"}`)), "same body again")
	err := s.PutTemplate(ctx, "billing", "invoice", "1.2.0", []byte(`{"v":"changed"}`))
	require.ErrorIs(t, err, workflow.ErrConflict)

	rec, err := s.GetTemplate(ctx, "billing", "invoice", "1.2.0")
	require.NoError(t, err)
	require.Equal(t, `{"v":"1.2.0"}`, string(rec.Body), "the first body stays")
	require.Equal(t, "billing", rec.Namespace)
	require.Equal(t, "invoice", rec.Name)
	require.Equal(t, "1.2.0", rec.Version)
	require.Len(t, rec.Hash, 64)

	for _, v := range []string{"1.10.0", "1.9.3", "0.99.99", "1.2.10"} {
		require.NoError(t, s.PutTemplate(ctx, "billing", "invoice", v, []byte(`{"v":"`+v+`"}`)))
	}
	require.NoError(t, s.PutTemplate(ctx, "billing", "refund", "9.0.0", []byte(`{}`)))
	require.NoError(t, s.PutTemplate(ctx, "other", "invoice", "5.0.0", []byte(`{}`)))

	latest, err := s.LatestTemplateVersion(ctx, "billing", "invoice")
	require.NoError(t, err)
	require.Equal(t, "1.10.0", latest, "1.2.0 < 1.9.3 < 1.10.0")

	_, err = s.GetTemplate(ctx, "other", "invoice", "1.2.0")
	require.ErrorIs(t, err, workflow.ErrNotFound)

	all, err := s.ListTemplates(ctx)
	require.NoError(t, err)
	var keys []string
	for _, r := range all {
		keys = append(keys, r.Namespace+"/"+r.Name+":"+r.Version)
	}
	require.ElementsMatch(t, []string{"billing/invoice:0.99.99", "billing/invoice:1.10.0", "billing/invoice:1.2.0",
		"billing/invoice:1.2.10", "billing/invoice:1.9.3", "billing/refund:9.0.0", "other/invoice:5.0.0"}, keys)
}

func TestLatestTemplateVersionOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		versions []string
		want     string
	}{
		{[]string{"1.2.0", "1.10.0"}, "1.10.0"},
		{[]string{"1.10.0", "1.2.0"}, "1.10.0"},
		{[]string{"2.0.0", "10.0.0", "9.9.9"}, "10.0.0"},
		{[]string{"1.0.9", "1.0.10", "1.0.2"}, "1.0.10"},
		{[]string{"1.0", "1.0.1"}, "1.0.1"},
		{[]string{"0.1.0"}, "0.1.0"},
		{[]string{"1.0.0-rc.9", "1.0.0-rc.10", "0.9.0"}, "1.0.0-rc.10"},
		{[]string{"2.0.0-rc.1", "1.10.0"}, "2.0.0-rc.1"},
	}
	s := newStore(t)
	for i, tt := range tests {
		t.Run(strings.Join(tt.versions, ","), func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("t%d", i)
			for _, v := range tt.versions {
				require.NoError(t, s.PutTemplate(t.Context(), "ns", name, v, []byte(v)))
			}
			got, err := s.LatestTemplateVersion(t.Context(), "ns", name)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestLatestTemplateVersionPrefersReleaseOverPreRelease registers a
// release and its release candidate (templates accept pre-release versions).
func TestLatestTemplateVersionPrefersReleaseOverPreRelease(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for _, v := range []string{"1.9.0", "2.0.0-rc.1", "2.0.0"} {
		require.NoError(t, s.PutTemplate(t.Context(), "ns", "tpl", v, []byte(v)))
	}
	got, err := s.LatestTemplateVersion(t.Context(), "ns", "tpl")
	require.NoError(t, err)
	require.Equal(t, "2.0.0", got)
}

// listAll pages through a namespace and returns the task UUIDs in order.
func listAll(t *testing.T, s *dynamo.Store, ns string, limit int) (ids []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: ns}, limit, cursor)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Tasks), limit)
		pages++
		for _, task := range page.Tasks {
			require.Equal(t, ns, task.Namespace)
			ids = append(ids, task.UUID)
		}
		if page.Cursor == "" {
			return ids, pages
		}
		require.Less(t, pages, 100, "pagination does not end")
		cursor = page.Cursor
	}
}

func TestListTasksByNamespacePaginatesNewestFirst(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var alpha []string // newest first
	for i := range 7 {
		task := newTask("alpha", t0.Add(time.Duration(i)*time.Second))
		require.NoError(t, s.CreateTask(t.Context(), task, nil))
		alpha = append([]string{task.UUID}, alpha...)
	}
	for i := range 2 {
		require.NoError(t, s.CreateTask(t.Context(), newTask("beta", t0.Add(time.Duration(i)*time.Hour)), nil))
	}

	tests := []struct {
		limit, minPages int
	}{{3, 3}, {7, 1}, {1, 7}, {100, 1}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			t.Parallel()
			ids, pages := listAll(t, s, "alpha", tt.limit)
			require.Equal(t, alpha, ids)
			require.GreaterOrEqual(t, pages, tt.minPages)
		})
	}
	t.Run("other namespace", func(t *testing.T) {
		t.Parallel()
		ids, _ := listAll(t, s, "beta", 1)
		require.Len(t, ids, 2)
		ids, _ = listAll(t, s, "gamma", 5)
		require.Empty(t, ids)
	})
}

func TestListTasksByNamespaceRejectsBadCursors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	for i := range 3 {
		require.NoError(t, s.CreateTask(t.Context(), newTask("alpha", t0.Add(time.Duration(i)*time.Second)), nil))
		require.NoError(t, s.CreateTask(t.Context(), newTask("beta", t0.Add(time.Duration(i)*time.Second)), nil))
	}
	alphaPage, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "alpha"}, 1, "")
	require.NoError(t, err)
	require.NotEmpty(t, alphaPage.Cursor)
	forge := func(m map[string]string) string {
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return base64RawURL(b)
	}
	task := alphaPage.Tasks[0]
	gsi1sk := task.CreatedAt.UTC().Format(time.RFC3339Nano) + "#" + task.UUID
	tests := []struct {
		name, cursor string
	}{
		{"not base64", "%%%not-a-cursor%%%"},
		{"base64 of garbage", base64RawURL([]byte("garbage"))},
		{"empty object", forge(map[string]string{})},
		{"json array", base64RawURL([]byte(`["pk"]`))},
		{"forged namespace", forge(map[string]string{"pk": "T#" + task.UUID, "sk": "TASK", "gsi1pk": "NS#beta", "gsi1sk": gsi1sk})},
		{"forged item kind", forge(map[string]string{"pk": "T#" + task.UUID, "sk": "CTX", "gsi1pk": "NS#alpha", "gsi1sk": gsi1sk})},
		{"extra attribute", forge(map[string]string{"pk": "T#" + task.UUID, "sk": "TASK", "gsi1pk": "NS#alpha", "gsi1sk": gsi1sk, "st": "x"})},
		{"template listing cursor", forge(map[string]string{"pk": "TPL#a/b", "sk": "V#1", "gsi1pk": "TEMPLATES", "gsi1sk": "a/b/1"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "alpha"}, 1, tt.cursor)
			require.ErrorIs(t, err, dynamo.ErrBadCursor)
			require.Nil(t, page)
		})
	}

	// The genuine cursor works.
	next, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "alpha"}, 1, alphaPage.Cursor)
	require.NoError(t, err)
	require.Len(t, next.Tasks, 1)
	require.NotEqual(t, alphaPage.Tasks[0].UUID, next.Tasks[0].UUID)
}

// TestListTasksByNamespaceRejectsCursorsWithoutIndexKeys hands a namespace
// listing cursors that carry only the table keys: the cursor of another
// namespace's listing (the embedded emulator returns only pk and sk in a GSI
// query's LastEvaluatedKey) and a forged one.
func TestListTasksByNamespaceRejectsCursorsWithoutIndexKeys(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var beta *workflow.Task
	for i := range 3 {
		require.NoError(t, s.CreateTask(t.Context(), newTask("alpha", t0.Add(time.Duration(i)*time.Second)), nil))
		beta = newTask("beta", t0.Add(time.Duration(i)*time.Second))
		require.NoError(t, s.CreateTask(t.Context(), beta, nil))
	}
	betaPage, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "beta"}, 1, "")
	require.NoError(t, err)
	require.NotEmpty(t, betaPage.Cursor)
	forged, err := json.Marshal(map[string]string{"pk": "T#" + beta.UUID, "sk": "TASK"})
	require.NoError(t, err)
	for name, cursor := range map[string]string{"another namespace's cursor": betaPage.Cursor, "table keys only": base64RawURL(forged)} {
		t.Run(name, func(t *testing.T) {
			_, err := s.ListTasks(t.Context(), dynamo.TaskFilter{Namespace: "alpha"}, 1, cursor)
			require.ErrorIs(t, err, dynamo.ErrBadCursor)
		})
	}
}

// TestListTasksByNamespaceOrdersWithinASecond creates tasks whose creation
// times differ by fractions of a second, with trailing zeros.
func TestListTasksByNamespaceOrdersWithinASecond(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	whole := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	var want []string // newest first
	for _, ms := range []int{0, 100, 500, 520} {
		task := newTask("alpha", whole.Add(time.Duration(ms)*time.Millisecond))
		require.NoError(t, s.CreateTask(t.Context(), task, nil))
		want = append([]string{task.UUID}, want...)
	}
	got, _ := listAll(t, s, "alpha", 10)
	require.Equal(t, want, got)
}

func base64RawURL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func dueKeys(items []dynamo.DueItem) []string {
	out := make([]string, len(items))
	for i, d := range items {
		out[i] = d.TaskUUID + "/" + d.StepName
	}
	slices.Sort(out)
	return out
}

func TestDueAcrossShards(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := t0.Add(24 * time.Hour)
	steps := namedSteps("d", 24)
	task := createTask(t, s, steps...)
	var due, fresh []string
	for i, st := range steps {
		claimedAt := now // deadline in the future
		if i%3 != 0 {
			claimedAt = now.Add(-time.Hour) // deadline passed
			due = append(due, task.UUID+"/"+st.Name)
		} else {
			fresh = append(fresh, task.UUID+"/"+st.Name)
		}
		inProgress(t, s, task.UUID, st.Name, claimedAt)
		// Claims stay out of the index; put the step there as a worker
		// of an earlier version did (its claim wrote sweep_shard too).
		require.NoError(t, s.Reschedule(t.Context(), task.UUID, st.Name, statemachine.StepInProgress, 1, claimedAt.Add(time.Minute+dynamo.ClaimGrace)))
	}
	// A task left pending an hour ago is due too; one created just now is not.
	stale := newTask("suite", now.Add(-time.Hour))
	stale.State = statemachine.TaskPending
	require.NoError(t, s.CreateTask(t.Context(), stale, nil))
	recent := newTask("suite", now)
	recent.State = statemachine.TaskPending
	require.NoError(t, s.CreateTask(t.Context(), recent, nil))
	// So is the running task: its first check (a minute after creation) has come.
	due = append(due, stale.UUID+"/", task.UUID+"/")
	slices.Sort(due)

	items, err := s.Due(t.Context(), now, 100)
	require.NoError(t, err)
	require.Equal(t, due, dueKeys(items), "16 due steps spread over the shards, the stale pending task and the running one")
	for _, d := range items {
		require.LessOrEqual(t, d.DueAt, now.UTC().Format("2006-01-02T15:04:05.000000000Z"))
		if d.StepName == "" {
			want := "pending"
			if d.TaskUUID == task.UUID {
				want = "steps_in_process"
			}
			require.Equal(t, want, d.State)
			continue
		}
		require.Equal(t, "in_progress", d.State)
		require.Equal(t, 1, d.Attempts)
	}

	limited, err := s.Due(t.Context(), now, 5)
	require.NoError(t, err)
	require.Len(t, limited, 5)

	later, err := s.Due(t.Context(), now.Add(time.Hour), 100)
	require.NoError(t, err)
	all := append(append(slices.Clone(due), fresh...), recent.UUID+"/")
	slices.Sort(all)
	require.Equal(t, all, dueKeys(later))

	// Starting the pending task keeps its schedule (its first check);
	// ending it takes it off the index.
	_, err = s.TransitionTask(t.Context(), stale.UUID, dynamo.TaskChange{From: statemachine.TaskPending, To: statemachine.TaskInitializing, At: now})
	require.NoError(t, err)
	items, err = s.Due(t.Context(), now, 100)
	require.NoError(t, err)
	require.Contains(t, dueKeys(items), stale.UUID+"/")
	_, err = s.TransitionTask(t.Context(), stale.UUID, dynamo.TaskChange{From: statemachine.TaskInitializing, To: statemachine.TaskCancelled, At: now})
	require.NoError(t, err)
	items, err = s.Due(t.Context(), now, 100)
	require.NoError(t, err)
	require.NotContains(t, dueKeys(items), stale.UUID+"/")
	require.Len(t, items, 17)
}

func TestRescheduleMovesSweepTime(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := t0.Add(time.Hour)
	task := createTask(t, s, newStep("a"), newStep("b"))
	require.NoError(t, s.ClearTaskSweep(t.Context(), task.UUID)) // this test looks at steps only
	inProgress(t, s, task.UUID, "a", t0)
	inProgress(t, s, task.UUID, "b", t0)
	items, err := s.Due(t.Context(), now, 10)
	require.NoError(t, err)
	require.Empty(t, items, "claims carry their deadline but stay out of the index")
	for _, n := range []string{"a", "b"} {
		require.NoError(t, s.Reschedule(t.Context(), task.UUID, n, statemachine.StepInProgress, 1, t0.Add(time.Minute)))
	}
	items, err = s.Due(t.Context(), now, 10)
	require.NoError(t, err)
	require.Len(t, items, 2)

	err = s.Reschedule(t.Context(), task.UUID, "a", statemachine.StepEnqueued, 1, now.Add(time.Hour))
	require.ErrorIs(t, err, workflow.ErrConflict, "wrong state")
	err = s.Reschedule(t.Context(), task.UUID, "a", statemachine.StepInProgress, 2, now.Add(time.Hour))
	require.ErrorIs(t, err, workflow.ErrConflict, "wrong attempts")
	items, err = s.Due(t.Context(), now, 10)
	require.NoError(t, err)
	require.Len(t, items, 2, "a failed reschedule moves nothing")

	require.NoError(t, s.Reschedule(t.Context(), task.UUID, "a", statemachine.StepInProgress, 1, now.Add(time.Hour)))
	items, err = s.Due(t.Context(), now, 10)
	require.NoError(t, err)
	require.Equal(t, []string{task.UUID + "/b"}, dueKeys(items))
	items, err = s.Due(t.Context(), now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, items, 2, "due again at the new time")

	// A change without a sweep time takes the step off the index.
	_, err = s.TransitionStep(t.Context(), task.UUID, "b", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: 1, To: statemachine.StepComplete, At: now,
	})
	require.NoError(t, err)
	items, err = s.Due(t.Context(), now.Add(48*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{task.UUID + "/a"}, dueKeys(items))
}

func TestSaveCheckpointOnlyWhileInProgressOnThatAttempt(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"))
	cp := json.RawMessage(`{"cursor":17}`)

	err := s.SaveCheckpoint(t.Context(), task.UUID, "a", 0, cp, t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "pending")
	enqueue(t, s, task.UUID, "a")
	err = s.SaveCheckpoint(t.Context(), task.UUID, "a", 1, cp, t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "enqueued, not yet claimed")
	_, err = s.ClaimStep(t.Context(), task.UUID, "a", 1, time.Minute, "w", "", t0)
	require.NoError(t, err)
	err = s.SaveCheckpoint(t.Context(), task.UUID, "a", 2, cp, t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "another attempt")
	require.Nil(t, getStep(t, s, task.UUID, "a").Checkpoint)

	require.NoError(t, s.SaveCheckpoint(t.Context(), task.UUID, "a", 1, cp, t0))
	require.JSONEq(t, string(cp), string(getStep(t, s, task.UUID, "a").Checkpoint))
	require.NoError(t, s.SaveCheckpoint(t.Context(), task.UUID, "a", 1, json.RawMessage(`{"cursor":18}`), t0))
	require.JSONEq(t, `{"cursor":18}`, string(getStep(t, s, task.UUID, "a").Checkpoint))

	_, err = s.TransitionStep(t.Context(), task.UUID, "a", dynamo.StepChange{
		From: []statemachine.StepState{statemachine.StepInProgress}, Attempts: 1, To: statemachine.StepComplete, At: t0,
	})
	require.NoError(t, err)
	err = s.SaveCheckpoint(t.Context(), task.UUID, "a", 1, cp, t0)
	require.ErrorIs(t, err, workflow.ErrConflict, "complete")
	require.JSONEq(t, `{"cursor":18}`, string(getStep(t, s, task.UUID, "a").Checkpoint))

	err = s.SaveCheckpoint(t.Context(), task.UUID, "missing", 1, cp, t0)
	require.Error(t, err)
	_, err = s.GetStep(t.Context(), task.UUID, "missing")
	require.ErrorIs(t, err, workflow.ErrNotFound, "a checkpoint does not create a step")
}

func TestSetPaused(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s)
	require.NoError(t, s.SetPaused(t.Context(), task.UUID, true, t0, time.Time{}))
	got := getTask(t, s, task.UUID)
	require.True(t, got.Paused)
	require.Equal(t, task.Rev+1, got.Rev)
	require.NoError(t, s.SetPaused(t.Context(), task.UUID, false, t0, time.Time{}))
	require.False(t, getTask(t, s, task.UUID).Paused)
}

func TestErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	// The store's sentinels must not alias each other, or callers branch wrongly.
	errs := []error{workflow.ErrNotFound, workflow.ErrConflict, workflow.ErrDuplicateTask, workflow.ErrTooLarge, dynamo.ErrBadCursor}
	for i, a := range errs {
		for j, b := range errs {
			require.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}

// TestOpenStepsCountsWhatHoldsTheTaskOpen: complete, resolved and cancelled
// steps and released failures do not hold a task open; everything else does.
func TestOpenStepsCountsWhatHoldsTheTaskOpen(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	task := createTask(t, s, newStep("a"), newStep("b"), newStep("c"), newStep("d"))
	count := func(only string) int {
		t.Helper()
		n, err := s.OpenSteps(t.Context(), task.UUID, only)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 4, count(""))
	require.Equal(t, 0, count("compensation"))
	move := func(name string, to statemachine.StepState, release bool) {
		t.Helper()
		_, err := s.TransitionStep(t.Context(), task.UUID, name, dynamo.StepChange{
			From: []statemachine.StepState{statemachine.StepPending}, Attempts: -1, To: to, At: t0, Release: release,
			Transitions: []workflow.Transition{{From: "pending", To: string(to), Event: "x", At: t0}}})
		require.NoError(t, err)
	}
	move("a", statemachine.StepResolvedManually, false)
	move("b", statemachine.StepCancelled, false)
	move("c", statemachine.StepError, false)
	require.Equal(t, 2, count(""), "c failed without release and d is pending")
	move("d", statemachine.StepError, true)
	require.Equal(t, 1, count(""), "a released failure no longer holds the task")
}

// TestSatisfyCountedOncePerParent counts a convergence's dependencies with
// marker items: every parent decrements once, however often delivered.
func TestSatisfyCountedOncePerParent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	conv := newStep("agg")
	conv.Dependencies = []string{"w1", "w2", "w3"}
	conv.CountsDependencies = true
	task := createTask(t, s, conv)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SatisfyCounted(t.Context(), task.UUID, "agg", fmt.Sprintf("w%d", i%2+1))
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	got := getStep(t, s, task.UUID, "agg")
	require.Equal(t, 1, got.Remaining, "w1 and w2 counted once each")
	require.False(t, got.DependenciesMet())
	got, err := s.SatisfyCounted(t.Context(), task.UUID, "agg", "w3")
	require.NoError(t, err)
	require.True(t, got.DependenciesMet())
	_, err = s.SatisfyCounted(t.Context(), task.UUID, "missing", "w1")
	require.ErrorIs(t, err, workflow.ErrNotFound)
}

// TestLatestTemplateVersionConcurrentRegistrations registers versions from
// many goroutines at once: the latest-version pointer ends at the highest.
func TestLatestTemplateVersionConcurrentRegistrations(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			v := fmt.Sprintf("1.%d.0", i)
			assert.NoError(t, s.PutTemplate(t.Context(), "ns", "race", v, []byte(v)))
		})
	}
	wg.Wait()
	got, err := s.LatestTemplateVersion(t.Context(), "ns", "race")
	require.NoError(t, err)
	require.Equal(t, "1.11.0", got)
}

// TestLatestTemplateVersionWithoutPointer reads a template registered
// before the latest-version pointer existed: the versions are queried.
func TestLatestTemplateVersionWithoutPointer(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	s := dynamo.New(f.Env.DynamoDB, f.Names.StateTable())
	for _, v := range []string{"1.2.0", "1.10.0"} {
		require.NoError(t, s.PutTemplate(t.Context(), "ns", "legacy", v, []byte(v)))
	}
	_, err := f.Env.DynamoDB.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(f.Names.StateTable()),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TPL#ns/legacy"}, "sk": &types.AttributeValueMemberS{Value: "LATEST"}}})
	require.NoError(t, err)
	got, err := s.LatestTemplateVersion(t.Context(), "ns", "legacy")
	require.NoError(t, err)
	require.Equal(t, "1.10.0", got)
	_, err = s.LatestTemplateVersion(t.Context(), "ns", "missing")
	require.ErrorIs(t, err, workflow.ErrNotFound)
}

// TestLongCountedDependenciesStoredOutOfLine creates a convergence after
// 100 batch workers: its dependency list lives out of line, so the item
// each completion decrements stays small, and reads still see every name.
func TestLongCountedDependenciesStoredOutOfLine(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	s := dynamo.New(f.Env.DynamoDB, f.Names.StateTable())
	ctx := t.Context()
	task := newTask("ns", time.Now().UTC())
	require.NoError(t, s.CreateTask(ctx, task, nil))
	var deps []string
	for i := range 100 {
		deps = append(deps, fmt.Sprintf("process_batch_%03d", i))
	}
	conv := &workflow.Step{UUID: uuid.NewString(), Name: "aggregate", TemplateStep: "aggregate", Handler: "agg",
		Type: "deferred_convergence", State: statemachine.StepPending, MaxAttempts: 1, Dependencies: deps,
		CountsDependencies: true, CreatedAt: time.Now().UTC()}
	_, err := s.PutSteps(ctx, task.UUID, []*workflow.Step{conv})
	require.NoError(t, err)

	raw, err := f.Env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.Names.StateTable()),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "T#" + task.UUID}, "sk": &types.AttributeValueMemberS{Value: "S#aggregate"}}})
	require.NoError(t, err)
	require.NotContains(t, raw.Item, "deps", "the list is not on the item")
	require.Contains(t, raw.Item, "deps_ref")

	got, err := s.GetStep(ctx, task.UUID, "aggregate")
	require.NoError(t, err)
	require.Equal(t, deps, got.Dependencies)
	listed, err := s.ListSteps(ctx, task.UUID)
	require.NoError(t, err)
	require.Len(t, listed, 1)
	require.Equal(t, deps, listed[0].Dependencies)

	for i, d := range deps {
		st, err := s.SatisfyCounted(ctx, task.UUID, "aggregate", d)
		require.NoError(t, err)
		if i < len(deps)-1 {
			require.False(t, st.DependenciesMet())
			require.Empty(t, st.Dependencies, "a step that is not ready is read without its list")
			continue
		}
		require.True(t, st.DependenciesMet())
		require.Equal(t, deps, st.Dependencies, "the ready step comes with its list")
	}
}
