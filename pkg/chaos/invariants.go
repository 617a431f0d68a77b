package chaos

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Violation is one broken invariant.
type Violation struct {
	Invariant string // settled, outcome, effect_once, complete_once, legal_transition, trail_state, max_attempts
	Task      string // task UUID
	Entity    string // "task" or the step name
	Detail    string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: task %s %s: %s", v.Invariant, v.Task, v.Entity, v.Detail)
}

// nextFunc is a state machine's table lookup on plain strings.
type nextFunc func(from, event string) (string, error)

func nextTask(from, ev string) (string, error) {
	to, err := statemachine.NextTask(statemachine.TaskState(from), statemachine.TaskEvent(ev))
	return string(to), err
}

func nextStep(from, ev string) (string, error) {
	to, err := statemachine.NextStep(statemachine.StepState(from), statemachine.StepEvent(ev))
	return string(to), err
}

// checkTrail checks that every record of an audit trail is a row of the
// machine's table, that each record starts where the previous one ended,
// and that the last record ends in the stored state. Creation records
// (From "" or event "create") only set the starting state.
func checkTrail(task, entity string, h []workflow.Transition, stored string, next nextFunc) []Violation {
	var out []Violation
	add := func(inv, format string, args ...any) {
		out = append(out, Violation{Invariant: inv, Task: task, Entity: entity, Detail: fmt.Sprintf(format, args...)})
	}
	prev := ""
	for i, r := range h {
		if r.From == "" || r.Event == "create" {
			prev = r.To
			continue
		}
		if prev != "" && r.From != prev {
			add("legal_transition", "record %d starts in %s but the previous one ended in %s", i, r.From, prev)
		}
		to, err := next(r.From, r.Event)
		switch {
		case err != nil:
			add("legal_transition", "record %d: %v", i, err)
		case to != r.To:
			add("legal_transition", "record %d: %s --%s--> %s, the table says %s", i, r.From, r.Event, r.To, to)
		}
		prev = r.To
	}
	if len(h) == 0 {
		add("trail_state", "empty audit trail, stored state %s", stored)
	} else if last := h[len(h)-1].To; last != stored {
		add("trail_state", "trail ends in %s, stored state is %s", last, stored)
	}
	return out
}

// checkTask checks one settled task and its steps.
func checkTask(j *job, t *workflow.Task, steps []*workflow.Step) []Violation {
	var out []Violation
	if !t.State.Terminal() {
		out = append(out, Violation{"settled", t.UUID, "task", fmt.Sprintf("%s/%s still %s; steps: %s", j.Namespace, j.Name, t.State, stepStates(steps))})
	} else if t.State != j.Want {
		out = append(out, Violation{"outcome", t.UUID, "task", fmt.Sprintf("%s/%s %s ended %s, want %s", j.Namespace, j.Name, j.contextJSON(), t.State, j.Want)})
	}
	out = append(out, checkTrail(t.UUID, "task", t.History, string(t.State), nextTask)...)
	for _, s := range steps {
		out = append(out, checkTrail(t.UUID, s.Name, s.History, string(s.State), nextStep)...)
		completes := 0
		for _, r := range s.History {
			if r.To == string(statemachine.StepComplete) {
				completes++
			}
		}
		if completes > 1 {
			out = append(out, Violation{"complete_once", t.UUID, s.Name, fmt.Sprintf("completed %d times", completes)})
		}
		if s.Attempts > s.MaxAttempts {
			out = append(out, Violation{"max_attempts", t.UUID, s.Name, fmt.Sprintf("%d attempts, max %d", s.Attempts, s.MaxAttempts)})
		}
	}
	return out
}

// checkLedger checks that no attempt's effect was committed twice and that
// no effect belongs to an attempt beyond the step's maximum.
func checkLedger(l *ledger) []Violation {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Violation
	for k, e := range l.effects {
		if e.Count > 1 {
			out = append(out, Violation{"effect_once", e.Task, e.Name, fmt.Sprintf("attempt %d ran its effect %d times", k.Attempt, e.Count)})
		}
		if k.Attempt > e.MaxAttempts {
			out = append(out, Violation{"max_attempts", e.Task, e.Name, fmt.Sprintf("effect of attempt %d, max %d", k.Attempt, e.MaxAttempts)})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].String() < out[b].String() })
	return out
}

// stepStates summarizes the steps of an unsettled task: name, state and
// attempts of each.
func stepStates(steps []*workflow.Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = fmt.Sprintf("%s=%s(%d/%d)", s.Name, s.State, s.Attempts, s.MaxAttempts)
	}
	return strings.Join(parts, " ")
}
