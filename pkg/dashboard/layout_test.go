package dashboard

import (
	"strings"
	"testing"

	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

func TestLayoutLayers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		n      int
		edges  []edge
		layers []int
	}{
		{"empty", 0, nil, []int{}},
		{"single", 1, nil, []int{0}},
		{"chain", 3, []edge{{0, 1}, {1, 2}}, []int{0, 1, 2}},
		{"diamond", 4, []edge{{0, 1}, {0, 2}, {1, 3}, {2, 3}}, []int{0, 1, 1, 2}},
		// Longest path: 3 waits for 2 (layer 2), so it sits at layer 3
		// even though it also depends on 0 directly.
		{"long and short path", 4, []edge{{0, 1}, {1, 2}, {2, 3}, {0, 3}}, []int{0, 1, 2, 3}},
		{"two roots", 3, []edge{{0, 2}, {1, 2}}, []int{0, 0, 1}},
		{"ignores bad edges", 2, []edge{{0, 1}, {0, 1}, {1, 1}, {0, 7}, {-1, 0}}, []int{0, 1}},
		{"cycle still places every node", 3, []edge{{0, 1}, {1, 2}, {2, 1}}, []int{0, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := layoutGraph(c.n, c.edges)
			if len(l.Nodes) != c.n {
				t.Fatalf("%d nodes, want %d", len(l.Nodes), c.n)
			}
			for i, want := range c.layers {
				if l.Nodes[i].Layer != want {
					t.Errorf("node %d in layer %d, want %d", i, l.Nodes[i].Layer, want)
				}
			}
			assertNoOverlap(t, l)
		})
	}
}

// TestLayoutBarycenterRemovesCrossings: in input order the two chains
// cross (0→3 and 1→2); ordering by barycenter puts 3 above 2.
func TestLayoutBarycenterRemovesCrossings(t *testing.T) {
	t.Parallel()
	l := layoutGraph(4, []edge{{0, 3}, {1, 2}})
	if l.Crossings != 0 {
		t.Fatalf("%d crossings, want 0", l.Crossings)
	}
	if !(l.Nodes[3].Y < l.Nodes[2].Y) {
		t.Errorf("node 3 at y=%v, node 2 at y=%v: 3 should follow its parent 0 to the top", l.Nodes[3].Y, l.Nodes[2].Y)
	}
	// A wider case: K(2,2) plus crossing chains is solved to zero crossings.
	l = layoutGraph(6, []edge{{0, 5}, {1, 4}, {2, 3}})
	if l.Crossings != 0 {
		t.Errorf("reversed matching: %d crossings, want 0", l.Crossings)
	}
}

// TestLayoutLongEdgesBend checks that an edge spanning layers passes
// through one point per layer it crosses and that nodes keep their boxes.
func TestLayoutLongEdgesBend(t *testing.T) {
	t.Parallel()
	l := layoutGraph(4, []edge{{0, 1}, {1, 2}, {2, 3}, {0, 3}})
	var long placedEdge
	for _, e := range l.Edges {
		if e.From == 0 && e.To == 3 {
			long = e
		}
	}
	if len(long.Points) != 4 {
		t.Fatalf("the 0→3 edge has %d points, want 4 (two dummies)", len(long.Points))
	}
	for i := 1; i < len(long.Points); i++ {
		if long.Points[i].X <= long.Points[i-1].X {
			t.Errorf("edge goes left at point %d: %v", i, long.Points)
		}
	}
	if p := long.path(); !strings.HasPrefix(p, "M") || strings.Count(p, "C") != 3 {
		t.Errorf("path %q", p)
	}
	if l.Width <= 0 || l.Height <= 0 {
		t.Errorf("size %vx%v", l.Width, l.Height)
	}
}

func assertNoOverlap(t *testing.T, l graphLayout) {
	t.Helper()
	for i, a := range l.Nodes {
		if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width || a.Y+a.H > l.Height {
			t.Errorf("node %d (%v,%v) is outside %vx%v", i, a.X, a.Y, l.Width, l.Height)
		}
		for j, b := range l.Nodes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("nodes %d and %d overlap", i, i+1+j)
			}
		}
	}
}

// TestTaskGraph draws a task from its template and steps: created steps
// with their states, a step the task has not created dashed, and batch
// worker instances joined to the steps that depend on their template step.
func TestTaskGraph(t *testing.T) {
	t.Parallel()
	tpl := &template.Template{Steps: []template.Step{
		{Name: "plan", Type: template.StepBatchable},
		{Name: "work", Type: template.StepBatchWorker, Dependencies: []string{"plan"}},
		{Name: "merge", Type: template.StepDeferredConvergence, Dependencies: []string{"work"}},
		{Name: "report", Type: template.StepStandard, Dependencies: []string{"merge"}},
	}}
	steps := []*workflow.Step{
		{Name: "plan", TemplateStep: "plan", State: statemachine.StepComplete, UUID: "u1"},
		{Name: "work_0", TemplateStep: "work", State: statemachine.StepInProgress, Dependencies: []string{"plan"}, UUID: "u2"},
		{Name: "work_1", TemplateStep: "work", State: statemachine.StepError, Dependencies: []string{"plan"}, UUID: "u3"},
		{Name: "merge", TemplateStep: "merge", State: statemachine.StepPending, CountsDependencies: true, UUID: "u4"},
	}
	g := taskGraph(tpl, steps)
	classes := map[string]string{}
	for _, n := range g.Nodes {
		classes[n.Name] = n.Class
	}
	want := map[string]string{
		"plan":   "node type-batchable state-complete",
		"work_0": "node type-batch_worker state-in_progress",
		"work_1": "node type-batch_worker state-error",
		"merge":  "node type-deferred_convergence state-pending",
		"report": "node type-standard uncreated",
	}
	for name, c := range want {
		if classes[name] != c {
			t.Errorf("%s: class %q, want %q", name, classes[name], c)
		}
	}
	edges := map[string]bool{}
	for _, e := range g.Edges {
		edges[e.From+">"+e.To] = true
	}
	for _, e := range []string{"plan>work_0", "plan>work_1", "work_0>merge", "work_1>merge", "merge>report"} {
		if !edges[e] {
			t.Errorf("no edge %s in %v", e, edges)
		}
	}
	if len(g.Edges) != 5 {
		t.Errorf("%d edges, want 5", len(g.Edges))
	}
}
