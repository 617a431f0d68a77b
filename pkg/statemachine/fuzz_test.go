package statemachine

import (
	"errors"
	"testing"
)

// The parsers must accept exactly the declared names and nothing else.

func FuzzParseTaskState(f *testing.F) {
	for _, s := range wantTaskStates {
		f.Add(s)
	}
	f.Add("")
	f.Add("PENDING")
	f.Add("pending\x00")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseTaskState(in)
		checkParse(t, in, string(st), err, ErrUnknownState, TaskState(in).Valid())
	})
}

func FuzzParseStepState(f *testing.F) {
	for _, s := range wantStepStates {
		f.Add(s)
	}
	f.Add("")
	f.Add("in progress")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStepState(in)
		checkParse(t, in, string(st), err, ErrUnknownState, StepState(in).Valid())
	})
}

func FuzzParseTaskEvent(f *testing.F) {
	for _, s := range wantTaskEvents {
		f.Add(s)
	}
	f.Add("timeout")
	f.Fuzz(func(t *testing.T, in string) {
		ev, err := ParseTaskEvent(in)
		checkParse(t, in, string(ev), err, ErrUnknownEvent, TaskEvent(in).Valid())
	})
}

func FuzzParseStepEvent(f *testing.F) {
	for _, s := range wantStepEvents {
		f.Add(s)
	}
	f.Add("reset")
	f.Fuzz(func(t *testing.T, in string) {
		ev, err := ParseStepEvent(in)
		checkParse(t, in, string(ev), err, ErrUnknownEvent, StepEvent(in).Valid())
	})
}

// FuzzNextStep checks that arbitrary strings never panic the lookup and that
// every accepted pair is a row of the table.
func FuzzNextStep(f *testing.F) {
	f.Add("pending", "enqueue")
	f.Add("complete", "complete_manually")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, from, ev string) {
		to, err := NextStep(StepState(from), StepEvent(ev))
		if err != nil {
			var ite *IllegalTransitionError
			if !errors.As(err, &ite) || ite.From != from || ite.Event != ev {
				t.Fatalf("NextStep(%q, %q) error = %v", from, ev, err)
			}
			return
		}
		if wantStepNext[from][ev] != string(to) {
			t.Fatalf("NextStep(%q, %q) = %q, not in the expected table", from, ev, to)
		}
	})
}

// checkParse asserts a parser's result: in is accepted exactly when valid,
// and a refusal wraps sentinel.
func checkParse(t *testing.T, in, got string, err, sentinel error, valid bool) {
	t.Helper()
	if valid {
		if err != nil || got != in {
			t.Fatalf("parse(%q) = %q, %v; want it accepted", in, got, err)
		}
		return
	}
	if got != "" || !errors.Is(err, sentinel) {
		t.Fatalf("parse(%q) = %q, %v; want refusal wrapping %v", in, got, err, sentinel)
	}
}
