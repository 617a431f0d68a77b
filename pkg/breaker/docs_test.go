package breaker

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const docsPath = "../../docs/circuit-breakers.md"

// TestDocsMatchTable keeps docs/circuit-breakers.md in step with the table:
// the doc must hold the mermaid diagram and the transition table exactly as
// the code renders them. On failure it prints the block to paste.
func TestDocsMatchTable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("read doc: %v", err)
	}
	for name, block := range map[string]string{
		"diagram": "```mermaid\n" + Mermaid() + "```\n",
		"table":   markdownTable(Transitions()),
	} {
		if !strings.Contains(string(raw), block) {
			t.Errorf("%s does not contain the %s generated from the code; expected block:\n%s", docsPath, name, block)
		}
	}
}

func TestMermaidShape(t *testing.T) {
	t.Parallel()
	got := Mermaid()
	for _, want := range []string{
		"stateDiagram-v2\n    [*] --> closed\n",
		"    closed --> closed: failure, success\n",
		"    closed --> open: trip\n",
		"    open --> half_open: probe\n",
		"    half_open --> half_open: probe, success\n",
		"    half_open --> closed: close\n",
		"    half_open --> open: reopen\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Mermaid() lacks %q:\n%s", want, got)
		}
	}
}

// markdownTable renders rows as the "from | event | to" table kept in the doc.
func markdownTable(rows []Transition) string {
	var b strings.Builder
	b.WriteString("| from | event | to |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` |\n", r.From, r.Event, r.To)
	}
	return b.String()
}
