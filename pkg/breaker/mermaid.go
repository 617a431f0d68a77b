package breaker

import "strings"

// Mermaid renders the transition table as a mermaid state diagram, one edge
// per source and target state with its events, as kept in
// docs/circuit-breakers.md.
func Mermaid() string {
	type edge struct{ from, to State }
	var order []edge
	events := map[edge][]string{}
	for _, r := range rows {
		e := edge{r.From, r.To}
		if _, seen := events[e]; !seen {
			order = append(order, e)
		}
		events[e] = append(events[e], string(r.Event))
	}
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n    [*] --> closed\n")
	for _, e := range order {
		b.WriteString("    " + string(e.from) + " --> " + string(e.to) + ": " + strings.Join(events[e], ", ") + "\n")
	}
	return b.String()
}
