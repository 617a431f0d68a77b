package samplehandlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// The simulator below runs a template's steps through the registered
// handlers in-process, the way the engine would: parents' results flow to
// children, retries follow the template's policy and the handler's error
// class, decision and batch outcomes create steps. It is a test double for
// the engine's graph logic, kept just rich enough for the shipped
// templates, so the handlers can be checked against the acceptance
// expectations without AWS.

type simStep struct {
	name     string
	tpl      *template.Step
	deps     []string
	inputs   json.RawMessage
	attempts int
	state    string // "pending", "complete" or "error"
	result   json.RawMessage
	err      *worker.Error
}

type simTask struct {
	t       testing.TB
	tpl     *template.Template
	reg     *worker.Registry
	context json.RawMessage
	steps   map[string]*simStep
	created []string
}

// simulate loads templates/<path> and runs it with taskContext.
func simulate(t testing.TB, reg *worker.Registry, path, taskContext string) *simTask {
	t.Helper()
	tpl, err := template.ParseFile("../../templates/" + path)
	require.NoError(t, err)
	require.NoError(t, tpl.ValidateContext(json.RawMessage(taskContext)), "context does not satisfy %s's input_schema", path)
	st := &simTask{t: t, tpl: tpl, reg: reg, context: json.RawMessage(taskContext), steps: map[string]*simStep{}}
	for _, name := range tpl.InitialSteps() {
		ts, _ := tpl.Step(name)
		st.create(name, ts, ts.Dependencies, nil)
	}
	st.run()
	return st
}

func (st *simTask) create(name string, ts *template.Step, deps []string, inputs json.RawMessage) {
	require.NotContains(st.t, st.steps, name, "step %s created twice", name)
	st.steps[name] = &simStep{name: name, tpl: ts, deps: slices.Clone(deps), inputs: inputs, state: "pending"}
	st.created = append(st.created, name)
}

func (st *simTask) run() {
	for {
		ready := st.ready()
		if len(ready) == 0 {
			return
		}
		for _, s := range ready {
			st.execute(s)
		}
	}
}

