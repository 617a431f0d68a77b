package devstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// system is a local stack reached only through its HTTP API, as a user would.
type system struct {
	t   *testing.T
	cl  *client.Client
	rec *windows
}

// window is when one handler invocation ran.
type window struct{ Start, End time.Time }

// windows records every handler invocation of a system.
type windows struct {
	mu sync.Mutex
	m  map[string][]window
}

func (w *windows) record(task, step string, start, end time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m[task+"/"+step] = append(w.m[task+"/"+step], window{start, end})
}

// prefixSeq gives each system of this test binary its own resource prefix.
var prefixSeq atomic.Int64

func startSystem(t *testing.T, dir string, delay time.Duration) *system {
	t.Helper()
	return startSystemWith(t, dir, delay, nil)
}

// startSystemWith starts a system whose handlers named in slow take extra time.
func startSystemWith(t *testing.T, dir string, delay time.Duration, slow map[string]time.Duration) *system {
	t.Helper()
	tpls, err := template.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := &windows{m: map[string][]window{}}
	base := worker.NewRegistry()
	samplehandlers.RegisterWith(base, samplehandlers.Options{Delay: delay})
	reg := worker.NewRegistry()
	for _, name := range base.Names() {
		h, _ := base.Lookup(name)
		extra := slow[name]
		reg.RegisterFunc(name, func(ctx context.Context, s *worker.Step) (worker.Result, error) {
			start := time.Now()
			time.Sleep(extra)
			res, err := h.Handle(ctx, s)
			rec.record(s.TaskUUID, s.Name, start, time.Now())
			return res, err
		})
	}
	env := localtest.Env(t)
	st, err := devstack.Start(context.Background(), devstack.Options{Env: env, Prefix: fmt.Sprintf("acc-%d-%d", prefixSeq.Add(1), time.Now().UnixNano()%1000000),
		Templates: tpls, Registry: reg, APIAddr: "127.0.0.1:0", SweepEvery: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &system{t: t, cl: client.New(st.APIURL), rec: rec}
}

func (s *system) run(ns, name string, ctxJSON string) *api.TaskResponse {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	created, err := s.cl.CreateTask(ctx, engine.TaskRequest{Namespace: ns, Name: name, Context: json.RawMessage(ctxJSON)})
	if err != nil {
		s.t.Fatalf("create %s/%s %s: %v", ns, name, ctxJSON, err)
	}
	done, err := s.cl.WaitForTask(ctx, created.TaskUUID, 20*time.Millisecond)
	if err != nil {
		s.t.Fatalf("wait %s: %v", created.TaskUUID, err)
	}
	return done
}

func (s *system) audit(task string) []api.AuditEntry {
	s.t.Helper()
	a, err := s.cl.TaskAudit(context.Background(), task)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

func stepsByName(t *api.TaskResponse) map[string]api.StepResponse {
	out := map[string]api.StepResponse{}
	for _, s := range t.Steps {
		out[s.Name] = s
	}
	return out
}

// resultField returns a field of a step's result as its JSON text.
func resultField(t *testing.T, s api.StepResponse, field string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(s.Results, &m); err != nil {
		t.Fatalf("step %s result %s: %v", s.Name, s.Results, err)
	}
	return string(m[field])
}

func expectState(t *testing.T, task *api.TaskResponse, want string) {
	t.Helper()
	if task.Status != want {
		for _, s := range task.Steps {
			t.Logf("  %s: %s attempts=%d err=%+v", s.Name, s.CurrentState, s.Attempts, s.Error)
		}
		t.Fatalf("task %s/%s: status %s, want %s", task.Namespace, task.Name, task.Status, want)
	}
}

func TestAcceptanceMath(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, "../../templates/acceptance", 30*time.Millisecond)

	t.Run("linear even", func(t *testing.T) {
		task := sys.run("acceptance_linear", "mathematical_sequence", `{"even_number": 6}`)
		expectState(t, task, "complete")
		if got := resultField(t, stepsByName(task)["linear_step_4"], "result"); got != "2821109907456" {
			t.Fatalf("linear_step_4 result %s", got)
		}
	})
	t.Run("linear odd", func(t *testing.T) {
		task := sys.run("acceptance_linear", "mathematical_sequence", `{"even_number": 7}`)
		expectState(t, task, "error")
		steps := stepsByName(task)
		if s := steps["linear_step_1"]; s.CurrentState != "error" || s.Attempts != 1 || s.Error == nil || s.Error.Retryable {
			t.Fatalf("linear_step_1: %s attempts %d err %+v", s.CurrentState, s.Attempts, s.Error)
		}
		for _, n := range []string{"linear_step_2", "linear_step_3", "linear_step_4"} {
			if s := steps[n]; s.Attempts != 0 || s.CurrentState != "pending" {
				t.Fatalf("%s ran: %s attempts %d", n, s.CurrentState, s.Attempts)
			}
		}
		if !hasTransition(sys.audit(task.TaskUUID), "task", "blocked_by_failures") {
			t.Fatal("task did not pass through blocked_by_failures")
		}
	})
	t.Run("diamond", func(t *testing.T) {
		task := sys.run("acceptance_diamond", "diamond_pattern", `{"even_number": 6}`)
		expectState(t, task, "complete")
		if got := resultField(t, stepsByName(task)["diamond_end"], "result"); got != "2821109907456" {
			t.Fatalf("diamond_end result %s", got)
		}
		b, c := sys.lastRun(task.TaskUUID, "diamond_branch_b"), sys.lastRun(task.TaskUUID, "diamond_branch_c")
		if !(b.Start.Before(c.End) && c.Start.Before(b.End)) {
			t.Fatalf("branches did not overlap: b %v–%v, c %v–%v", b.Start, b.End, c.Start, c.End)
		}
	})
	t.Run("tree", func(t *testing.T) {
		task := sys.run("acceptance_tree", "hierarchical_tree", `{"even_number": 6}`)
		expectState(t, task, "complete")
		want := `"63340286662973277706162286946811886609896461828096"`
		if got := resultField(t, stepsByName(task)["tree_final_convergence"], "result"); got != want {
			t.Fatalf("tree_final_convergence result %s", got)
		}
	})
}

func TestAcceptanceDecisions(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, "../../templates/acceptance", 0)
	cases := []struct {
		amount string
		steps  int
		chain  string
	}{
		{"500", 4, `["auto_approve"]`},
		{"1000", 4, `["manager_approval"]`},
		{"5000", 5, `["finance_review","manager_approval"]`},
	}
	for _, c := range cases {
		t.Run("amount "+c.amount, func(t *testing.T) {
			task := sys.run("acceptance_conditional", "approval_routing", `{"amount": `+c.amount+`}`)
			expectState(t, task, "complete")
			if len(task.Steps) != c.steps {
				t.Fatalf("%d steps exist, want %d: %v", len(task.Steps), c.steps, names(task))
			}
			if got := resultField(t, stepsByName(task)["finalize_approval"], "approval_chain"); got != c.chain {
				t.Fatalf("approval_chain %s, want %s", got, c.chain)
			}
		})
	}
	t.Run("amount 0", func(t *testing.T) {
		task := sys.run("acceptance_conditional", "approval_routing", `{"amount": 0}`)
		expectState(t, task, "error")
		steps := stepsByName(task)
		if s := steps["validate_request"]; s.CurrentState != "error" || s.Error == nil || s.Error.Retryable {
			t.Fatalf("validate_request %s %+v", s.CurrentState, s.Error)
		}
		if s := steps["routing_decision"]; s.Attempts != 0 {
			t.Fatalf("routing_decision ran %d times", s.Attempts)
		}
	})
}

func TestAcceptanceBatches(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, "../../templates/acceptance", 0)
	cases := []struct {
		size    string
		workers int
		total   string
	}{{"500", 1, "0"}, {"5000", 5, "5000"}, {"25000", 10, "25000"}}
	for _, c := range cases {
		t.Run("dataset "+c.size, func(t *testing.T) {
			task := sys.run("acceptance_batch", "large_dataset_processor", `{"dataset_size": `+c.size+`}`)
			expectState(t, task, "complete")
			workers := 0
			for _, s := range task.Steps {
				if strings.HasPrefix(s.Name, "process_batch_") {
					workers++
				}
			}
			if workers != c.workers {
				t.Fatalf("%d workers, want %d: %v", workers, c.workers, names(task))
			}
			agg := stepsByName(task)["aggregate_results"]
			if got := resultField(t, agg, "total_processed"); got != c.total {
				t.Fatalf("total_processed %s, want %s", got, c.total)
			}
			if c.workers == 1 {
				if _, ok := stepsByName(task)["process_batch_000"]; !ok {
					t.Fatalf("no placeholder worker: %v", names(task))
				}
			}
		})
	}
}

