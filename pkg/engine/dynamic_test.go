package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// dynamicRegistry has handlers driven by the task context.
func dynamicRegistry() *worker.Registry {
	reg := worker.NewRegistry()
	reg.RegisterFunc("ok", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(map[string]string{"step": s.Name})
	})
	reg.RegisterFunc("pick", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		var c map[string][]string
		if err := s.DecodeContext(&c); err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		return worker.Decision(c[s.Name]...)
	})
	reg.RegisterFunc("split", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		var c struct{ Workers int }
		if err := s.DecodeContext(&c); err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		var cursors []protocol.CursorConfig
		for i := range c.Workers {
			cursors = append(cursors, protocol.CursorConfig{BatchID: fmt.Sprintf("%04d", i),
				StartCursor: []byte(fmt.Sprint(i * 10)), EndCursor: []byte(fmt.Sprint(i*10 + 10)), BatchSize: 10})
		}
		return worker.Batches("work", int64(c.Workers*10), cursors...)
	})
	reg.RegisterFunc("work", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		var c struct{ Fail []string }
		if err := s.DecodeContext(&c); err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		in, err := s.BatchInputs()
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		for _, f := range c.Fail {
			if f == in.Cursor.BatchID {
				return worker.Result{}, worker.Permanent(errors.New("bad partition " + f))
			}
		}
		return worker.Success(map[string]int{"processed": 10})
	})
	reg.RegisterFunc("agg", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		results, err := s.BatchResults()
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		total, failed := 0, []string{}
		for _, r := range results {
			if r.Failed {
				failed = append(failed, r.BatchID)
				continue
			}
			var v struct{ Processed int }
			if err := r.Decode(&v); err != nil {
				return worker.Result{}, worker.Permanent(err)
			}
			total += v.Processed
		}
		return worker.Success(map[string]any{"total": total, "failed": failed, "workers": len(results)})
	})
	return reg
}

func batchTemplate(ns, strategy string) string {
	return `
namespace: ` + ns + `
name: batch
version: "1.0.0"
steps:
  - {name: split, type: batchable, handler: split}
  - name: work
    type: batch_worker
    handler: work
    dependencies: [split]
    retry: {max_attempts: 1}
    batch_config: {batch_size: 10, worker_template: work, failure_strategy: ` + strategy + `}
  - {name: agg, type: deferred_convergence, handler: agg, dependencies: [work]}
`
}

func TestBatchFailureStrategies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		strategy  string
		wantState string
		wantAgg   string
	}{
		{"continue_on_failure", "complete", `{"failed":["0002"],"total":40,"workers":5}`},
		{"fail_fast", "error", ""},
		{"isolate", "steps_in_process", ""},
	}
	for _, c := range cases {
		t.Run(c.strategy, func(t *testing.T) {
			t.Parallel()
			ns := "fs_" + strings.ReplaceAll(c.strategy, "_on_failure", "")
			h := newHarness(t, dynamicRegistry(), mustParse(t, batchTemplate(ns, c.strategy)))
			ctx := context.Background()
			task, err := h.eng.CreateTask(ctx, engine.TaskRequest{Namespace: ns, Name: "batch",
				Context: jsonOf(t, map[string]any{"workers": 5, "fail": []string{"0002"}})})
			if err != nil {
				t.Fatal(err)
			}
			if c.strategy == "isolate" {
				// The other workers finish; the failed one waits for an operator.
				deadline := time.Now().Add(20 * time.Second)
				for {
					steps := h.steps(task.UUID)
					done := 0
					for n, s := range steps {
						if strings.HasPrefix(n, "work_") && s.State == "complete" {
							done++
						}
					}
					if done == 4 && steps["work_0002"].State == "error" {
						if s := steps["agg"]; s.State != "pending" {
							t.Fatalf("convergence ran despite an isolated failure: %s", s.State)
						}
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("workers did not settle: %d complete", done)
					}
					time.Sleep(50 * time.Millisecond)
				}
				got, _ := h.store.GetTask(ctx, task.UUID)
				if string(got.State) != c.wantState {
					t.Fatalf("task %s, want %s", got.State, c.wantState)
				}
				// An operator resolves the failed batch: the convergence runs and the task completes.
				if _, err := h.eng.ApplyStepAction(ctx, task.UUID, h.steps(task.UUID)["work_0002"].UUID,
					engine.StepAction{Type: engine.ActionResolveManually, Reason: "partition re-run by hand", By: "ops"}); err != nil {
					t.Fatal(err)
				}
				if done := h.wait(task.UUID, 20*time.Second); done.State != "complete" {
					t.Fatalf("after resolution: %s", done.State)
				}
				return
			}
			done := h.wait(task.UUID, 30*time.Second)
			if string(done.State) != c.wantState {
				t.Fatalf("task %s, want %s", done.State, c.wantState)
			}
			if c.wantAgg != "" {
				if got := string(h.steps(task.UUID)["agg"].Result); got != c.wantAgg {
					t.Fatalf("agg result %s, want %s", got, c.wantAgg)
				}
			}
		})
	}
}

