package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/statemachine"
)

// EngineNotify returns an engine.Config.Notify that records task and step
// metrics from the engine's events, opens the task span when a task is
// created and ends it when the task finishes (or, in Lambda, once it
// started), then passes each event on to next (which may be nil). On a nil
// Telemetry it returns next.
func (t *Telemetry) EngineNotify(next func(engine.Event)) func(engine.Event) {
	if t == nil {
		return next
	}
	return func(ev engine.Event) {
		t.engineEvent(ev)
		if next != nil {
			next(ev)
		}
	}
}

func (t *Telemetry) engineEvent(ev engine.Event) {
	ctx := context.Background()
	m := t.Metrics
	ns := metric.WithAttributes(attribute.String("namespace", ev.Namespace))
	if ev.StepName == "" {
		switch statemachine.TaskState(ev.State) {
		case statemachine.TaskPending:
			m.taskRequests.Add(ctx, 1, ns)
			m.tasksActive.Add(ctx, 1, ns)
			t.tasks.open(t, ev)
		case statemachine.TaskComplete:
			m.taskCompletions.Add(ctx, 1, ns)
			m.tasksActive.Add(ctx, -1, ns)
			t.tasks.end(ev, codes.Unset)
		case statemachine.TaskError:
			m.taskFailures.Add(ctx, 1, ns)
			m.tasksActive.Add(ctx, -1, ns)
			t.tasks.end(ev, codes.Error)
		case statemachine.TaskCancelled, statemachine.TaskResolvedManually:
			m.taskCancellations.Add(ctx, 1, ns)
			m.tasksActive.Add(ctx, -1, ns)
			t.tasks.end(ev, codes.Unset)
		default:
			if t.tasks.endAtStart {
				t.tasks.end(ev, codes.Unset)
			} else {
				t.tasks.event(ev)
			}
		}
		return
	}
	switch statemachine.StepState(ev.State) {
	case statemachine.StepEnqueued:
		m.stepsEnqueued.Add(ctx, 1, metric.WithAttributes(attribute.String("namespace", ev.Namespace), attribute.Bool("retry", ev.Attempt > 1)))
	case statemachine.StepWaitingForRetry:
		m.stepsRetries.Add(ctx, 1, ns)
	case statemachine.StepError:
		m.stepsErrored.Add(ctx, 1, ns)
	}
	t.tasks.event(ev)
}

// taskSpans holds the spans of tasks this process created and that are
// still running, at most limit (the oldest is ended when more open).
type taskSpans struct {
	mu         sync.Mutex
	limit      int
	endAtStart bool // end the span at the task's first move (Lambda: another process finishes the task)
	spans      map[string]trace.Span
	order      []string
}

func newTaskSpans(limit int, endAtStart bool) *taskSpans {
	return &taskSpans{limit: limit, endAtStart: endAtStart, spans: map[string]trace.Span{}}
}

func (s *taskSpans) open(t *Telemetry, ev engine.Event) {
	if !t.tracing {
		return
	}
	tid, ok := TraceID(ev.TaskUUID)
	if !ok {
		return
	}
	_, span := t.tracer.Start(withTaskRoot(context.Background(), tid), "task",
		trace.WithNewRoot(), trace.WithTimestamp(ev.At), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("tasker.task_uuid", ev.TaskUUID)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.spans[ev.TaskUUID]; dup {
		span.End()
		return
	}
	for len(s.order) >= s.limit {
		old := s.order[0]
		s.order = s.order[1:]
		if sp, ok := s.spans[old]; ok {
			sp.SetAttributes(attribute.Bool("tasker.span_evicted", true))
			sp.End()
			delete(s.spans, old)
		}
	}
	s.spans[ev.TaskUUID] = span
	s.order = append(s.order, ev.TaskUUID)
}

func (s *taskSpans) take(taskUUID string) trace.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spans[taskUUID]
	if !ok {
		return nil
	}
	delete(s.spans, taskUUID)
	for i, k := range s.order {
		if k == taskUUID {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return sp
}

func (s *taskSpans) end(ev engine.Event, code codes.Code) {
	sp := s.take(ev.TaskUUID)
	if sp == nil {
		return
	}
	sp.SetAttributes(attribute.String("tasker.task_state", ev.State))
	if code == codes.Error {
		sp.SetStatus(codes.Error, "task "+ev.State)
	}
	sp.End(trace.WithTimestamp(laterOf(ev.At, time.Now())))
}

// event records a state change on the task's open span, if any.
func (s *taskSpans) event(ev engine.Event) {
	s.mu.Lock()
	sp, ok := s.spans[ev.TaskUUID]
	s.mu.Unlock()
	if !ok {
		return
	}
	name := "task " + ev.State
	if ev.StepName != "" {
		name = "step " + ev.StepName + " " + ev.State
	}
	sp.AddEvent(name, trace.WithTimestamp(ev.At), trace.WithAttributes(attribute.Int("tasker.attempt", ev.Attempt)))
}

// laterOf keeps a span's end at or after the events recorded on it (the
// engine's clock may be a test's).
func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// endAll ends every open task span (at shutdown).
func (s *taskSpans) endAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sp := range s.spans {
		sp.SetAttributes(attribute.Bool("tasker.span_unfinished", true))
		sp.End()
		delete(s.spans, k)
	}
	s.order = nil
}
