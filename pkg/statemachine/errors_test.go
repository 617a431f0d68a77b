package statemachine

import (
	"errors"
	"fmt"
	"testing"
)

func TestIllegalTransitionErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{
			name: "task",
			err:  func() error { _, err := NextTask(TaskComplete, TaskEvStart); return err },
			want: `illegal task transition: event "start" from state "complete"`,
		},
		{
			name: "step",
			err:  func() error { _, err := NextStep(StepCancelled, StepEvRetry); return err },
			want: `illegal step transition: event "retry" from state "cancelled"`,
		},
		{
			name: "unknown task state",
			err:  func() error { _, err := NextTask("running", TaskEvStart); return err },
			want: `illegal task transition: event "start" from state "running"`,
		},
		{
			name: "unknown step event",
			err:  func() error { _, err := NextStep(StepPending, "timeout"); return err },
			want: `illegal step transition: event "timeout" from state "pending"`,
		},
		{
			name: "task event on the step machine",
			err:  func() error { _, err := NextStep(StepPending, StepEvent(TaskEvGiveUp)); return err },
			want: `illegal step transition: event "give_up" from state "pending"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("error does not match ErrIllegalTransition")
			}
		})
	}
}

func TestIllegalTransitionErrorSurvivesWrapping(t *testing.T) {
	t.Parallel()
	_, err := NextStep(StepComplete, StepEvFail)
	wrapped := fmt.Errorf("record step abc: %w", err)
	if !errors.Is(wrapped, ErrIllegalTransition) {
		t.Fatal("wrapped error does not match ErrIllegalTransition")
	}
	var ite *IllegalTransitionError
	if !errors.As(wrapped, &ite) || ite.Machine != MachineStep || ite.From != "complete" || ite.Event != "fail" {
		t.Fatalf("errors.As = %+v", ite)
	}
	if errors.Is(wrapped, ErrUnknownState) {
		t.Error("an illegal transition matches ErrUnknownState")
	}
}
