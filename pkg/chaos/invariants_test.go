package chaos

import (
	"testing"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// The checks must find what they look for, or a clean run proves nothing.
func TestCheckTrail(t *testing.T) {
	t.Parallel()
	tr := func(from, ev, to string) workflow.Transition {
		return workflow.Transition{From: from, Event: ev, To: to}
	}
	cases := []struct {
		name    string
		trail   []workflow.Transition
		stored  string
		wantInv []string
	}{
		{"legal", []workflow.Transition{tr("", "create", "pending"), tr("pending", "enqueue", "enqueued"),
			tr("enqueued", "start", "in_progress")}, "in_progress", nil},
		{"not in table", []workflow.Transition{tr("", "create", "pending"), tr("pending", "complete", "complete")},
			"complete", []string{"legal_transition"}},
		{"gap", []workflow.Transition{tr("", "create", "pending"), tr("enqueued", "start", "in_progress")},
			"in_progress", []string{"legal_transition"}},
		{"wrong target", []workflow.Transition{tr("", "create", "pending"), tr("pending", "enqueue", "in_progress")},
			"in_progress", []string{"legal_transition"}},
		{"stale state", []workflow.Transition{tr("", "create", "pending")}, "enqueued", []string{"trail_state"}},
		{"empty", nil, "pending", []string{"trail_state"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := checkTrail("t", "s", c.trail, c.stored, nextStep)
			if len(got) != len(c.wantInv) {
				t.Fatalf("got %v, want invariants %v", got, c.wantInv)
			}
			for i, v := range got {
				if v.Invariant != c.wantInv[i] {
					t.Fatalf("got %v, want invariants %v", got, c.wantInv)
				}
			}
		})
	}
}

func TestCheckTaskCountsCompletionsAndAttempts(t *testing.T) {
	t.Parallel()
	tr := func(from, ev, to string) workflow.Transition {
		return workflow.Transition{From: from, Event: ev, To: to}
	}
	task := &workflow.Task{UUID: "t", State: "complete", History: []workflow.Transition{
		tr("", "create", "pending"), tr("pending", "start", "initializing")}}
	step := &workflow.Step{Name: "s", State: "complete", Attempts: 4, MaxAttempts: 3, History: []workflow.Transition{
		tr("", "create", "complete"), tr("", "create", "complete")}}
	got := checkTask(&job{Want: "complete"}, task, []*workflow.Step{step})
	want := map[string]bool{"trail_state": true, "complete_once": true, "max_attempts": true}
	for _, v := range got {
		delete(want, v.Invariant)
	}
	if len(want) != 0 {
		t.Fatalf("missing %v in %v", want, got)
	}
}

func TestCheckLedgerFindsDuplicateEffects(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.effects[effectKey{"u1", 1}] = &effect{Task: "t", Name: "a", MaxAttempts: 3, Count: 1}
	l.effects[effectKey{"u2", 1}] = &effect{Task: "t", Name: "b", MaxAttempts: 3, Count: 2}
	l.effects[effectKey{"u3", 4}] = &effect{Task: "t", Name: "c", MaxAttempts: 3, Count: 1}
	got := checkLedger(l)
	if len(got) != 2 || got[0].Invariant != "effect_once" || got[1].Invariant != "max_attempts" {
		t.Fatalf("got %v", got)
	}
}

func TestCheckDLQ(t *testing.T) {
	t.Parallel()
	clean := dlqState{Left: map[string]int{"p-results-dlq": 0}, Entries: map[string][]string{"t1": {"e1"}}, Listed: map[string]bool{"e1": true}}
	if got := checkDLQ(clean); len(got) != 0 {
		t.Fatalf("clean state: %v", got)
	}
	broken := dlqState{Left: map[string]int{"p-results-dlq": 2, "p-steps-a-dlq": 0},
		Entries: map[string][]string{"t1": {"e1", "e2"}}, Listed: map[string]bool{"e1": true}}
	got := checkDLQ(broken)
	if len(got) != 2 || got[0].Invariant != "dlq_entry" || got[1].Invariant != "dlq_entry" {
		t.Fatalf("got %v, want a left message and an unlisted entry", got)
	}
}

func TestParkInDLQ(t *testing.T) {
	t.Parallel()
	vs := []Violation{{Invariant: "settled", Task: "t1"}, {Invariant: "settled", Task: "t2"}, {Invariant: "outcome", Task: "t1"}}
	kept, parked := parkInDLQ(vs, dlqState{Entries: map[string][]string{"t1": {"e1"}}})
	if len(parked) != 1 || parked[0].Task != "t1" || len(kept) != 2 || kept[0].Task != "t2" || kept[1].Invariant != "outcome" {
		t.Fatalf("kept %v, parked %v", kept, parked)
	}
}