func TestNestedDecisions(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: nested_ns
name: nested
version: "1.0.0"
steps:
  - {name: start, handler: ok}
  - {name: d1, type: decision, handler: pick, dependencies: [start]}
  - {name: a, handler: ok, dependencies: [d1]}
  - {name: b, handler: ok, dependencies: [d1]}
  - {name: d2, type: decision, handler: pick, dependencies: [a]}
  - {name: x, handler: ok, dependencies: [d2]}
  - {name: y, handler: ok, dependencies: [d2]}
  - {name: end, type: deferred_convergence, handler: ok, dependencies: [x, y, b]}
`)
	h := newHarness(t, dynamicRegistry(), tp)
	task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "nested_ns", Name: "nested",
		Context: jsonOf(t, map[string][]string{"d1": {"a"}, "d2": {"x"}})})
	if err != nil {
		t.Fatal(err)
	}
	if done := h.wait(task.UUID, 20*time.Second); done.State != "complete" {
		t.Fatalf("task %s", done.State)
	}
	steps := h.steps(task.UUID)
	var names []string
	for n := range steps {
		names = append(names, n)
	}
	if len(steps) != 6 || steps["b"] != nil || steps["y"] != nil || steps["end"] == nil {
		t.Fatalf("steps %v", names)
	}
	if got := steps["end"].Dependencies; len(got) != 1 || got[0] != "x" {
		t.Fatalf("end depends on %v, want [x]", got)
	}
}

func TestDecisionDepthAndDescendantsAreEnforced(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: guard_ns
name: guard
version: "1.0.0"
steps:
  - {name: start, handler: ok}
  - {name: d1, type: decision, handler: pick, dependencies: [start], retry: {max_attempts: 1}}
  - {name: a, handler: ok, dependencies: [d1]}
  - {name: d2, type: decision, handler: pick, dependencies: [a], retry: {max_attempts: 1}}
  - {name: x, handler: ok, dependencies: [d2]}
`)
	t.Run("not a descendant", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, dynamicRegistry(), tp)
		task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "guard_ns", Name: "guard",
			Context: jsonOf(t, map[string][]string{"d1": {"start"}})})
		if err != nil {
			t.Fatal(err)
		}
		if done := h.wait(task.UUID, 20*time.Second); done.State != "error" {
			t.Fatalf("task %s", done.State)
		}
		d1 := h.steps(task.UUID)["d1"]
		if d1.State != "error" || d1.Error == nil || !strings.Contains(d1.Error.Message, "not one of its descendants") {
			t.Fatalf("d1 %s %+v", d1.State, d1.Error)
		}
	})
	t.Run("depth", func(t *testing.T) {
		t.Parallel()
		h := newHarnessWith(t, func(c *engine.Config) { c.MaxDecisionDepth = 1 }, dynamicRegistry(), tp)
		task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "guard_ns", Name: "guard",
			Context: jsonOf(t, map[string][]string{"d1": {"a"}, "d2": {"x"}})})
		if err != nil {
			t.Fatal(err)
		}
		if done := h.wait(task.UUID, 20*time.Second); done.State != "error" {
			t.Fatalf("task %s", done.State)
		}
		d2 := h.steps(task.UUID)["d2"]
		if d2.Error == nil || !strings.Contains(d2.Error.Message, "max_decision_depth") {
			t.Fatalf("d2 %s %+v", d2.State, d2.Error)
		}
	})
}

