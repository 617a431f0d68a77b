package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// OutcomeError means a decision or batchable step returned an outcome the
// engine cannot apply (unknown step, limit exceeded, malformed). The step
// fails permanently with this reason.
type OutcomeError struct{ Reason string }

func (e *OutcomeError) Error() string { return e.Reason }

func outcomeErr(format string, args ...any) error {
	return &OutcomeError{Reason: fmt.Sprintf(format, args...)}
}

// outcomePlan is the set of steps a decision or batch outcome creates.
type outcomePlan struct {
	steps []*workflow.Step
	// external maps a planned step to its dependencies outside the plan
	// (other than the deciding step), re-checked after creation.
	external map[string][]string
}

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

// planOutcome computes the steps a completed step's outcome creates.
func (e *Engine) planOutcome(ctx context.Context, run *taskRun, step *workflow.Step, ts *template.Step, result json.RawMessage) (*outcomePlan, error) {
	plan := &outcomePlan{external: map[string][]string{}}
	outs, err := protocol.ExtractOutcomes(result)
	if err != nil {
		return nil, outcomeErr("%v", err)
	}
	switch ts.Type {
	case template.StepDecision:
		if outs.Decision == nil {
			return nil, outcomeErr("decision step %s returned no decision_point_outcome", step.Name)
		}
		if outs.Decision.Type == protocol.DecisionNoBranches {
			return plan, nil
		}
		return plan, e.planDecision(ctx, run, step, outs.Decision.StepNames, plan)
	case template.StepBatchable:
		if outs.Batch == nil {
			return nil, outcomeErr("batchable step %s returned no batch_processing_outcome", step.Name)
		}
		return plan, e.planBatch(ctx, run, step, ts, outs.Batch, plan)
	}
	return plan, nil
}

func (e *Engine) planDecision(ctx context.Context, run *taskRun, step *workflow.Step, requested []string, plan *outcomePlan) error {
	tpl := run.tpl
	if len(requested) > e.cfg.MaxStepsPerDecision {
		return outcomeErr("decision %s requested %d steps, limit max_steps_per_decision is %d", step.Name, len(requested), e.cfg.MaxStepsPerDecision)
	}
	if depth := decisionDepth(tpl, step.TemplateStep); depth > e.cfg.MaxDecisionDepth {
		return outcomeErr("decision %s is nested %d deep, limit max_decision_depth is %d", step.Name, depth, e.cfg.MaxDecisionDepth)
	}
	allowed := map[string]bool{}
	for _, d := range tpl.DecisionDescendants(step.TemplateStep) {
		allowed[d] = true
	}
	inSet := map[string]bool{}
	var order []string
	for _, n := range requested {
		if !allowed[n] {
			return outcomeErr("decision %s requested step %q, which is not one of its descendants", step.Name, n)
		}
		if st, _ := tpl.Step(n); st.Type == template.StepBatchWorker {
			return outcomeErr("decision %s requested batch worker template %q; batch workers are created by their batchable step", step.Name, n)
		}
		if !inSet[n] {
			inSet[n] = true
			order = append(order, n)
		}
	}
	existing, err := e.existingDeps(ctx, run, step, allowed)
	if err != nil {
		return err
	}
	available := func(n string) bool { return inSet[n] || n == step.Name || existing[n] != nil }
	// Forward walk through dependents: a standard step joins once all its
	// dependencies will exist; a deferred convergence joins when any of its
	// dependencies does; nested decisions join but are not expanded.
	for i := 0; i < len(order); i++ {
		cur, _ := tpl.Step(order[i])
		if cur.Type == template.StepDecision && order[i] != step.TemplateStep {
			continue
		}
		for _, d := range tpl.Dependents(cur.Name) {
			if inSet[d] {
				continue
			}
			dt, _ := tpl.Step(d)
			join := false
			switch dt.Type {
			case template.StepBatchWorker:
			case template.StepDeferredConvergence:
				join = true
			default:
				join = true
				for _, dep := range dt.Dependencies {
					if !available(dep) {
						join = false
					}
				}
			}
			if join {
				inSet[d] = true
				order = append(order, d)
			}
		}
	}
	if len(order) > e.cfg.MaxStepsPerDecision {
		return outcomeErr("decision %s would create %d steps, limit max_steps_per_decision is %d", step.Name, len(order), e.cfg.MaxStepsPerDecision)
	}
	now := e.now()
	for _, n := range order {
		st, _ := tpl.Step(n)
		var deps []string
		for _, dep := range st.Dependencies {
			if available(dep) {
				deps = append(deps, dep)
			}
		}
		s := e.newStep(run.task, st, n, e.cfg.NewID(), deps, now)
		s.CreatedBy = step.Name
		e.addExternal(plan, s, step.Name, inSet, existing)
		plan.steps = append(plan.steps, s)
	}
	return nil
}

