package statemachine

import (
	"errors"
	"testing"
)

func TestParseStates(t *testing.T) {
	t.Parallel()
	for _, s := range wantTaskStates {
		if got, err := ParseTaskState(s); err != nil || string(got) != s {
			t.Errorf("ParseTaskState(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range wantStepStates {
		if got, err := ParseStepState(s); err != nil || string(got) != s {
			t.Errorf("ParseStepState(%q) = %q, %v", s, got, err)
		}
	}
	tests := []struct {
		in      string
		wantErr string
		parse   func(string) (string, error)
	}{
		{"in_progress", `parse task state "in_progress": unknown state`, parseTaskStateString},
		{"Pending", `parse task state "Pending": unknown state`, parseTaskStateString},
		{"", `parse task state "": unknown state`, parseTaskStateString},
		{"initializing", `parse step state "initializing": unknown state`, parseStepStateString},
		{" complete", `parse step state " complete": unknown state`, parseStepStateString},
	}
	for _, tt := range tests {
		got, err := tt.parse(tt.in)
		if got != "" || !errors.Is(err, ErrUnknownState) || err.Error() != tt.wantErr {
			t.Errorf("parse %q = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
		}
	}
}

func TestParseEvents(t *testing.T) {
	t.Parallel()
	for _, s := range wantTaskEvents {
		if got, err := ParseTaskEvent(s); err != nil || string(got) != s {
			t.Errorf("ParseTaskEvent(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range wantStepEvents {
		if got, err := ParseStepEvent(s); err != nil || string(got) != s {
			t.Errorf("ParseStepEvent(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseTaskEvent("timeout"); !errors.Is(err, ErrUnknownEvent) ||
		err.Error() != `parse task event "timeout": unknown event` {
		t.Errorf("ParseTaskEvent(timeout) error = %v", err)
	}
	if _, err := ParseStepEvent("reset"); !errors.Is(err, ErrUnknownEvent) ||
		err.Error() != `parse step event "reset": unknown event` {
		t.Errorf("ParseStepEvent(reset) error = %v", err)
	}
}

func parseTaskStateString(s string) (string, error) {
	st, err := ParseTaskState(s)
	return string(st), err
}

func parseStepStateString(s string) (string, error) {
	st, err := ParseStepState(s)
	return string(st), err
}
