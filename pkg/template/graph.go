package template

import (
	"slices"
	"strings"
)

// graph is the dependency graph of a template's steps, by step index.
// Unknown dependencies, self-dependencies and repeats are left out; a name
// used twice refers to its first step.
type graph struct {
	steps      []Step
	index      map[string]int
	deps       [][]int // deps[i]: the steps step i waits for
	dependents [][]int // dependents[i]: the steps waiting for step i, in template order
}

func newGraph(steps []Step) *graph {
	g := &graph{
		steps:      steps,
		index:      make(map[string]int, len(steps)),
		deps:       make([][]int, len(steps)),
		dependents: make([][]int, len(steps)),
	}
	for i, s := range steps {
		if _, dup := g.index[s.Name]; !dup && s.Name != "" {
			g.index[s.Name] = i
		}
	}
	for i, s := range steps {
		for _, d := range s.Dependencies {
			j, ok := g.index[d]
			if !ok || j == i || slices.Contains(g.deps[i], j) {
				continue
			}
			g.deps[i] = append(g.deps[i], j)
			g.dependents[j] = append(g.dependents[j], i)
		}
	}
	return g
}

func (g *graph) names(idx []int) []string {
	if len(idx) == 0 {
		return nil
	}
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = g.steps[i].Name
	}
	return out
}

// reach returns the steps reachable from start along next (start excluded),
// in template order.
func (g *graph) reach(start int, next [][]int) []int {
	seen := make([]bool, len(g.steps))
	queue := []int{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range next[i] {
			if !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	var out []int
	for i, ok := range seen {
		if ok && i != start {
			out = append(out, i)
		}
	}
	return out
}

// topological orders the steps so that each comes after its dependencies,
// choosing the earliest step in template order whenever several are ready.
// Steps on a cycle, which only a hand-built Template can have, come last.
func (g *graph) topological() []int {
	waiting := make([]int, len(g.steps))
	var ready []int
	for i := range g.steps {
		waiting[i] = len(g.deps[i])
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	placed := make([]bool, len(g.steps))
	order := make([]int, 0, len(g.steps))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		placed[i] = true
		order = append(order, i)
		for _, j := range g.dependents[i] {
			waiting[j]--
			if waiting[j] == 0 {
				pos, _ := slices.BinarySearch(ready, j)
				ready = slices.Insert(ready, pos, j)
			}
		}
	}
	for i, ok := range placed {
		if !ok {
			order = append(order, i)
		}
	}
	return order
}

// cycles describes each dependency cycle once, as "a -> b -> a" where each
// arrow points at a step that depends on the one before it. Every strongly
// connected group of steps yields one cycle, starting at its earliest step.
func (g *graph) cycles() []string {
	var out []string
	for _, comp := range g.components() {
		if len(comp) < 2 {
			continue
		}
		out = append(out, g.describeCycle(comp))
	}
	return out
}

// describeCycle finds the shortest cycle through the component's earliest step.
func (g *graph) describeCycle(comp []int) string {
	start := slices.Min(comp)
	inComp := make(map[int]bool, len(comp))
	for _, i := range comp {
		inComp[i] = true
	}
	prev := map[int]int{}
	queue := []int{start}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range g.dependents[i] {
			if !inComp[j] {
				continue
			}
			if j == start {
				path := []string{g.steps[start].Name}
				for k := i; k != start; k = prev[k] {
					path = append(path, g.steps[k].Name)
				}
				path = append(path, g.steps[start].Name)
				slices.Reverse(path)
				return strings.Join(path, " -> ")
			}
			if _, seen := prev[j]; !seen {
				prev[j] = i
				queue = append(queue, j)
			}
		}
	}
	return g.steps[start].Name
}

// components returns the strongly connected components (Tarjan), each
// sorted, ordered by their earliest step.
func (g *graph) components() [][]int {
	n := len(g.steps)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	counter := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = counter, counter
		counter++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.dependents[v] {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			slices.Sort(comp)
			comps = append(comps, comp)
		}
	}
	for v := range n {
		if index[v] < 0 {
			visit(v)
		}
	}
	slices.SortFunc(comps, func(a, b []int) int { return a[0] - b[0] })
	return comps
}

// Dependents returns the names of the steps that list name as a dependency,
// in template order. It returns nil for an unknown step.
func (t *Template) Dependents(name string) []string {
	g := newGraph(t.Steps)
	i, ok := g.index[name]
	if !ok {
		return nil
	}
	return g.names(g.dependents[i])
}

// DecisionDescendants returns every step reachable forward from the named
// step (its dependents, their dependents, and so on), in template order:
// the steps a decision may create. It returns nil for an unknown step.
func (t *Template) DecisionDescendants(decision string) []string {
	g := newGraph(t.Steps)
	i, ok := g.index[decision]
	if !ok {
		return nil
	}
	return g.names(g.reach(i, g.dependents))
}

// InitialSteps returns the steps created when a task starts, in template
// order. Left out are batch_worker steps (a batchable step instantiates
// them), every descendant of a decision step (the decision creates those it
// chooses), and deferred_convergence steps that have a decision, batchable
// or batch_worker step among their ancestors (the engine creates them when
// those resolve).
//
// A standard step that depends on a step left out (for example a report after
// a batch's convergence step) is still created at start; it stays waiting
// until that dependency is created and completes.
func (t *Template) InitialSteps() []string {
	g := newGraph(t.Steps)
	late := make([]bool, len(t.Steps))
	for i, s := range t.Steps {
		switch s.Type {
		case StepBatchWorker:
			late[i] = true
		case StepDecision:
			for _, j := range g.reach(i, g.dependents) {
				late[j] = true
			}
		}
	}
	for i, s := range t.Steps {
		if s.Type != StepDeferredConvergence || late[i] {
			continue
		}
		for _, j := range g.reach(i, g.deps) {
			switch t.Steps[j].Type {
			case StepDecision, StepBatchable, StepBatchWorker:
				late[i] = true
			}
		}
	}
	var out []string
	for i, s := range t.Steps {
		if !late[i] {
			out = append(out, s.Name)
		}
	}
	return out
}

// TopologicalOrder returns every step name so that each step comes after
// its dependencies; among steps that are ready together, template order
// wins.
func (t *Template) TopologicalOrder() []string {
	g := newGraph(t.Steps)
	return g.names(g.topological())
}