func TestAcceptanceRetries(t *testing.T) {
	t.Parallel()
	sys := startSystem(t, "../../templates/acceptance", 0)
	t.Run("mechanics", func(t *testing.T) {
		task := sys.run("acceptance_retry", "retry_mechanics", `{}`)
		expectState(t, task, "complete")
		s := stepsByName(task)["fail_twice_then_succeed"]
		if s.Attempts != 3 {
			t.Fatalf("attempts %d, want 3", s.Attempts)
		}
		var delays []time.Duration
		for _, a := range sys.audit(task.TaskUUID) {
			if a.Entity == s.Name && a.ToState == "waiting_for_retry" {
				d, err := time.ParseDuration(strings.TrimPrefix(a.Reason, "retry in "))
				if err != nil {
					t.Fatalf("retry reason %q: %v", a.Reason, err)
				}
				delays = append(delays, d)
			}
		}
		if len(delays) != 2 || delays[1] <= delays[0] {
			t.Fatalf("want 2 retry transitions with growing backoff, got %v", delays)
		}
	})
	t.Run("exhaustion", func(t *testing.T) {
		task := sys.run("acceptance_retry", "retry_exhaustion", `{}`)
		expectState(t, task, "error")
		steps := stepsByName(task)
		if s := steps["always_fail"]; s.CurrentState != "error" || s.Attempts != 3 {
			t.Fatalf("always_fail %s after %d attempts", s.CurrentState, s.Attempts)
		}
		if s := steps["never_runs"]; s.Attempts != 0 {
			t.Fatalf("never_runs ran %d times", s.Attempts)
		}
		if !hasTransition(sys.audit(task.TaskUUID), "task", "blocked_by_failures") {
			t.Fatal("task did not pass through blocked_by_failures")
		}
	})
}

