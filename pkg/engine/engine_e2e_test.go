package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/worker"
)

const chainYAML = `
namespace: chain_ns
name: chain
version: "1.0.0"
steps:
  - {name: a, handler: add}
  - {name: b, handler: add, dependencies: [a]}
  - {name: c, handler: add, dependencies: [a]}
  - {name: d, handler: add, dependencies: [b, c]}
`

func addRegistry() *worker.Registry {
	reg := worker.NewRegistry()
	reg.RegisterFunc("add", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		sum := 1
		for _, p := range s.ParentNames() {
			var r struct{ N int }
			if err := s.DecodeParent(p, &r); err != nil {
				return worker.Result{}, worker.Permanent(err)
			}
			sum += r.N
		}
		return worker.Success(map[string]int{"n": sum})
	})
	reg.RegisterFunc("flaky", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		if s.Attempt < 3 {
			return worker.Result{}, worker.Retryable(errors.New("not yet"))
		}
		return worker.Success(map[string]int{"attempt": s.Attempt})
	})
	reg.RegisterFunc("boom", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Result{}, worker.Permanent(errors.New("boom"))
	})
	return reg
}

func TestDiamondRunsToCompletion(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, chainYAML)
	h := newHarness(t, addRegistry(), tp)
	task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "chain_ns", Name: "chain", Context: jsonOf(t, map[string]int{"x": 1})})
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(task.UUID, 20*time.Second)
	if done.State != "complete" {
		t.Fatalf("task state %s", done.State)
	}
	steps := h.steps(task.UUID)
	if got := string(steps["d"].Result); got != `{"n":5}` {
		t.Fatalf("d result %s", got)
	}
	for n, s := range steps {
		if s.State != "complete" || s.Attempts != 1 {
			t.Errorf("step %s: %s attempts %d", n, s.State, s.Attempts)
		}
	}
}

func TestRetryThenPermanentFailure(t *testing.T) {
	t.Parallel()
	tp := mustParse(t, `
namespace: retry_ns
name: retry
version: "1.0.0"
steps:
  - {name: f, handler: flaky, retry: {max_attempts: 5, backoff_base_ms: 100, max_backoff_ms: 400}}
  - {name: g, handler: boom, dependencies: [f]}
  - {name: h, handler: add, dependencies: [g]}
`)
	h := newHarness(t, addRegistry(), tp)
	task, err := h.eng.CreateTask(context.Background(), engine.TaskRequest{Namespace: "retry_ns", Name: "retry"})
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(task.UUID, 30*time.Second)
	if done.State != "error" {
		t.Fatalf("task state %s", done.State)
	}
	steps := h.steps(task.UUID)
	if steps["f"].Attempts != 3 || steps["f"].State != "complete" {
		t.Fatalf("f: %s attempts %d", steps["f"].State, steps["f"].Attempts)
	}
	if steps["g"].State != "error" || steps["g"].Attempts != 1 {
		t.Fatalf("g: %s attempts %d", steps["g"].State, steps["g"].Attempts)
	}
	if steps["h"].State != "pending" {
		t.Fatalf("h: %s", steps["h"].State)
	}
}
