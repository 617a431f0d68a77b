package template

import "fmt"

// checkTemplate runs the checks that look at more than one key: step names,
// dependencies, step-type rules, cycles and the input schema.
func checkTemplate(t *Template, sources []stepSource, c *collector) {
	if t.InputSchema != nil {
		checkInputSchema(t.InputSchema, c)
	}
	if len(t.Steps) == 0 || len(t.Steps) > maxSteps {
		return
	}
	first := checkStepNames(t.Steps, sources, c)
	checkDependencies(t.Steps, sources, first, c)
	g := newGraph(t.Steps)
	for i := range t.Steps {
		checkStepType(g, i, sources[i], c)
	}
	for _, cycle := range g.cycles() {
		c.addf("steps", "dependency cycle: %s", cycle)
	}
}

// checkStepNames reports repeated names and returns where each name first appears.
func checkStepNames(steps []Step, sources []stepSource, c *collector) map[string]int {
	first := make(map[string]int, len(steps))
	for i, s := range steps {
		if s.Name == "" {
			continue
		}
		if j, dup := first[s.Name]; dup {
			c.addf(sources[i].key("name"), "duplicate step name %q (also steps[%d])", s.Name, j)
			continue
		}
		first[s.Name] = i
	}
	return first
}

func checkDependencies(steps []Step, sources []stepSource, first map[string]int, c *collector) {
	for i, s := range steps {
		seen := make(map[string]int, len(s.Dependencies))
		for k, d := range s.Dependencies {
			path := sources[i].dep(k)
			if j, dup := seen[d]; dup {
				c.addf(path, "duplicate dependency %s (also %s)", quoteShort(d), sources[i].dep(j))
				continue
			}
			seen[d] = k
			switch _, known := first[d]; {
			case d == s.Name:
				c.addf(path, "step %s depends on itself", quoteShort(d))
			case !known:
				c.addf(path, "unknown step %s", quoteShort(d))
			}
		}
	}
}

// checkStepType applies the rules of step i's type, and the rule that only
// deferred_convergence steps may wait for batch workers.
func checkStepType(g *graph, i int, src stepSource, c *collector) {
	s := g.steps[i]
	switch s.Type {
	case StepDecision, StepDeferredConvergence:
		if len(s.Dependencies) == 0 {
			c.addf(src.deps(), "a %s step needs at least one dependency", s.Type)
		}
	case StepBatchWorker:
		checkBatchWorkerDeps(g, i, src, c)
	case StepBatchable:
		if !hasWorker(g, i) {
			c.addf(src.key("type"), "batchable step %q has no batch_worker step depending on it", s.Name)
		}
	}
	for k, d := range s.Dependencies {
		if j, ok := g.index[d]; ok && j != i && g.steps[j].Type == StepBatchWorker && s.Type != StepDeferredConvergence && s.Type != StepBatchWorker {
			c.addf(src.dep(k), "only deferred_convergence steps may depend on batch_worker step %q (this is %s)", d, typeArticle(s.Type))
		}
	}
	checkBatchConfig(g, i, src, c)
	checkWorkerTemplateName(g, i, src, c)
}

// checkBatchWorkerDeps requires a batch worker to depend on exactly one
// step, a batchable one.
func checkBatchWorkerDeps(g *graph, i int, src stepSource, c *collector) {
	s := g.steps[i]
	if len(s.Dependencies) != 1 {
		c.addf(src.deps(), "a batch_worker step needs exactly one dependency, its batchable step (found %d)", len(s.Dependencies))
		return
	}
	if j, ok := g.index[s.Dependencies[0]]; ok && j != i && g.steps[j].Type != StepBatchable {
		c.addf(src.dep(0), "a batch_worker step must depend on a batchable step; %q is %s", s.Dependencies[0], typeArticle(g.steps[j].Type))
	}
}

func hasWorker(g *graph, i int) bool {
	for _, j := range g.dependents[i] {
		if g.steps[j].Type == StepBatchWorker {
			return true
		}
	}
	return false
}

// checkBatchConfig places batch_config and checks its worker_template. On a
// batch_worker step the worker template is the step itself (readStep fills
// that default); on a batchable step it must name one of the step's batch workers.
func checkBatchConfig(g *graph, i int, src stepSource, c *collector) {
	s := g.steps[i]
	if s.BatchConfig == nil {
		return
	}
	path := joinKey(src.key("batch_config"), "worker_template")
	switch s.Type {
	case StepBatchWorker:
		if s.BatchConfig.WorkerTemplate != s.Name {
			c.addf(path, "on a batch_worker step this must be the step's own name %q, got %s", s.Name, quoteShort(s.BatchConfig.WorkerTemplate))
		}
	case StepBatchable:
		if s.BatchConfig.WorkerTemplate == "" {
			c.addf(path, "required on a batchable step: name the batch_worker step to instantiate")
			return
		}
		if msg := workerProblem(g, i, s.BatchConfig.WorkerTemplate); msg != "" {
			c.addf(path, "%s", msg)
		}
	default:
		c.addf(src.key("batch_config"), "only batchable and batch_worker steps take a batch_config (this is %s)", typeArticle(s.Type))
	}
}

// checkWorkerTemplateName checks handler.initialization.worker_template_name
// on a batchable step, which Tasker Core reads when there are no batches.
func checkWorkerTemplateName(g *graph, i int, src stepSource, c *collector) {
	if g.steps[i].Type != StepBatchable {
		return
	}
	v, ok := src.initialization["worker_template_name"]
	if !ok {
		return
	}
	path := joinKey(joinKey(src.key("handler"), "initialization"), "worker_template_name")
	name, isStr := v.(string)
	if !isStr {
		c.addf(path, "must be a string, got %s", describe(v))
		return
	}
	if msg := workerProblem(g, i, name); msg != "" {
		c.addf(path, "%s", msg)
	}
}

// workerProblem says why name is not a batch worker of batchable step i, or
// returns "".
func workerProblem(g *graph, i int, name string) string {
	j, ok := g.index[name]
	switch {
	case !ok:
		return fmt.Sprintf("unknown step %s", quoteShort(name))
	case g.steps[j].Type != StepBatchWorker:
		return fmt.Sprintf("%q is %s, not a batch_worker step", name, typeArticle(g.steps[j].Type))
	case len(g.deps[j]) != 1 || g.deps[j][0] != i:
		return fmt.Sprintf("batch_worker step %q does not depend on %q", name, g.steps[i].Name)
	}
	return ""
}
