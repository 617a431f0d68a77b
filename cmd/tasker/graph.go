package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
)

func newTemplatesGraphCmd(g *globals) *cobra.Command {
	var format, taskID string
	cmd := &cobra.Command{
		Use:   "graph NAMESPACE/NAME[:VERSION] [--format mermaid|dot] [--task TASK_UUID]",
		Short: "Draw a registered template's step graph as Mermaid or Graphviz DOT",
		Long: `Prints the template's DAG: one node per template step (decisions as diamonds, batchable
steps and batch workers marked), an edge from each dependency to its dependent. Without
:VERSION the highest registered version is drawn. With --task, each node shows and is styled
by that task's step state; a step the task never created (an unchosen decision branch, batch
workers not yet planned) is drawn dashed. -o json prints the graph as nodes and edges.`,
		Example: `  tasker templates graph fulfillment/order_fulfillment > order.mmd
  tasker templates graph acceptance_linear/mathematical_sequence --format dot | dot -Tsvg > linear.svg
  tasker templates graph fulfillment/order_fulfillment --task 01a21b3c-5b0b-7f06-bdad-98bdbc12b470`,
		Args: args("NAMESPACE/NAME[:VERSION]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "mermaid" && format != "dot" {
				return usageErrorf("--format: must be mermaid or dot, got %q", format)
			}
			ns, name, version, err := parseTemplateRef(args[0])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var task *api.TaskResponse
			if taskID != "" {
				if task, err = c.GetTask(ctx, taskID); err != nil {
					return err
				}
				if task.Namespace != ns || task.Name != name || (version != "" && version != task.Version) {
					return usageErrorf("--task: task %s runs %s/%s:%s, not %s", task.TaskUUID, task.Namespace, task.Name, task.Version, args[0])
				}
				version = task.Version
			}
			if version == "" {
				if version, err = latestVersion(ctx, c, ns, name); err != nil {
					return err
				}
			}
			raw, err := c.GetTemplate(ctx, ns, name, version)
			if err != nil {
				return err
			}
			gr, err := buildGraph(raw, task)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case g.json():
				return writeJSON(out, gr)
			case format == "dot":
				return writeDOT(out, gr)
			}
			return writeMermaid(out, gr)
		},
	}
	cmd.Flags().StringVar(&format, "format", "mermaid", "mermaid or dot")
	cmd.Flags().StringVar(&taskID, "task", "", "label and style each step by this task's step states")
	return cmd
}

// latestVersion returns the highest registered version of ns/name (the API
// lists versions in order).
func latestVersion(ctx context.Context, c *client.Client, ns, name string) (string, error) {
	list, err := c.ListTemplates(ctx)
	if err != nil {
		return "", err
	}
	version := ""
	for _, t := range list {
		if t.Namespace == ns && t.Name == name {
			version = t.Version
		}
	}
	if version == "" {
		return "", fmt.Errorf("no template is registered as %s/%s (see: tasker templates list)", ns, name)
	}
	return version, nil
}

// stepGraph is a template's DAG, optionally with a task's step states.
type stepGraph struct {
	Template string      `json:"template"`
	TaskUUID string      `json:"task_uuid,omitempty"`
	Nodes    []graphNode `json:"nodes"`
	Edges    []graphEdge `json:"edges"`
}

type graphNode struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Handler string `json:"handler"`
	// State is the task's step state, "not_created" when the task has no
	// such step; for several instances (batch workers) the most pressing one.
	State string `json:"state,omitempty"`
	// Instances counts the task's steps made from this template step.
	Instances int `json:"instances,omitempty"`
	// States counts the instances by state.
	States   map[string]int `json:"states,omitempty"`
	Attempts int            `json:"attempts,omitempty"`
}

type graphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// buildGraph reads the template's canonical JSON and overlays the task.
func buildGraph(raw json.RawMessage, task *api.TaskResponse) (*stepGraph, error) {
	var tpl struct {
		Namespace string `json:"namespace_name"`
		Name      string `json:"name"`
		Version   string `json:"version"`
		Steps     []struct {
			Name         string   `json:"name"`
			Type         string   `json:"type"`
			Dependencies []string `json:"dependencies"`
			Handler      struct {
				Callable string `json:"callable"`
			} `json:"handler"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	gr := &stepGraph{Template: tpl.Namespace + "/" + tpl.Name + ":" + tpl.Version, Edges: []graphEdge{}}
	instances := map[string][]api.StepResponse{}
	if task != nil {
		gr.TaskUUID = task.TaskUUID
		for _, s := range task.Steps {
			instances[s.TemplateStep] = append(instances[s.TemplateStep], s)
		}
	}
	for _, s := range tpl.Steps {
		n := graphNode{Name: s.Name, Type: s.Type, Handler: s.Handler.Callable}
		if task != nil {
			n.overlay(instances[s.Name])
		}
		gr.Nodes = append(gr.Nodes, n)
		for _, d := range s.Dependencies {
			gr.Edges = append(gr.Edges, graphEdge{From: d, To: s.Name})
		}
	}
	return gr, nil
}

// statePriority orders states by how much they need attention.
var statePriority = []string{"error", "in_progress", "enqueued_as_error_for_orchestration", "enqueued_for_orchestration",
	"enqueued", "waiting_for_retry", "pending", "cancelled", "resolved_manually", "complete"}

// overlay sets a node's state from the task's steps made from it.
func (n *graphNode) overlay(steps []api.StepResponse) {
	n.Instances = len(steps)
	switch len(steps) {
	case 0:
		n.State = "not_created"
		return
	case 1:
		n.State, n.Attempts = steps[0].CurrentState, steps[0].Attempts
		return
	}
	n.States = map[string]int{}
	for _, s := range steps {
		n.States[s.CurrentState]++
	}
	for _, st := range statePriority {
		if n.States[st] > 0 {
			n.State = st
			return
		}
	}
}

// detail is a node's second label line.
func (n graphNode) detail(withTask bool) string {
	if !withTask {
		return n.Handler
	}
	if n.Instances <= 1 {
		if n.Attempts > 0 {
			return fmt.Sprintf("%s (attempt %d)", n.State, n.Attempts)
		}
		return n.State
	}
	states := make([]string, 0, len(n.States))
	for st, k := range n.States {
		states = append(states, fmt.Sprintf("%d %s", k, st))
	}
	sort.Strings(states)
	return fmt.Sprintf("×%d: %s", n.Instances, strings.Join(states, ", "))
}

// styleClass groups states for styling.
func styleClass(state string) string {
	switch state {
	case "complete", "resolved_manually":
		return "done"
	case "enqueued", "in_progress", "enqueued_for_orchestration", "enqueued_as_error_for_orchestration":
		return "running"
	case "waiting_for_retry":
		return "retrying"
	case "error":
		return "failed"
	case "cancelled":
		return "cancelled"
	case "not_created":
		return "notcreated"
	}
	return "pending"
}

// styles are the fill and stroke of each style class.
var styles = map[string][2]string{
	"done": {"#d4edda", "#28a745"}, "running": {"#cce5ff", "#004085"}, "retrying": {"#fff3cd", "#856404"},
	"failed": {"#f8d7da", "#721c24"}, "cancelled": {"#e2e3e5", "#6c757d"}, "pending": {"#ffffff", "#6c757d"},
	"notcreated": {"#fafafa", "#adb5bd"},
}

var styleOrder = []string{"done", "running", "retrying", "failed", "cancelled", "pending", "notcreated"}

// writeMermaid prints a Mermaid flowchart.
func writeMermaid(w io.Writer, gr *stepGraph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "flowchart TD\n  %%%% %s", gr.Template)
	if gr.TaskUUID != "" {
		fmt.Fprintf(&b, " — task %s", gr.TaskUUID)
	}
	b.WriteString("\n")
	withTask := gr.TaskUUID != ""
	for _, n := range gr.Nodes {
		label := strings.ReplaceAll(n.Name+"<br/>"+n.detail(withTask), `"`, "#quot;")
		open, end := `["`, `"]`
		switch n.Type {
		case "decision":
			open, end = `{"`, `"}`
		case "batchable":
			open, end = `[["`, `"]]`
		case "batch_worker":
			open, end = `[/"`, `"/]`
		case "deferred_convergence":
			open, end = `(["`, `"])`
		}
		fmt.Fprintf(&b, "  n_%s%s%s%s\n", n.Name, open, label, end)
	}
	for _, e := range gr.Edges {
		fmt.Fprintf(&b, "  n_%s --> n_%s\n", e.From, e.To)
	}
	if withTask {
		used := map[string][]string{}
		for _, n := range gr.Nodes {
			c := styleClass(n.State)
			used[c] = append(used[c], "n_"+n.Name)
		}
		for _, c := range styleOrder {
			if len(used[c]) == 0 {
				continue
			}
			def := fmt.Sprintf("fill:%s,stroke:%s", styles[c][0], styles[c][1])
			if c == "notcreated" {
				def += ",stroke-dasharray:4 4"
			}
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c, def, strings.Join(used[c], ","), c)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDOT prints a Graphviz digraph.
func writeDOT(w io.Writer, gr *stepGraph) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n", gr.Template)
	withTask := gr.TaskUUID != ""
	for _, n := range gr.Nodes {
		attrs := []string{fmt.Sprintf("label=%q", n.Name+"\n"+n.detail(withTask))}
		switch n.Type {
		case "decision":
			attrs = append(attrs, "shape=diamond", `style="filled"`)
		case "batchable":
			attrs = append(attrs, "shape=box3d", `style="filled"`)
		case "batch_worker":
			attrs = append(attrs, "peripheries=2")
		case "deferred_convergence":
			attrs = append(attrs, "shape=ellipse", `style="filled"`)
		}
		if withTask {
			c := styleClass(n.State)
			attrs = append(attrs, fmt.Sprintf("fillcolor=%q, color=%q", styles[c][0], styles[c][1]))
			if c == "notcreated" {
				attrs = append(attrs, `style="rounded,filled,dashed"`)
			}
		}
		fmt.Fprintf(&b, "  %q [%s];\n", n.Name, strings.Join(attrs, ", "))
	}
	for _, e := range gr.Edges {
		fmt.Fprintf(&b, "  %q -> %q;\n", e.From, e.To)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
