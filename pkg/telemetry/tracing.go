package telemetry

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"
)

// One trace per task: a task's trace ID is its UUID's 16 bytes, and its
// root span (the task span) has an ID derived from the UUID too. So any
// component can put a span into a task's trace knowing only the task UUID,
// even when no trace context travelled with the work (a message the
// sweeper resent, a Lambda started by a schedule), and a trace is found in
// a viewer by the task UUID without dashes.

// TraceID returns the trace ID of a task, false for a UUID that does not parse.
func TraceID(taskUUID string) (trace.TraceID, bool) {
	u, err := uuid.Parse(taskUUID)
	if err != nil {
		return trace.TraceID{}, false
	}
	return trace.TraceID(u), true
}

// taskSpanID is the span ID of a task's root span: the UUID's last eight
// bytes (random in a UUIDv7), never zero.
func taskSpanID(tid trace.TraceID) trace.SpanID {
	var sid trace.SpanID
	copy(sid[:], tid[8:])
	if !sid.IsValid() {
		sid[7] = 1
	}
	return sid
}

// TaskContext returns ctx with the task's root span as its (remote) parent
// when ctx carries no span yet, so the spans started from it belong to the
// task's trace. It returns ctx unchanged when it already carries a span or
// the UUID does not parse.
func TaskContext(ctx context.Context, taskUUID string) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	tid, ok := TraceID(taskUUID)
	if !ok {
		return ctx
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: taskSpanID(tid),
		TraceFlags: trace.FlagsSampled, Remote: true})
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

type taskRootKey struct{}

// withTaskRoot marks ctx so that the next root span started from it is the
// task's root span (trace and span IDs from the task UUID).
func withTaskRoot(ctx context.Context, tid trace.TraceID) context.Context {
	return context.WithValue(ctx, taskRootKey{}, tid)
}

// idGenerator gives task root spans their derived IDs and every other span
// random ones.
type idGenerator struct {
	mu  sync.Mutex
	rnd *rand.ChaCha8
}

func newIDGenerator() *idGenerator {
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	return &idGenerator{rnd: rand.NewChaCha8(seed)}
}

func (g *idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if tid, ok := ctx.Value(taskRootKey{}).(trace.TraceID); ok {
		return tid, taskSpanID(tid)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], g.rnd.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], g.rnd.Uint64())
	}
	return tid, g.spanID()
}

func (g *idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.spanID()
}

func (g *idGenerator) spanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], g.rnd.Uint64())
	}
	return sid
}
