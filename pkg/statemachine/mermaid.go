package statemachine

import (
	"fmt"
	"strings"
)

// MermaidTask renders the task table as a mermaid stateDiagram-v2, the body
// of the task diagram in docs/state-machines.md. Rows between the same two
// states share one arrow whose label lists their events.
func MermaidTask() string {
	return mermaid(taskTable.rows, TaskPending, taskStates, TaskState.Terminal)
}

// MermaidStep renders the step table as a mermaid stateDiagram-v2, the body
// of the step diagram in docs/state-machines.md. Rows between the same two
// states share one arrow whose label lists their events.
func MermaidStep() string {
	return mermaid(stepTable.rows, StepPending, stepStates, StepState.Terminal)
}

// mermaid draws [*] into initial, one arrow per (from, to) pair in row order,
// and an arrow to [*] from every terminal state.
func mermaid[S ~string, E ~string](rows []Transition[S, E], initial S, states []S, terminal func(S) bool) string {
	type edge struct{ from, to S }
	var order []edge
	events := make(map[edge][]string)
	for _, r := range rows {
		e := edge{r.From, r.To}
		if _, seen := events[e]; !seen {
			order = append(order, e)
		}
		events[e] = append(events[e], string(r.Event))
	}

	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", initial)
	for _, e := range order {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e.from, e.to, strings.Join(events[e], ", "))
	}
	for _, s := range states {
		if terminal(s) {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}