// ready returns the pending steps whose dependencies all exist and are
// complete, by name.
func (st *simTask) ready() []*simStep {
	var out []*simStep
	for _, name := range st.created {
		s := st.steps[name]
		if s.state != "pending" {
			continue
		}
		ok := true
		for _, d := range s.deps {
			if dep := st.steps[d]; dep == nil || dep.state != "complete" {
				ok = false
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *simStep) int { return strings.Compare(a.name, b.name) })
	return out
}

// execute runs s's attempts until one succeeds, the error is permanent or
// the attempts are used up.
func (st *simTask) execute(s *simStep) {
	var config json.RawMessage
	if len(s.tpl.Initialization) > 0 {
		config, _ = json.Marshal(s.tpl.Initialization)
	}
	parents := map[string]json.RawMessage{}
	for _, d := range s.deps {
		parents[d] = st.steps[d].result
	}
	for {
		s.attempts++
		ws := &worker.Step{
			TaskUUID: "task-sim", StepUUID: "uuid-" + s.name, Name: s.name, Type: string(s.tpl.Type),
			Handler: s.tpl.Handler, Attempt: s.attempts, MaxAttempts: s.tpl.Retry.MaxAttempts,
			Context: st.context, Config: config, Parents: parents, Inputs: s.inputs,
		}
		h, ok := st.reg.Lookup(s.tpl.Handler)
		require.Truef(st.t, ok, "no handler %q for step %s", s.tpl.Handler, s.name)
		res, err := h.Handle(context.Background(), ws)
		if err == nil {
			s.state, s.result, s.err = "complete", res.Data, nil
			st.applyOutcomes(s)
			return
		}
		var we *worker.Error
		if !errors.As(err, &we) {
			we = worker.Retryable(err)
		}
		s.err = we
		if !we.Retryable || !s.tpl.Retry.Retryable || s.attempts >= s.tpl.Retry.MaxAttempts {
			s.state = "error"
			return
		}
	}
}

func (st *simTask) applyOutcomes(s *simStep) {
	out, err := protocol.ExtractOutcomes(s.result)
	require.NoError(st.t, err)
	if d := out.Decision; d != nil {
		st.applyDecision(s, d)
	}
	if b := out.Batch; b != nil {
		st.applyBatch(s, b)
	}
}

func (st *simTask) applyDecision(s *simStep, d *protocol.DecisionOutcome) {
	for _, name := range d.StepNames {
		ts, ok := st.tpl.Step(name)
		require.Truef(st.t, ok, "decision %s names unknown step %s", s.name, name)
		st.create(name, ts, ts.Dependencies, nil)
	}
	for _, name := range st.tpl.DecisionDescendants(s.name) {
		ts, _ := st.tpl.Step(name)
		if ts.Type != template.StepDeferredConvergence || st.steps[name] != nil {
			continue
		}
		var deps []string
		for _, dep := range ts.Dependencies {
			if st.steps[dep] != nil {
				deps = append(deps, dep)
			}
		}
		if len(deps) > 0 {
			st.create(name, ts, deps, nil)
		}
	}
}

func (st *simTask) applyBatch(s *simStep, b *protocol.BatchOutcome) {
	wt, ok := st.tpl.Step(b.WorkerTemplateName)
	if b.Type == protocol.BatchNoBatches {
		for _, d := range st.tpl.Dependents(s.name) {
			if dt, _ := st.tpl.Step(d); dt.Type == template.StepBatchWorker {
				wt, ok = dt, true
			}
		}
	}
	require.Truef(st.t, ok && wt.Type == template.StepBatchWorker, "batchable %s: no worker template %q", s.name, b.WorkerTemplateName)
	cursors, noOp := b.CursorConfigs, b.Type == protocol.BatchNoBatches
	if noOp {
		cursors = []protocol.CursorConfig{{BatchID: "000", StartCursor: json.RawMessage("0"), EndCursor: json.RawMessage("0")}}
	}
	var workers []string
	for _, c := range cursors {
		meta := protocol.BatchMetadata{BatchableStep: s.name}
		if wt.BatchConfig != nil {
			meta.CursorField, meta.FailureStrategy = wt.BatchConfig.CursorField, wt.BatchConfig.FailureStrategy
		}
		inputs, err := json.Marshal(protocol.BatchWorkerInputs{Cursor: c, BatchMetadata: meta, IsNoOp: noOp, TemplateStepName: wt.Name})
		require.NoError(st.t, err)
		name := wt.Name + "_" + c.BatchID
		st.create(name, wt, []string{s.name}, inputs)
		workers = append(workers, name)
	}
	for _, d := range st.tpl.Dependents(wt.Name) {
		ct, _ := st.tpl.Step(d)
		var deps []string
		for _, dep := range ct.Dependencies {
			if dep == wt.Name {
				deps = append(deps, workers...)
			} else {
				deps = append(deps, dep)
			}
		}
		st.create(ct.Name, ct, deps, nil)
	}
}

// state returns "complete" when every created step completed, else "error".
func (st *simTask) state() string {
	for _, s := range st.steps {
		if s.state != "complete" {
			return "error"
		}
	}
	return "complete"
}

// step returns a created step; the test fails when it does not exist.
func (st *simTask) step(name string) *simStep {
	st.t.Helper()
	s, ok := st.steps[name]
	require.Truef(st.t, ok, "step %s does not exist; created: %v", name, st.created)
	return s
}

func (st *simTask) String() string {
	out := ""
	for _, name := range st.created {
		s := st.steps[name]
		out += fmt.Sprintf("%s: %s after %d attempt(s) %s %v\n", name, s.state, s.attempts, s.result, s.err)
	}
	return out
}
