package conformance

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// duplicateCopies is how many copies of one step message arrive at once.
const duplicateCopies = 3

// testDuplicate: the suite holds the engine's step message, delivers three
// copies at once (they race for the claim) and one more after the task
// completed. The handler runs once, one result is sent, every copy is
// deleted.
func (s *suite) testDuplicate(t *testing.T) {
	task := s.create(t, "slow", map[string]any{HoldKey: true, "sleep_ms": 300})
	held, err := s.tap.waitHeld(deadline(t, 10*time.Second), task.TaskUUID, "slow")
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]types.SendMessageBatchRequestEntry, duplicateCopies)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(held.Body)}
	}
	out, err := s.sqs.SendMessageBatch(deadline(t, 10*time.Second), &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.stepQueueURL), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("send copies: %v %v", err, out)
	}
	done := s.wait(t, task.TaskUUID)
	expectStatus(t, done, "complete")
	s.send(t, held.Body) // a stale copy of a finished attempt
	s.waitDrained(t)
	st := s.step(t, done, "slow")
	if st.Attempts != 1 {
		t.Errorf("slow took %d attempts, want 1", st.Attempts)
	}
	s.expectEffects(t, st, 1, 1)
	if rs := s.tap.resultsOf(st.StepUUID); len(rs) != 1 {
		t.Errorf("%d result messages for %d deliveries of one attempt, want 1", len(rs), duplicateCopies+1)
	}
	s.expectAlive(t)
}

// testMalformed: the suite holds a real step message and sends broken
// variants of it (and non-JSON). The worker deletes every one without
// claiming or running anything and keeps running; the step stays enqueued
// and unclaimed; nothing reaches the dead-letter queue; the intact message
// then completes the task.
func (s *suite) testMalformed(t *testing.T) {
	task := s.create(t, "slow", map[string]any{HoldKey: true, "sleep_ms": 0})
	held, err := s.tap.waitHeld(deadline(t, 10*time.Second), task.TaskUUID, "slow")
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"this is not JSON", `{"v":1,"task_uuid":`, "null", "[]", `"step"`, "{}"}
	variant := func(change func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(held.Body), &m); err != nil {
			t.Fatalf("held message: %v", err)
		}
		change(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	bodies = append(bodies,
		variant(func(m map[string]any) { m["v"] = 2 }),
		variant(func(m map[string]any) { delete(m, "v") }),
		variant(func(m map[string]any) { m["attempt"] = 0 }),
		variant(func(m map[string]any) { m["attempt"] = -1 }),
		variant(func(m map[string]any) { delete(m, "attempt") }))
	for _, field := range []string{"task_uuid", "step_uuid", "step_name", "handler", "namespace"} {
		bodies = append(bodies, variant(func(m map[string]any) { delete(m, field) }))
	}
	s.send(t, bodies...)
	s.waitDrained(t)
	s.expectAlive(t)

	st := s.step(t, task, "slow")
	if st.CurrentState != "enqueued" || st.Attempts != 0 {
		t.Fatalf("after malformed messages the step is %s with %d attempts, want enqueued with 0 (nothing may claim it)", st.CurrentState, st.Attempts)
	}
	if n := s.worker.effectsFor(st.StepUUID); n != 0 {
		t.Fatalf("a malformed message ran the handler %d times", n)
	}
	if rs := s.tap.resultsOf(st.StepUUID); len(rs) != 0 {
		t.Fatalf("a malformed message produced %d result messages", len(rs))
	}
	v, f, d, err := s.queueCounts(deadline(t, 10*time.Second), s.dlqURL)
	if err != nil || v+f+d != 0 {
		t.Fatalf("dead-letter queue holds %d messages (%v)", v+f+d, err)
	}

	s.send(t, held.Body)
	done := s.wait(t, task.TaskUUID)
	expectStatus(t, done, "complete")
	s.expectEffects(t, s.step(t, done, "slow"), 1, 1)
}

// shutdownSleep is how long the step in flight at SIGTERM runs.
const shutdownSleep = 1500

// testShutdown: SIGTERM while a step runs. The worker finishes the step,
// reports it, and exits 0 within ShutdownBudget.
func (s *suite) testShutdown(t *testing.T) {
	task := s.create(t, "slow", map[string]any{"sleep_ms": shutdownSleep})
	st := stepByName(t, task, "slow")
	if err := s.worker.waitEffect(deadline(t, taskDeadline), st.StepUUID, 1); err != nil {
		t.Fatal(err)
	}
	took, err := s.worker.terminate(deadline(t, ShutdownBudget+5*time.Second))
	if err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0)", err)
	}
	if took > ShutdownBudget {
		t.Errorf("the worker took %s to exit after SIGTERM, want at most %s", took, ShutdownBudget)
	}
	t.Logf("exited %s after SIGTERM", took.Round(time.Millisecond))
	done := s.wait(t, task.TaskUUID)
	expectStatus(t, done, "complete")
	if lines := s.worker.unknownLines(); len(lines) > 0 {
		t.Errorf("stdout carried %d lines that are neither READY nor EFFECT (logs belong on stderr), e.g. %q", len(lines), lines[0])
	}
}
