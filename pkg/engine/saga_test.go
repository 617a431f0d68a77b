package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/worker"
	"github.com/tasker-go/tasker/pkg/workflow"
)

const sagaYAML = `
namespace: saga_ns
name: signup
version: "1.0.0"
steps:
  - {name: create_account, handler: ok, compensation: undo}
  - {name: create_profile, handler: ok, dependencies: [create_account], compensation: {handler: undo, retry: {max_attempts: 3, backoff_base_ms: 100, max_backoff_ms: 200}}}
  - {name: track_signup, handler: ok, dependencies: [create_profile]}
  - {name: setup_billing, handler: billing, dependencies: [create_profile]}
  - {name: welcome, handler: ok, dependencies: [setup_billing, track_signup]}
`

// sagaRegistry fails setup_billing permanently asking for compensation; the
// undo handler records the order it ran in and fails once for create_profile.
func sagaRegistry(order *[]string, mu *sync.Mutex, failUndoTimes int) *worker.Registry {
	reg := worker.NewRegistry()
	reg.RegisterFunc("ok", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Success(map[string]string{"id": s.Name + "-42"})
	})
	reg.RegisterFunc("billing", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		return worker.Result{}, worker.Permanent(errors.New("card rejected")).WithCompensation()
	})
	failed := 0
	reg.RegisterFunc("undo", func(_ context.Context, s *worker.Step) (worker.Result, error) {
		in, err := s.CompensationInputs()
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if in.Compensates == "create_profile" && failed < failUndoTimes {
			failed++
			return worker.Result{}, worker.Retryable(errors.New("profile service busy"))
		}
		*order = append(*order, in.Compensates+"<"+string(in.Result)+">")
		return worker.Success(map[string]bool{"undone": true})
	})
	return reg
}

func TestSagaCompensatesInReverseOrder(t *testing.T) {
	t.Parallel()
	var (
		order []string
		mu    sync.Mutex
	)
	h := newHarness(t, sagaRegistry(&order, &mu, 1), mustParse(t, sagaYAML))
	ctx := context.Background()
	task, err := h.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "saga_ns", Name: "signup"})
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(task.UUID, 30*time.Second)
	if done.State != "error" {
		t.Fatalf("task %s", done.State)
	}
	mu.Lock()
	got := strings.Join(order, " then ")
	mu.Unlock()
	want := `create_profile<{"id":"create_profile-42"}> then create_account<{"id":"create_account-42"}>`
	if got != want {
		t.Fatalf("compensations ran %q, want %q", got, want)
	}
	steps := h.steps(task.UUID)
	if s := steps["compensate_create_profile"]; s.State != "complete" || s.Attempts != 2 {
		t.Fatalf("compensate_create_profile %s after %d attempts", s.State, s.Attempts)
	}
	if s := steps["welcome"]; s.Attempts != 0 {
		t.Fatalf("welcome ran")
	}
	last := done.History[len(done.History)-1]
	if last.To != "error" || !strings.HasPrefix(last.Reason, "compensated") {
		t.Fatalf("last task transition %+v", last)
	}
	if !hasTaskState(done.History, "blocked_by_failures") {
		t.Fatal("task did not wait in blocked_by_failures while compensating")
	}
}

func TestSagaSurfacesFailedCompensation(t *testing.T) {
	t.Parallel()
	var (
		order []string
		mu    sync.Mutex
	)
	h := newHarness(t, sagaRegistry(&order, &mu, 100), mustParse(t, sagaYAML))
	ctx := context.Background()
	task, err := h.eng.CreateTask(ctx, engine.TaskRequest{Namespace: "saga_ns", Name: "signup"})
	if err != nil {
		t.Fatal(err)
	}
	done := h.wait(task.UUID, 30*time.Second)
	last := done.History[len(done.History)-1]
	if done.State != "error" || !strings.Contains(last.Reason, "compensate_create_profile failed; manual cleanup needed") {
		t.Fatalf("task %s, last transition %+v", done.State, last)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 1 || !strings.HasPrefix(order[0], "create_account") {
		t.Fatalf("best-effort compensation of create_account did not run: %v", order)
	}
	entries, err := h.store.DLQEntriesForTask(ctx, task.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Reason != "manual_dlq" || entries[0].ResolutionStatus != "pending" {
		t.Fatalf("dlq entries %+v", entries)
	}
}

func hasTaskState(history []workflow.Transition, state string) bool {
	for _, tr := range history {
		if tr.To == state {
			return true
		}
	}
	return false
}
