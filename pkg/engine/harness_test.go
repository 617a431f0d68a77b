package engine_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/localrun"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// harness runs the engine, its queue consumers and a worker on a fresh fixture.
type harness struct {
	t     *testing.T
	f     *localtest.Fixture
	store *dynamo.Store
	eng   *engine.Engine
	mu    sync.Mutex
	done  map[string]chan struct{}
}

func newHarness(t *testing.T, reg *worker.Registry, tpls ...*template.Template) *harness {
	t.Helper()
	return newHarnessWith(t, nil, reg, tpls...)
}

// newHarnessWith lets a test adjust the engine's configuration.
func newHarnessWith(t *testing.T, adjust func(*engine.Config), reg *worker.Registry, tpls ...*template.Template) *harness {
	t.Helper()
	nss := map[string]bool{}
	var list []string
	for _, tp := range tpls {
		if !nss[tp.Namespace] {
			nss[tp.Namespace] = true
			list = append(list, tp.Namespace)
		}
	}
	f := localtest.New(t, list...)
	h := &harness{t: t, f: f, store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable()), done: map[string]chan struct{}{}}
	cfg := engine.Config{Store: h.store, Queue: sqsqueue.New(f.Env.SQS, f.Provisioned.QueueURLs), Names: f.Names, Notify: h.notify}
	if adjust != nil {
		adjust(&cfg)
	}
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	run := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	for _, tp := range tpls {
		if err := eng.RegisterTemplate(ctx, tp); err != nil {
			t.Fatal(err)
		}
	}
	sched := &lambdafn.Scheduler{Engine: eng}
	results := &lambdafn.Results{Engine: eng}
	for q, inv := range map[string]localrun.Invoker{
		f.Names.OrchestrationQueue(): lambda.NewHandler(sched.Handle).Invoke,
		f.Names.ResultsQueue():       lambda.NewHandler(results.Handle).Invoke,
	} {
		src := &localrun.SQSSource{SQS: f.Env.SQS, QueueURL: f.QueueURL(q), Invoke: inv, WaitTime: time.Second}
		run(func() { _ = src.Run(ctx) })
	}
	if reg != nil {
		w, err := worker.New(worker.Config{Store: h.store, SQS: f.Env.SQS, Registry: reg, ResultsQueueURL: f.QueueURL(f.Names.ResultsQueue())})
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range list {
			pc := worker.PollerConfig{QueueURL: f.QueueURL(f.Names.StepQueue(ns)), WaitTime: time.Second, Concurrency: 32}
			run(func() { _ = w.Poll(ctx, pc) })
		}
	}
	return h
}

func (h *harness) notify(ev engine.Event) {
	if ev.StepName != "" {
		return
	}
	switch ev.State {
	case "complete", "error", "cancelled", "resolved_manually":
		h.mu.Lock()
		ch, ok := h.done[ev.TaskUUID]
		if !ok {
			ch = make(chan struct{})
			h.done[ev.TaskUUID] = ch
		}
		h.mu.Unlock()
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

func (h *harness) wait(taskUUID string, d time.Duration) *workflow.Task {
	h.t.Helper()
	h.mu.Lock()
	ch, ok := h.done[taskUUID]
	if !ok {
		ch = make(chan struct{})
		h.done[taskUUID] = ch
	}
	h.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(d):
		steps, _ := h.store.ListSteps(context.Background(), taskUUID)
		for _, s := range steps {
			h.t.Logf("step %s: %s attempts=%d", s.Name, s.State, s.Attempts)
		}
		h.t.Fatalf("task %s did not finish within %s", taskUUID, d)
	}
	task, err := h.store.GetTask(context.Background(), taskUUID)
	if err != nil {
		h.t.Fatal(err)
	}
	return task
}

func (h *harness) steps(taskUUID string) map[string]*workflow.Step {
	h.t.Helper()
	steps, err := h.store.ListSteps(context.Background(), taskUUID)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]*workflow.Step{}
	for _, s := range steps {
		out[s.Name] = s
	}
	return out
}

func mustParse(t *testing.T, y string) *template.Template {
	t.Helper()
	tp, err := template.Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func jsonOf(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claimStep claims a step as a worker would for the message of this
// attempt: from enqueued when the enqueue was stored, else from pending (a
// message the engine sent without storing the enqueue, protocol.FromPending).
func claimStep(ctx context.Context, s *dynamo.Store, taskUUID, step string, attempt int, timeout time.Duration,
	workerID, correlationID string, now time.Time) (*workflow.Step, error) {
	cur, err := s.GetStep(ctx, taskUUID, step)
	if err != nil {
		return nil, err
	}
	if cur.State == statemachine.StepPending {
		return s.ClaimPendingStep(ctx, taskUUID, step, attempt, timeout, workerID, correlationID, now, now)
	}
	return s.ClaimStep(ctx, taskUUID, step, attempt, timeout, workerID, correlationID, now)
}
