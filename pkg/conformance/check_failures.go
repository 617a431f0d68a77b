package conformance

import (
	"testing"
	"time"
)

// testRetryable: attempt 1 of conformance.flaky reports a retryable error
// with its message and class; the engine retries; attempt 2 completes. The
// audit shows two claims, the handler ran once per attempt.
func (s *suite) testRetryable(t *testing.T) {
	t.Parallel()
	task := s.run(t, "flaky", map[string]any{"case": "retryable"})
	expectStatus(t, task, "complete")
	st := s.step(t, task, "flaky")
	if st.Attempts != 2 {
		t.Fatalf("flaky completed after %d attempts, want 2", st.Attempts)
	}
	sameJSON(t, "flaky's result", st.Results, []byte(`{"attempt":2}`))
	s.expectEffects(t, st, 1, 1)
	s.expectEffects(t, st, 2, 1)

	rs := s.tap.resultsOf(st.StepUUID)
	if len(rs) != 2 {
		t.Fatalf("flaky: %d result messages, want 2 (one per attempt)", len(rs))
	}
	first, second := rs[0].Msg, rs[1].Msg
	if first.Attempt != 1 || first.Status != "retryable_error" || first.Error == nil {
		t.Fatalf("flaky attempt 1 reported attempt=%d status=%s error=%v, want attempt 1, retryable_error with an error", first.Attempt, first.Status, first.Error)
	}
	if first.Error.Message != FlakyMessage || first.Error.ErrorType != FlakyClass || !first.Error.Retryable {
		t.Errorf("flaky attempt 1 error %+v, want message %q, error_type %q, retryable true", *first.Error, FlakyMessage, FlakyClass)
	}
	if second.Attempt != 2 || second.Status != "success" {
		t.Errorf("flaky attempt 2 reported attempt=%d status=%s, want 2, success", second.Attempt, second.Status)
	}

	audit, err := s.api.StepAudit(deadline(t, 10*time.Second), task.TaskUUID, st.StepUUID)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	retried := false
	for _, e := range audit {
		if e.Event == "start" && e.FromState == "enqueued" && e.ToState == "in_progress" {
			starts = append(starts, e.Attempt)
		}
		if e.ToState == "waiting_for_retry" {
			retried = true
		}
	}
	if len(starts) != 2 || starts[0] != 1 || starts[1] != 2 {
		t.Errorf("audit shows claims for attempts %v, want [1 2]", starts)
	}
	if !retried {
		t.Error("audit shows no transition to waiting_for_retry")
	}
}

// testPermanent: conformance.permanent fails for good on attempt 1 although
// attempts remain; the step records the message and class; the task ends in
// error and the dependent step never runs.
func (s *suite) testPermanent(t *testing.T) {
	t.Parallel()
	task := s.run(t, "permanent", map[string]any{"case": "permanent"})
	expectStatus(t, task, "error")
	fail := s.step(t, task, "fail")
	if fail.CurrentState != "error" || fail.Attempts != 1 {
		t.Fatalf("fail is %s after %d attempts, want error after 1 (no retry)", fail.CurrentState, fail.Attempts)
	}
	if fail.Error == nil {
		t.Fatal("fail records no error")
	}
	if fail.Error.Message != PermanentMessage || fail.Error.ErrorType != PermanentClass || fail.Error.Retryable {
		t.Errorf("fail's error %+v, want message %q, error_type %q, retryable false", *fail.Error, PermanentMessage, PermanentClass)
	}
	rs := s.tap.resultsOf(fail.StepUUID)
	if len(rs) != 1 || rs[0].Msg.Status != "permanent_error" {
		t.Fatalf("fail: %d result messages (first status %q), want one permanent_error", len(rs), firstStatus(rs))
	}
	if e := rs[0].Msg.Error; e == nil || e.Retryable {
		t.Errorf("fail's reported error %+v: want one with retryable false", e)
	}
	s.expectEffects(t, fail, 1, 1)
	never := stepByName(t, task, "never")
	if never.Attempts != 0 || s.worker.effectsFor(never.StepUUID) != 0 {
		t.Errorf("never ran (%d attempts, %d EFFECT lines) after its parent failed", never.Attempts, s.worker.effectsFor(never.StepUUID))
	}
}

func firstStatus(rs []capturedResult) string {
	if len(rs) == 0 {
		return ""
	}
	return rs[0].Msg.Status
}
