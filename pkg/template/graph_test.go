package template_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/template"
)

func TestInitialSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps string
		want  []string
	}{
		{
			name: "decision descendants wait, even past a convergence",
			steps: "  - {name: start, handler: h}\n" +
				"  - {name: decide, handler: h, type: decision, dependencies: [start]}\n" +
				"  - {name: left, handler: h, dependencies: [decide]}\n" +
				"  - {name: join, handler: h, type: deferred_convergence, dependencies: [left]}\n" +
				"  - {name: after, handler: h, dependencies: [join]}\n" +
				"  - {name: side, handler: h, dependencies: [start]}\n",
			want: []string{"start", "decide", "side"},
		},
		{
			name: "nested decisions",
			steps: "  - {name: start, handler: h}\n" +
				"  - {name: d1, handler: h, type: decision, dependencies: [start]}\n" +
				"  - {name: d2, handler: h, type: decision, dependencies: [d1]}\n" +
				"  - {name: leaf, handler: h, dependencies: [d2]}\n",
			want: []string{"start", "d1"},
		},
		{
			name: "convergence with no dynamic ancestor starts with the task",
			steps: "  - {name: a, handler: h}\n" +
				"  - {name: b, handler: h}\n" +
				"  - {name: join, handler: h, type: deferred_convergence, dependencies: [a, b]}\n",
			want: []string{"a", "b", "join"},
		},
		{
			name: "convergence below a batchable step waits",
			steps: "  - {name: an, handler: h, type: batchable}\n" +
				"  - {name: wk, handler: h, type: batch_worker, dependencies: [an]}\n" +
				"  - {name: join, handler: h, type: deferred_convergence, dependencies: [wk]}\n" +
				"  - {name: report, handler: h, dependencies: [join]}\n",
			want: []string{"an", "report"},
		},
		{
			name: "convergence with a batchable ancestor further up waits",
			steps: "  - {name: an, handler: h, type: batchable}\n" +
				"  - {name: wk, handler: h, type: batch_worker, dependencies: [an]}\n" +
				"  - {name: mid, handler: h, dependencies: [an]}\n" +
				"  - {name: join, handler: h, type: deferred_convergence, dependencies: [mid]}\n",
			want: []string{"an", "mid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, mustParse(t, withSteps(tt.steps)).InitialSteps())
		})
	}
}

func TestDecisionDescendantsAndDependents(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSteps(
		"  - {name: validate, handler: h}\n"+
			"  - {name: route, handler: h, type: decision, dependencies: [validate]}\n"+
			"  - {name: big, handler: h, dependencies: [route]}\n"+
			"  - {name: small, handler: h, dependencies: [route]}\n"+
			"  - {name: finalize, handler: h, type: deferred_convergence, dependencies: [small, big]}\n"+
			"  - {name: audit, handler: h, dependencies: [validate]}\n"))
	require.Equal(t, []string{"big", "small", "finalize"}, tmpl.DecisionDescendants("route"))
	require.Equal(t, []string{"route", "big", "small", "finalize", "audit"}, tmpl.DecisionDescendants("validate"))
	require.Nil(t, tmpl.DecisionDescendants("finalize"))
	require.Nil(t, tmpl.DecisionDescendants("missing"))

	require.Equal(t, []string{"route", "audit"}, tmpl.Dependents("validate"))
	require.Equal(t, []string{"finalize"}, tmpl.Dependents("small"))
	require.Nil(t, tmpl.Dependents("finalize"))
	require.Nil(t, tmpl.Dependents("missing"))

	s, ok := tmpl.Step("big")
	require.True(t, ok)
	require.Equal(t, "big", s.Name)
	_, ok = tmpl.Step("missing")
	require.False(t, ok)
}

func TestTopologicalOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps string
		want  []string
	}{
		{
			name: "written backwards",
			steps: "  - {name: d, handler: h, dependencies: [b, c]}\n" +
				"  - {name: c, handler: h, dependencies: [a]}\n" +
				"  - {name: b, handler: h, dependencies: [a]}\n" +
				"  - {name: a, handler: h}\n",
			want: []string{"a", "c", "b", "d"},
		},
		{
			name: "ties keep template order",
			steps: "  - {name: x, handler: h}\n" +
				"  - {name: late, handler: h, dependencies: [y]}\n" +
				"  - {name: y, handler: h}\n" +
				"  - {name: early, handler: h, dependencies: [x]}\n",
			want: []string{"x", "y", "late", "early"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, mustParse(t, withSteps(tt.steps)).TopologicalOrder())
		})
	}
}

func TestGraphOnHandBuiltCycle(t *testing.T) {
	t.Parallel()
	// Parse rejects cycles; hand-built templates still get every step back.
	tmpl := &template.Template{Steps: []template.Step{
		{Name: "a", Dependencies: []string{"b"}},
		{Name: "b", Dependencies: []string{"a"}},
		{Name: "c"},
	}}
	require.Equal(t, []string{"c", "a", "b"}, tmpl.TopologicalOrder())
	require.Equal(t, []string{"a", "b", "c"}, tmpl.InitialSteps())
}
