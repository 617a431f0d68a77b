package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
)

const scheduledYAML = `
namespace: sched_ns
name: nightly
version: "1.0.0"
input_schema: {type: object, required: [scope], properties: {scope: {type: string}}}
schedules:
  - {name: nightly, expression: "cron(0 2 * * ? *)", context: {scope: all}}
  - {name: paused, expression: "rate(1 hour)", context: {scope: none}, enabled: false}
steps:
  - {name: a, handler: add}
`

// TestScheduleSlotCreatesOneTask fires the same slot three ways — twice
// directly and once as the orchestration message EventBridge Scheduler
// sends — and expects exactly one task, with the schedule's context.
func TestScheduleSlotCreatesOneTask(t *testing.T) {
	t.Parallel()
	b := newBare(t, mustParse(t, scheduledYAML))
	ctx := context.Background()
	slot := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	first, err := b.eng.FireSchedule(ctx, "sched_ns", "nightly", "1.0.0", "nightly", slot)
	if err != nil || first == nil {
		t.Fatalf("first fire: %v %v", first, err)
	}
	again, err := b.eng.FireSchedule(ctx, "sched_ns", "nightly", "1.0.0", "nightly", slot)
	if err != nil || again != nil {
		t.Fatalf("second fire of the same slot: %v %v", again, err)
	}
	msg := protocol.OrchestrationMessage{V: protocol.Version, Kind: protocol.KindFireSchedule, Namespace: "sched_ns", Name: "nightly",
		Version: "1.0.0", Schedule: "nightly", Slot: slot.Format(time.RFC3339)}
	body, _ := json.Marshal(msg)
	decoded, err := protocol.Decode[protocol.OrchestrationMessage](body)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.eng.HandleOrchestration(ctx, decoded); err != nil {
		t.Fatal(err)
	}
	page, err := b.store.ListTasks(ctx, dynamo.TaskFilter{Namespace: "sched_ns"}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tasks) != 1 || page.Tasks[0].IdempotencyKey == "" || page.Tasks[0].Initiator != "schedule:nightly" {
		t.Fatalf("tasks %+v", page.Tasks)
	}
	c, err := b.store.GetContext(ctx, first.UUID)
	if err != nil || string(c) != `{"scope":"all"}` {
		t.Fatalf("context %s %v", c, err)
	}
	// The next slot makes a second task; a disabled schedule makes none.
	if next, err := b.eng.FireSchedule(ctx, "sched_ns", "nightly", "1.0.0", "nightly", slot.Add(24*time.Hour)); err != nil || next == nil {
		t.Fatalf("next slot: %v %v", next, err)
	}
	if off, err := b.eng.FireSchedule(ctx, "sched_ns", "nightly", "1.0.0", "paused", slot); err != nil || off != nil {
		t.Fatalf("disabled schedule: %v %v", off, err)
	}
}
