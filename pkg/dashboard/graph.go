package dashboard

import (
	"fmt"
	"slices"

	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// graphNode is one box of a drawn DAG.
type graphNode struct {
	Name     string // the step's name (the label)
	Type     string // the template step type
	State    string // the step's state; "" on a template graph
	Created  bool   // a task's step (false on a template graph)
	Missing  bool   // a template step the task has not created
	StepUUID string
}

// graphView is what the SVG template draws.
type graphView struct {
	Width, Height float64
	Nodes         []nodeView
	Edges         []edgeView
}

type nodeView struct {
	graphNode
	X, Y, W, H float64
	Label      string // the name, shortened to fit the box
	Class      string // CSS classes: node, type-…, state-… or uncreated
}

type edgeView struct {
	From, To string
	Path     string
}

// maxLabel is the longest label drawn in full inside a node.
const maxLabel = 24

// templateGraph draws a template: one node per step.
func templateGraph(t *template.Template) graphView {
	nodes := make([]graphNode, len(t.Steps))
	deps := make([][]string, len(t.Steps))
	for i, s := range t.Steps {
		nodes[i] = graphNode{Name: s.Name, Type: string(s.Type)}
		deps[i] = s.Dependencies
	}
	return drawGraph(nodes, deps)
}

// taskGraph draws a task: one node per created step, in template order,
// plus a dashed node for each template step the task has not created (an
// unchosen decision branch, batch workers not yet planned). A dependency
// on a template step with instances (batch workers) joins every instance.
func taskGraph(t *template.Template, steps []*workflow.Step) graphView {
	var (
		nodes []graphNode
		deps  [][]string
	)
	byTemplate := map[string][]*workflow.Step{}
	for _, s := range steps {
		byTemplate[s.TemplateStep] = append(byTemplate[s.TemplateStep], s)
	}
	var tplDeps = map[string][]string{}
	var tplType = map[string]string{}
	var order []string
	if t != nil {
		for _, ts := range t.Steps {
			order = append(order, ts.Name)
			tplDeps[ts.Name] = ts.Dependencies
			tplType[ts.Name] = string(ts.Type)
		}
	}
	for _, s := range steps { // steps of a template step the template lacks
		if !slices.Contains(order, s.TemplateStep) {
			order = append(order, s.TemplateStep)
		}
	}
	for _, name := range order {
		created := byTemplate[name]
		if len(created) == 0 {
			nodes = append(nodes, graphNode{Name: name, Type: tplType[name], Missing: true})
			deps = append(deps, tplDeps[name])
			continue
		}
		for _, s := range created {
			typ := tplType[name]
			if typ == "" {
				typ = s.Type
			}
			nodes = append(nodes, graphNode{Name: s.Name, Type: typ, State: string(s.State), Created: true, StepUUID: s.UUID})
			d := slices.Clone(s.Dependencies)
			for _, td := range tplDeps[name] {
				if !slices.Contains(d, td) {
					d = append(d, td)
				}
			}
			deps = append(deps, d)
		}
	}
	return drawGraph(nodes, deps)
}

// drawGraph lays the nodes out; deps[i] names what node i depends on, by
// node name or by the template step of several instances.
func drawGraph(nodes []graphNode, deps [][]string) graphView {
	index := map[string][]int{}
	for i, n := range nodes {
		index[n.Name] = append(index[n.Name], i)
	}
	// Instances of a template step are found by the template step's name
	// when no node has that name (batch workers "<step>_<batch>").
	var edges []edge
	for i, ds := range deps {
		for _, d := range ds {
			from := index[d]
			if len(from) == 0 {
				from = instancesOf(nodes, d)
			}
			for _, f := range from {
				edges = append(edges, edge{From: f, To: i})
			}
		}
	}
	lay := layoutGraph(len(nodes), edges)
	out := graphView{Width: lay.Width, Height: lay.Height}
	for i, n := range nodes {
		p := lay.Nodes[i]
		out.Nodes = append(out.Nodes, nodeView{graphNode: n, X: p.X, Y: p.Y, W: p.W, H: p.H,
			Label: shorten(n.Name, maxLabel), Class: nodeClass(n)})
	}
	for _, e := range lay.Edges {
		out.Edges = append(out.Edges, edgeView{From: nodes[e.From].Name, To: nodes[e.To].Name, Path: e.path()})
	}
	return out
}

// instancesOf returns the nodes named "<step>_<suffix>", the instances a
// batchable step creates from the template step.
func instancesOf(nodes []graphNode, step string) []int {
	var out []int
	for i, n := range nodes {
		if len(n.Name) > len(step)+1 && n.Name[:len(step)+1] == step+"_" && n.Created {
			out = append(out, i)
		}
	}
	return out
}

func nodeClass(n graphNode) string {
	c := "node type-" + n.Type
	switch {
	case n.State != "":
		c += " state-" + n.State
	case n.Missing:
		c += " uncreated"
	}
	return c
}

// shorten cuts s to at most n runes, ending in an ellipsis when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// viewBox is the SVG viewBox attribute of a graph.
func (g graphView) ViewBox() string {
	return fmt.Sprintf("0 0 %.0f %.0f", max(g.Width, 1), max(g.Height, 1))
}
