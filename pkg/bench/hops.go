package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
)

// Hop is one leg of a step's path, over every traced step (or task).
type Hop struct {
	Name   string  `json:"hop"`
	What   string  `json:"what"`
	N      int     `json:"n"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
}

// hopTracer timestamps a task's path while on is set: the HTTP submit and
// its answer, the engine's events (step enqueued, step complete, task
// finished; stamped when the event arrives, which is right after the write
// that made it), and the handler's start and end. Claim times come from the
// steps' transition records after the run.
type hopTracer struct {
	mu    sync.Mutex
	on    bool
	tasks map[string]*taskTrace
}

type taskTrace struct {
	submitted, answered, finished time.Time
	steps                         map[string]*stepTrace
}

type stepTrace struct {
	enqueued, claimed, handlerStart, handlerEnd, completed time.Time
}

func newHopTracer() *hopTracer { return &hopTracer{tasks: map[string]*taskTrace{}} }

func (h *hopTracer) setOn(on bool) {
	h.mu.Lock()
	h.on = on
	h.mu.Unlock()
}

// task returns the trace of a task, creating it; nil when tracing is off.
func (h *hopTracer) task(uuid string) *taskTrace {
	if !h.on {
		return nil
	}
	t, ok := h.tasks[uuid]
	if !ok {
		t = &taskTrace{steps: map[string]*stepTrace{}}
		h.tasks[uuid] = t
	}
	return t
}

func (t *taskTrace) step(name string) *stepTrace {
	s, ok := t.steps[name]
	if !ok {
		s = &stepTrace{}
		t.steps[name] = s
	}
	return s
}

// submitted records a task's HTTP submit (start) and answer (now).
func (h *hopTracer) submitted(uuid string, start time.Time) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.task(uuid); t != nil {
		t.submitted, t.answered = start, now
	}
}

func (h *hopTracer) notify(ev engine.Event) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.task(ev.TaskUUID)
	if t == nil {
		return
	}
	switch {
	case ev.StepName == "" && (ev.State == "complete" || ev.State == "error" || ev.State == "cancelled"):
		t.finished = now
	case ev.StepName != "" && ev.State == "enqueued" && t.step(ev.StepName).enqueued.IsZero():
		t.step(ev.StepName).enqueued = now
	case ev.StepName != "" && ev.State == "complete":
		t.step(ev.StepName).completed = now
	}
}

// handler records a handler's start and end around fn.
func (h *hopTracer) handler(task, step string, fn func()) {
	start := time.Now()
	fn()
	end := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.task(task); t != nil {
		s := t.step(step)
		s.handlerStart, s.handlerEnd = start, end
	}
}

// readClaims fills each traced step's claim time from the transition record
// of its enqueued → in_progress change, read through an unmetered client.
func (h *hopTracer) readClaims(ctx context.Context, db itemReader, table string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for uuid, t := range h.tasks {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table),
			KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :s)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "T#" + uuid}, ":s": &types.AttributeValueMemberS{Value: "S#"}},
			ConsistentRead:            aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("read claims of task %s: %w", uuid, err)
		}
		for _, it := range out.Items {
			name := strings.TrimPrefix(getS(it, "sk"), "S#")
			if at, ok := claimTime(it); ok {
				t.step(name).claimed = at
			}
		}
	}
	return nil
}

// claimTime is the time of the first enqueued → in_progress record.
func claimTime(item map[string]types.AttributeValue) (time.Time, bool) {
	var first time.Time
	for name, v := range item {
		m, ok := v.(*types.AttributeValueMemberM)
		if !strings.HasPrefix(name, "h_") || !ok || getS(m.Value, "to") != "in_progress" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, getS(m.Value, "at"))
		if err == nil && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// hops summarises the traces of tpl's tasks: the task-level legs, then one
// leg per hop of a step, over every step of every traced task.
func (h *hopTracer) hops(tpl *template.Template) []Hop {
	h.mu.Lock()
	defer h.mu.Unlock()
	deps := map[string][]string{} // step → its dependencies
	children := map[string][]string{}
	for _, s := range tpl.Steps {
		deps[s.Name] = s.Dependencies
		for _, d := range s.Dependencies {
			children[d] = append(children[d], s.Name)
		}
	}
	acc := map[string][]time.Duration{}
	add := func(k string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() {
			acc[k] = append(acc[k], to.Sub(from))
		}
	}
	for _, t := range h.tasks {
		var roots, sinks []*stepTrace
		for name, s := range t.steps {
			if len(deps[name]) == 0 {
				roots = append(roots, s)
			}
			if len(children[name]) == 0 {
				sinks = append(sinks, s)
			}
			add("enqueued → claimed", s.enqueued, s.claimed)
			add("claimed → handler start", s.claimed, s.handlerStart)
			add("handler start → end", s.handlerStart, s.handlerEnd)
			add("handler end → result applied", s.handlerEnd, s.completed)
			var last time.Time // the dependency whose completion released this step
			for _, d := range deps[name] {
				if p := t.steps[d]; p != nil && p.completed.After(last) {
					last = p.completed
				}
			}
			add("result applied → dependent enqueued", last, s.enqueued)
		}
		add("submit → HTTP answer", t.submitted, t.answered)
		for _, r := range roots {
			add("submit → first step enqueued", t.submitted, r.enqueued)
		}
		var lastSink time.Time
		for _, s := range sinks {
			if s.completed.After(lastSink) {
				lastSink = s.completed
			}
		}
		add("last step applied → task complete", lastSink, t.finished)
		add("submit → task complete (total)", t.submitted, t.finished)
	}
	order := []struct{ name, what string }{
		{"submit → HTTP answer", "POST /v1/tasks: identity, task, context and steps written, first step enqueued"},
		{"submit → first step enqueued", "from the POST until the root step's message is sent"},
		{"enqueued → claimed", "SQS send, long-poll receive, claim write (UpdateItem)"},
		{"claimed → handler start", "worker reads the task and step, decodes, calls the handler"},
		{"handler start → end", "the no-op handler"},
		{"handler end → result applied", "result: reads, plan, complete write (UpdateItem)"},
		{"result applied → dependent enqueued", "satisfy/enqueue write on the child, SQS send"},
		{"last step applied → task complete", "open-step count (Query) and the task's completion write"},
		{"submit → task complete (total)", "the latency the benchmark reports"},
	}
	out := make([]Hop, 0, len(order))
	for _, o := range order {
		d := acc[o.name]
		if len(d) == 0 {
			continue
		}
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		out = append(out, Hop{Name: o.name, What: o.what, N: len(d),
			MeanMs: round2(float64(sum.Microseconds()) / float64(len(d)) / 1000), P50Ms: pct(d, 50)})
	}
	return out
}

// printHops writes the hop table.
func printHops(w io.Writer, hops []Hop) {
	if len(hops) == 0 {
		return
	}
	fmt.Fprintf(w, "where a task's time goes (single-task phase, per hop):\n")
	fmt.Fprintf(w, "  %-38s %6s %9s %9s\n", "hop", "n", "mean ms", "p50 ms")
	for _, h := range hops {
		fmt.Fprintf(w, "  %-38s %6d %9.2f %9.2f\n", h.Name, h.N, h.MeanMs, h.P50Ms)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