// TestDecisionCreatingMoreThan100Steps goes past DynamoDB's 100-item
// transaction limit in one decision.
func TestDecisionCreatingMoreThan100Steps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("namespace: wide_ns\nname: wide\nversion: \"1.0.0\"\nsteps:\n  - {name: d, type: decision, handler: pick, dependencies: [s]}\n  - {name: s, handler: ok}\n")
	var names, deps []string
	for i := range 150 {
		n := fmt.Sprintf("b%03d", i)
		names = append(names, n)
		deps = append(deps, n)
		fmt.Fprintf(&b, "  - {name: %s, handler: ok, dependencies: [d]}\n", n)
	}
	fmt.Fprintf(&b, "  - {name: end, type: deferred_convergence, handler: ok, dependencies: [%s]}\n", strings.Join(deps, ", "))
	h := newHarnessWith(t, func(c *engine.Config) { c.MaxStepsPerDecision = 200 }, dynamicRegistry(), mustParse(t, b.String()))
	task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "wide_ns", Name: "wide",
		Context: jsonOf(t, map[string][]string{"d": names})})
	if err != nil {
		t.Fatal(err)
	}
	if done := h.wait(task.UUID, 60*time.Second); done.State != "complete" {
		t.Fatalf("task %s", done.State)
	}
	if got := len(h.steps(task.UUID)); got != 153 {
		t.Fatalf("%d steps, want 153", got)
	}
}

// TestBatchOfTwoThousandWorkers runs one task with 2,000 batch workers.
func TestBatchOfTwoThousandWorkers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dynamicRegistry(), mustParse(t, batchTemplate("big_ns", "continue_on_failure")))
	task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "big_ns", Name: "batch",
		Context: jsonOf(t, map[string]any{"workers": 2000})})
	if err != nil {
		t.Fatal(err)
	}
	if done := h.wait(task.UUID, 3*time.Minute); done.State != "complete" {
		t.Fatalf("task %s", done.State)
	}
	agg := h.steps(task.UUID)["agg"]
	if got := string(agg.Result); got != `{"failed":[],"total":20000,"workers":2000}` {
		t.Fatalf("agg %s", got)
	}
}

// TestWideDecisionRedeliveredIsIdempotent applies a 150-branch decision's
// result several times, concurrently: every step exists once, each branch is
// enqueued once and the task counts each new step once.
func TestWideDecisionRedeliveredIsIdempotent(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("namespace: wide2_ns\nname: wide\nversion: \"1.0.0\"\nsteps:\n  - {name: s, handler: ok}\n  - {name: d, type: decision, handler: pick, dependencies: [s]}\n")
	var names []string
	for i := range 150 {
		n := fmt.Sprintf("b%03d", i)
		names = append(names, n)
		fmt.Fprintf(&b, "  - {name: %s, handler: ok, dependencies: [d]}\n", n)
	}
	fmt.Fprintf(&b, "  - {name: end, type: deferred_convergence, handler: ok, dependencies: [%s]}\n", strings.Join(names, ", "))
	bare := newBareWith(t, mustParse(t, b.String()), func(c *engine.Config) { c.MaxStepsPerDecision = 200 })
	ctx := context.Background()
	task, err := bare.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "wide2_ns", Name: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	q := bare.f.Names.StepQueue("wide2_ns")
	run := func(m protocol.StepMessage, result string, times int) {
		t.Helper()
		if _, err := claimStep(ctx, bare.store, m.TaskUUID, m.StepName, m.Attempt, time.Minute, "w", "", bare.clock()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range times {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := bare.eng.HandleResult(ctx, success(m, result)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	msgs := bare.drain(t, q)
	run(msgs[0], `{}`, 1)
	msgs = bare.drain(t, q)
	if len(msgs) != 1 || msgs[0].StepName != "d" {
		t.Fatalf("want the decision enqueued, got %d messages", len(msgs))
	}
	outcome := `{"decision_point_outcome":{"type":"create_steps","step_names":["` + strings.Join(names, `","`) + `"]}}`
	run(msgs[0], outcome, 3)
	branches := bare.drain(t, q)
	if len(branches) != 150 {
		t.Fatalf("%d branch messages, want 150", len(branches))
	}
	steps, err := bare.store.ListSteps(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 153 {
		t.Fatalf("%d steps, want 153", len(steps))
	}
	open, err := bare.store.OpenSteps(ctx, task.UUID, "")
	if err != nil {
		t.Fatal(err)
	}
	if open != 151 {
		t.Fatalf("%d open steps, want 151 (150 branches and the convergence)", open)
	}
}
