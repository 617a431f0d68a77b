package conformance

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/api"
)

// happyContext is a task context with the JSON kinds a worker must pass
// through unchanged.
var happyContext = map[string]any{
	"order":   map[string]any{"id": "ord-1", "items": []any{1, 2.5, "three", nil, true}, "empty": map[string]any{}},
	"unicode": "grüße ✓ 日本",
	"n":       7,
}

// testChain: a → b → c with echo. Context, handler config, parent results,
// attempt and idempotency key arrive as documented; each handler runs once;
// each attempt reports one well-formed success.
func (s *suite) testChain(t *testing.T) {
	t.Parallel()
	task := s.run(t, "chain", happyContext)
	expectStatus(t, task, "complete")
	wantCtx, _ := json.Marshal(happyContext)
	a, b, c := s.step(t, task, "a"), s.step(t, task, "b"), s.step(t, task, "c")
	for _, st := range []*api.StepResponse{a, b, c} {
		s.expectEcho(t, st, wantCtx)
		s.expectSuccessReport(t, task, st)
	}
	if r := decodeEcho(t, a); len(r.Parents) != 0 {
		t.Errorf("a (a root step) got parents %v, want none", keys(r.Parents))
	}
	sameJSON(t, "a's config (no initialization)", decodeEcho(t, a).Config, []byte(`{}`))
	sameJSON(t, "b's config", decodeEcho(t, b).Config, []byte(`{"greeting":"hello","limit":42,"nested":{"flags":[true,false]}}`))
	expectParents(t, b, map[string]*api.StepResponse{"a": a})
	expectParents(t, c, map[string]*api.StepResponse{"b": b})
	// b's message came with from_state "pending": its claim recorded the
	// enqueue and the start in one write (docs/protocol.md §5).
	checkPendingClaim(t, s.stepItem(t, task.TaskUUID, "b"))
}

// testDiamond: top → left, right → bottom. bottom receives exactly both
// branches' results, each branch exactly top's.
func (s *suite) testDiamond(t *testing.T) {
	t.Parallel()
	ctx := map[string]any{"shape": "diamond"}
	task := s.run(t, "diamond", ctx)
	expectStatus(t, task, "complete")
	wantCtx, _ := json.Marshal(ctx)
	top, left, right, bottom := s.step(t, task, "top"), s.step(t, task, "left"), s.step(t, task, "right"), s.step(t, task, "bottom")
	for _, st := range []*api.StepResponse{top, left, right, bottom} {
		s.expectEcho(t, st, wantCtx)
		s.expectSuccessReport(t, task, st)
	}
	expectParents(t, left, map[string]*api.StepResponse{"top": top})
	expectParents(t, right, map[string]*api.StepResponse{"top": top})
	expectParents(t, bottom, map[string]*api.StepResponse{"left": left, "right": right})
}

// expectEcho checks an echo step's result: the task context, attempt 1, the
// step UUID as idempotency key, and that the handler ran once.
func (s *suite) expectEcho(t *testing.T, st *api.StepResponse, wantCtx []byte) {
	t.Helper()
	if st.CurrentState != "complete" || st.Attempts != 1 {
		t.Fatalf("step %s is %s after %d attempts, want complete after 1", st.Name, st.CurrentState, st.Attempts)
	}
	r := decodeEcho(t, st)
	sameJSON(t, st.Name+"'s context", r.Context, wantCtx)
	if r.Attempt != 1 {
		t.Errorf("step %s saw attempt %d, want 1", st.Name, r.Attempt)
	}
	if r.IdempotencyKey != st.StepUUID {
		t.Errorf("step %s saw idempotency key %q, want its step_uuid %q", st.Name, r.IdempotencyKey, st.StepUUID)
	}
	s.expectEffects(t, st, 1, 1)
}

// expectParents checks that st received exactly the named parents' results.
func expectParents(t *testing.T, st *api.StepResponse, want map[string]*api.StepResponse) {
	t.Helper()
	r := decodeEcho(t, st)
	got := keys(r.Parents)
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(got) != len(names) {
		t.Fatalf("step %s got parents %v, want %v", st.Name, got, names)
	}
	for _, n := range names {
		raw, ok := r.Parents[n]
		if !ok {
			t.Fatalf("step %s got parents %v, want %v", st.Name, got, names)
		}
		sameJSON(t, st.Name+"'s parent "+n, raw, want[n].Results)
	}
}

// expectSuccessReport checks the one result message the worker sent for a
// step's first attempt: version, identity, status, correlation id (in the
// body and as the message attribute) and timestamps.
func (s *suite) expectSuccessReport(t *testing.T, task *api.TaskResponse, st *api.StepResponse) {
	t.Helper()
	rs := s.tap.resultsOf(st.StepUUID)
	if len(rs) != 1 {
		t.Fatalf("step %s: %d result messages, want 1", st.Name, len(rs))
	}
	m := rs[0].Msg
	if m.V != 1 || m.TaskUUID != task.TaskUUID || m.StepName != st.Name || m.Attempt != 1 || m.Status != "success" {
		t.Errorf("step %s: result message v=%d task=%s step=%s attempt=%d status=%s, want v=1 task=%s step=%s attempt=1 status=success",
			st.Name, m.V, m.TaskUUID, m.StepName, m.Attempt, m.Status, task.TaskUUID, st.Name)
	}
	if m.CorrelationID != task.CorrelationID {
		t.Errorf("step %s: result correlation_id %q, want the task's %q", st.Name, m.CorrelationID, task.CorrelationID)
	}
	if task.CorrelationID != "" && rs[0].CorrelationID != task.CorrelationID {
		t.Errorf("step %s: correlation_id message attribute %q, want %q", st.Name, rs[0].CorrelationID, task.CorrelationID)
	}
	started, err1 := time.Parse(time.RFC3339Nano, m.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, m.FinishedAt)
	if err1 != nil || err2 != nil || finished.Before(started) {
		t.Errorf("step %s: started_at %q, finished_at %q: want RFC 3339 times, started <= finished", st.Name, m.StartedAt, m.FinishedAt)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