// existingDeps reads the steps outside the decision's reach that its
// descendants depend on.
func (e *Engine) existingDeps(ctx context.Context, run *taskRun, step *workflow.Step, reach map[string]bool) (map[string]*workflow.Step, error) {
	want := map[string]bool{}
	for n := range reach {
		st, _ := run.tpl.Step(n)
		for _, dep := range st.Dependencies {
			if !reach[dep] && dep != step.Name {
				want[dep] = true
			}
		}
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	if len(names) == 0 {
		return map[string]*workflow.Step{}, nil
	}
	return e.store.GetSteps(ctx, run.task.UUID, names)
}

// addExternal pre-satisfies dependencies that already completed and records
// the others for the re-check after creation.
func (e *Engine) addExternal(plan *outcomePlan, s *workflow.Step, decider string, inSet map[string]bool, existing map[string]*workflow.Step) {
	for _, dep := range s.Dependencies {
		if inSet[dep] || dep == decider {
			continue
		}
		if ex := existing[dep]; ex != nil && ex.State.SatisfiesDependency() {
			s.Satisfied = append(s.Satisfied, dep)
			continue
		}
		plan.external[s.Name] = append(plan.external[s.Name], dep)
	}
}

func decisionDepth(tpl *template.Template, name string) int {
	depth := 0
	seen := map[string]bool{}
	var walk func(n string)
	walk = func(n string) {
		st, ok := tpl.Step(n)
		if !ok || seen[n] {
			return
		}
		seen[n] = true
		if st.Type == template.StepDecision {
			depth++
		}
		for _, d := range st.Dependencies {
			walk(d)
		}
	}
	walk(name)
	return depth
}

func (e *Engine) planBatch(ctx context.Context, run *taskRun, step *workflow.Step, ts *template.Step, out *protocol.BatchOutcome, plan *outcomePlan) error {
	tpl := run.tpl
	workerName := out.WorkerTemplateName
	if workerName == "" {
		if v, ok := ts.Initialization["worker_template_name"].(string); ok {
			workerName = v
		}
	}
	if workerName == "" {
		for _, d := range tpl.Dependents(ts.Name) {
			if dt, _ := tpl.Step(d); dt.Type == template.StepBatchWorker {
				workerName = d
				break
			}
		}
	}
	wt, ok := tpl.Step(workerName)
	if !ok || wt.Type != template.StepBatchWorker {
		return outcomeErr("batchable step %s names worker template %q, which is not a batch_worker step of %s", step.Name, workerName, tpl.Key())
	}
	cursors := out.CursorConfigs
	noOp := out.Type == protocol.BatchNoBatches
	if noOp {
		cursors = []protocol.CursorConfig{{BatchID: "000", StartCursor: json.RawMessage("0"), EndCursor: json.RawMessage("0")}}
	}
	if len(cursors) > e.cfg.MaxBatchWorkers {
		return outcomeErr("batchable step %s asked for %d batch workers, limit is %d", step.Name, len(cursors), e.cfg.MaxBatchWorkers)
	}
	meta := protocol.BatchMetadata{BatchableStep: step.Name}
	if wt.BatchConfig != nil {
		meta.CursorField, meta.FailureStrategy = wt.BatchConfig.CursorField, wt.BatchConfig.FailureStrategy
	}
	now := e.now()
	inSet := map[string]bool{}
	workers := make([]string, 0, len(cursors))
	for _, c := range cursors {
		if !batchIDPattern.MatchString(c.BatchID) {
			return outcomeErr("batchable step %s: batch_id %q must match %s", step.Name, c.BatchID, batchIDPattern)
		}
		inputs, err := json.Marshal(protocol.BatchWorkerInputs{Cursor: c, BatchMetadata: meta, IsNoOp: noOp, TemplateStepName: wt.Name})
		if err != nil {
			return outcomeErr("batchable step %s: cursor %s: %v", step.Name, c.BatchID, err)
		}
		name := wt.Name + "_" + c.BatchID
		s := e.newStep(run.task, wt, name, e.cfg.NewID(), []string{step.Name}, now)
		s.CreatedBy, s.Inputs = step.Name, inputs
		plan.steps = append(plan.steps, s)
		inSet[name] = true
		workers = append(workers, name)
	}
	var convergence []*template.Step
	external := map[string]bool{}
	for _, d := range tpl.Dependents(wt.Name) {
		dt, _ := tpl.Step(d)
		convergence = append(convergence, dt)
		for _, dep := range dt.Dependencies {
			if dep != wt.Name {
				external[dep] = true
			}
		}
	}
	existing := map[string]*workflow.Step{}
	if len(external) > 0 {
		names := make([]string, 0, len(external))
		for n := range external {
			names = append(names, n)
		}
		var err error
		if existing, err = e.store.GetSteps(ctx, run.task.UUID, names); err != nil {
			return err
		}
	}
	for _, ct := range convergence {
		deps := make([]string, 0, len(workers)+len(ct.Dependencies))
		for _, dep := range ct.Dependencies {
			if dep == wt.Name {
				deps = append(deps, workers...)
			} else if existing[dep] != nil {
				deps = append(deps, dep)
			}
		}
		s := e.newStep(run.task, ct, ct.Name, e.cfg.NewID(), deps, now)
		s.CreatedBy = step.Name
		e.addExternal(plan, s, step.Name, inSet, existing)
		plan.steps = append(plan.steps, s)
	}
	return nil
}

// createPlanned writes the planned steps (idempotently) and then re-checks
// their outside dependencies: one that completed while the steps were being
// created could not see them, so its completion is recorded here. Every
// write is guarded by the deciding step still being in progress at attempt,
// so a late result of an attempt that timed out creates nothing; a guard
// that fails returns an error matching workflow.ErrConflict.
func (e *Engine) createPlanned(ctx context.Context, run *taskRun, decider string, attempt int, plan *outcomePlan) error {
	if len(plan.steps) == 0 {
		return nil
	}
	for _, s := range plan.steps {
		s.CreatedByAttempt = attempt
	}
	guard := &dynamo.StepGuard{Name: decider, State: statemachine.StepInProgress, Attempts: attempt}
	if _, err := e.store.PutStepsGuarded(ctx, run.task.UUID, plan.steps, guard); err != nil {
		return err
	}
	for name, deps := range plan.external {
		cur, err := e.store.GetSteps(ctx, run.task.UUID, deps)
		if err != nil {
			return err
		}
		for _, dep := range deps {
			if s := cur[dep]; s != nil && s.State.SatisfiesDependency() {
				if _, err := e.satisfy(ctx, run, name, dep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// discardPlanned removes the steps an attempt's outcome created when that
// attempt lost its step (a timeout or an operator moved it on between the
// creation and the completion), so a retry that decides differently does
// not find them. Steps another attempt re-created, or that started, stay.
func (e *Engine) discardPlanned(ctx context.Context, run *taskRun, decider string, attempt int, plan *outcomePlan) error {
	if len(plan.steps) == 0 {
		return nil
	}
	names := make([]string, len(plan.steps))
	for i, s := range plan.steps {
		names[i] = s.Name
	}
	return e.store.DeleteUnstarted(ctx, run.task.UUID, decider, attempt, names)
}