// TestOrderFulfillmentRunsBranchesInParallel checks the seed's workflow:
// reserve_inventory and process_payment overlap; ship_order waits for both.
func TestOrderFulfillmentRunsBranchesInParallel(t *testing.T) {
	t.Parallel()
	// The payment gateway is slower than the inventory check, as in life:
	// payment then runs alongside both check_inventory and reserve_inventory.
	sys := startSystemWith(t, "../../templates/fulfillment", 30*time.Millisecond,
		map[string]time.Duration{"process_payment": 150 * time.Millisecond})
	task := sys.run("fulfillment", "order_fulfillment",
		`{"order_id":"ORD-1","customer_id":"C-1","items":[{"sku":"A","quantity":1}],"amount":10}`)
	expectState(t, task, "complete")
	reserve := sys.lastRun(task.TaskUUID, "reserve_inventory")
	pay := sys.lastRun(task.TaskUUID, "process_payment")
	ship := sys.lastRun(task.TaskUUID, "ship_order")
	if !(reserve.Start.Before(pay.End) && pay.Start.Before(reserve.End)) {
		t.Fatalf("reserve %v–%v and payment %v–%v did not overlap", reserve.Start, reserve.End, pay.Start, pay.End)
	}
	if ship.Start.Before(reserve.End) || ship.Start.Before(pay.End) {
		t.Fatalf("ship_order started at %v before its parents finished (%v, %v)", ship.Start, reserve.End, pay.End)
	}
}

// lastRun returns the last recorded run of a step's handler.
func (s *system) lastRun(task, step string) window {
	s.t.Helper()
	s.rec.mu.Lock()
	runs := s.rec.m[task+"/"+step]
	s.rec.mu.Unlock()
	if len(runs) == 0 {
		s.t.Fatalf("step %s never ran", step)
	}
	return runs[len(runs)-1]
}

func hasTransition(audit []api.AuditEntry, entity, to string) bool {
	for _, a := range audit {
		if a.Entity == entity && a.ToState == to {
			return true
		}
	}
	return false
}

func names(t *api.TaskResponse) []string {
	var out []string
	for _, s := range t.Steps {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}
