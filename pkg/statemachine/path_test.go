package statemachine

import (
	"errors"
	"testing"
)

// The paths in these tests are the ones docs/state-machines.md describes
// under "How the engine walks the machines".

func TestApplyTaskEnginePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from TaskState
		evs  []TaskEvent
		want TaskState
	}{
		{"start", TaskPending, []TaskEvent{TaskEvStart, TaskEvReadyStepsFound, TaskEvStepsEnqueued}, TaskStepsInProcess},
		{"last step done", TaskStepsInProcess, []TaskEvent{TaskEvAllStepsCompleted, TaskEvAllStepsSuccessful}, TaskComplete},
		{"more steps ready", TaskStepsInProcess, []TaskEvent{TaskEvStepCompleted, TaskEvReadyStepsFound, TaskEvStepsEnqueued}, TaskStepsInProcess},
		{"permanent failure", TaskStepsInProcess, []TaskEvent{TaskEvStepCompleted, TaskEvPermanentFailure, TaskEvGiveUp}, TaskError},
		{"no steps", TaskPending, []TaskEvent{TaskEvStart, TaskEvNoStepsFound}, TaskComplete},
		{"retryable failure", TaskStepsInProcess, []TaskEvent{TaskEvStepFailed, TaskEvRetryReady, TaskEvStepsEnqueued}, TaskStepsInProcess},
		{"operator re-drive", TaskError, []TaskEvent{TaskEvReset, TaskEvStart}, TaskInitializing},
		{"no events", TaskWaitingForRetry, nil, TaskWaitingForRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ApplyTask(tt.from, tt.evs...)
			if err != nil || got != tt.want {
				t.Fatalf("ApplyTask(%q, %q) = %q, %v; want %q, nil", tt.from, tt.evs, got, err, tt.want)
			}
			hops, err := TaskPath(tt.from, tt.evs...)
			if err != nil || len(hops) != len(tt.evs) {
				t.Fatalf("TaskPath = %v, %v; want %d hops", hops, err, len(tt.evs))
			}
			cur := tt.from
			for i, h := range hops {
				if h.From != cur || h.Event != tt.evs[i] {
					t.Fatalf("hop %d = %+v, want from %q by %q", i, h, cur, tt.evs[i])
				}
				cur = h.To
			}
			if cur != tt.want {
				t.Fatalf("TaskPath ends in %q, want %q", cur, tt.want)
			}
		})
	}
}

func TestApplyStepEnginePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from StepState
		evs  []StepEvent
		want StepState
	}{
		{"enqueue and claim", StepPending, []StepEvent{StepEvEnqueue, StepEvStart}, StepInProgress},
		{"success", StepInProgress, []StepEvent{StepEvEnqueueForOrchestration, StepEvComplete}, StepComplete},
		{"retryable failure", StepInProgress, []StepEvent{StepEvEnqueueAsErrorForOrchestration, StepEvWaitForRetry}, StepWaitingForRetry},
		{"retry due", StepWaitingForRetry, []StepEvent{StepEvRetry, StepEvEnqueue}, StepEnqueued},
		{"permanent failure", StepInProgress, []StepEvent{StepEvEnqueueAsErrorForOrchestration, StepEvFail}, StepError},
		{"operator reset", StepError, []StepEvent{StepEvResetForRetry, StepEvEnqueue}, StepEnqueued},
		{"no events", StepError, nil, StepError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ApplyStep(tt.from, tt.evs...)
			if err != nil || got != tt.want {
				t.Fatalf("ApplyStep(%q, %q) = %q, %v; want %q, nil", tt.from, tt.evs, got, err, tt.want)
			}
			hops, err := StepPath(tt.from, tt.evs...)
			if err != nil || len(hops) != len(tt.evs) {
				t.Fatalf("StepPath = %v, %v; want %d hops", hops, err, len(tt.evs))
			}
			if len(hops) > 0 && hops[len(hops)-1].To != tt.want {
				t.Fatalf("StepPath ends in %q, want %q", hops[len(hops)-1].To, tt.want)
			}
		})
	}
}

func TestApplyStopsAtFirstIllegalHop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		apply   func() (string, error)
		path    func() (int, error)
		wantErr IllegalTransitionError
		wantMsg string
	}{
		{
			name: "task",
			apply: func() (string, error) {
				s, err := ApplyTask(TaskPending, TaskEvStart, TaskEvStepsEnqueued, TaskEvCancel)
				return string(s), err
			},
			path: func() (int, error) {
				hops, err := TaskPath(TaskPending, TaskEvStart, TaskEvStepsEnqueued, TaskEvCancel)
				return len(hops), err
			},
			wantErr: IllegalTransitionError{Machine: "task", From: "initializing", Event: "steps_enqueued"},
			wantMsg: `hop 2 of 3: illegal task transition: event "steps_enqueued" from state "initializing"`,
		},
		{
			name: "step",
			apply: func() (string, error) {
				s, err := ApplyStep(StepComplete, StepEvCompleteManually)
				return string(s), err
			},
			path: func() (int, error) {
				hops, err := StepPath(StepComplete, StepEvCompleteManually)
				return len(hops), err
			},
			wantErr: IllegalTransitionError{Machine: "step", From: "complete", Event: "complete_manually"},
			wantMsg: `hop 1 of 1: illegal step transition: event "complete_manually" from state "complete"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.apply()
			if got != "" {
				t.Errorf("state %q returned with the error", got)
			}
			var ite *IllegalTransitionError
			if !errors.As(err, &ite) || *ite != tt.wantErr {
				t.Fatalf("error = %v, want %+v", err, tt.wantErr)
			}
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("error %v does not match ErrIllegalTransition", err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", err.Error(), tt.wantMsg)
			}
			n, pathErr := tt.path()
			if n != 0 || pathErr == nil || pathErr.Error() != tt.wantMsg {
				t.Errorf("path = %d hops, %v; want 0 hops, %q", n, pathErr, tt.wantMsg)
			}
		})
	}
}

func TestPathWithNoEventsIsEmpty(t *testing.T) {
	t.Parallel()
	if hops, err := TaskPath(TaskPending); err != nil || len(hops) != 0 {
		t.Errorf("TaskPath(pending) = %v, %v", hops, err)
	}
	if hops, err := StepPath(StepPending); err != nil || len(hops) != 0 {
		t.Errorf("StepPath(pending) = %v, %v", hops, err)
	}
}
