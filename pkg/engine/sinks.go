package engine

import (
	"github.com/tasker-go/tasker/pkg/template"
)

// coveringSink reports whether step's completion proves that every step of
// the task is finished, so no read of the task's steps is needed to
// complete it. That holds when the template creates no steps at run time
// (no decision, batchable or convergence steps), step has no dependents,
// and every other step is one of its ancestors: step could only run once
// each ancestor had completed (or been resolved), so none is left open.
// The answer is cached per template version (templates are immutable).
func (e *Engine) coveringSink(tpl *template.Template, step string) bool {
	if v, ok := e.sinks.Load(tpl.Key()); ok {
		return v.(string) == step
	}
	sink := findCoveringSink(tpl)
	e.sinks.Store(tpl.Key(), sink)
	return sink == step
}

func findCoveringSink(tpl *template.Template) string {
	sink := ""
	for i := range tpl.Steps {
		s := &tpl.Steps[i]
		switch s.Type {
		case template.StepDecision, template.StepBatchable, template.StepBatchWorker, template.StepDeferredConvergence:
			return ""
		}
		if len(tpl.Dependents(s.Name)) == 0 {
			if sink != "" {
				return "" // two sinks: neither covers the other
			}
			sink = s.Name
		}
	}
	if sink == "" {
		return ""
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		if st, ok := tpl.Step(n); ok {
			for _, d := range st.Dependencies {
				walk(d)
			}
		}
	}
	walk(sink)
	if len(seen) != len(tpl.Steps) {
		return ""
	}
	return sink
}
