package statemachine

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const docsPath = "../../docs/state-machines.md"

// TestDocsDiagramsMatchTables keeps docs/state-machines.md in step with the
// tables: the two mermaid diagrams and the two transition tables in the doc
// must be exactly what the code renders. On failure it prints the block to
// paste.
func TestDocsDiagramsMatchTables(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read doc: %v", err)
	}
	doc := string(raw)
	blocks := []struct {
		name string
		text string
	}{
		{"task diagram", "```mermaid\n" + MermaidTask() + "```\n"},
		{"step diagram", "```mermaid\n" + MermaidStep() + "```\n"},
		{"task table", markdownTable(TaskTransitions())},
		{"step table", markdownTable(StepTransitions())},
	}
	for _, b := range blocks {
		if !strings.Contains(doc, b.text) {
			t.Errorf("%s does not contain the %s generated from the code; expected block:\n%s", docsPath, b.name, b.text)
		}
	}
}

func TestMermaidShape(t *testing.T) {
	t.Parallel()
	got := MermaidTask()
	for _, want := range []string{
		"stateDiagram-v2\n    [*] --> pending\n",
		"    steps_in_process --> evaluating_results: step_completed, all_steps_completed\n",
		"    error --> pending: reset\n",
		"    error --> [*]\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("MermaidTask() lacks %q", want)
		}
	}
	got = MermaidStep()
	for _, want := range []string{
		"    error --> pending: retry, reset_for_retry\n",
		"    complete --> [*]\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("MermaidStep() lacks %q", want)
		}
	}
	if strings.Contains(got, "    error --> [*]\n") {
		t.Error("MermaidStep() draws step error as terminal")
	}
}

// markdownTable renders rows as the "from | event | to" table kept in the
// doc.
func markdownTable[S ~string, E ~string](rows []Transition[S, E]) string {
	var b strings.Builder
	b.WriteString("| from | event | to |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", r.From, r.Event, r.To)
	}
	return b.String()
}
