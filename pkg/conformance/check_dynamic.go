package conformance

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tasker-go/tasker/pkg/api"
)

// testDecision: route chooses left and right; only those branches exist
// and run, and the convergence step sees exactly them.
func (s *suite) testDecision(t *testing.T) {
	t.Parallel()
	task := s.run(t, "decision", map[string]any{"branches": []string{"left", "right"}})
	expectStatus(t, task, "complete")
	if got, want := stepNames(task), []string{"join", "left", "right", "route", "start"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("steps %v, want %v (middle was not chosen)", got, want)
	}
	route := s.step(t, task, "route")
	var r struct {
		Chosen  []string `json:"chosen"`
		Outcome struct {
			Type      string   `json:"type"`
			StepNames []string `json:"step_names"`
		} `json:"decision_point_outcome"`
	}
	if err := json.Unmarshal(route.Results, &r); err != nil {
		t.Fatalf("route's result: %v: %s", err, route.Results)
	}
	sort.Strings(r.Outcome.StepNames)
	if !reflect.DeepEqual(r.Chosen, []string{"left", "right"}) || r.Outcome.Type != "create_steps" ||
		!reflect.DeepEqual(r.Outcome.StepNames, []string{"left", "right"}) {
		t.Errorf("route's result %s, want chosen [left right] and a create_steps outcome for them", route.Results)
	}
	join := s.step(t, task, "join")
	expectParents(t, join, map[string]*api.StepResponse{"left": s.step(t, task, "left"), "right": s.step(t, task, "right")})
	for _, st := range task.Steps {
		if n := s.worker.effectsFor(st.StepUUID); n != 1 {
			t.Errorf("step %s ran %d times, want 1", st.Name, n)
		}
	}
}

// batchTotal and batchSize: 250 items in batches of 100 make 3 workers.
const (
	batchTotal = 250
	batchSize  = 100
)

// testBatch: analyze asks for batches of batch_size over total items; one
// worker instance runs per batch, each processes its cursor range, and the
// ranges cover [0, total) exactly; the convergence step adds up to total.
func (s *suite) testBatch(t *testing.T) {
	t.Parallel()
	task := s.run(t, "batch", map[string]any{"total": batchTotal, "batch_size": batchSize})
	expectStatus(t, task, "complete")
	type span struct{ start, end, processed int64 }
	var spans []span
	for _, st := range task.Steps {
		if !strings.HasPrefix(st.Name, "batch_work_") {
			continue
		}
		full := s.step(t, task, st.Name)
		var in struct {
			Cursor struct {
				Start json.Number `json:"start_cursor"`
				End   json.Number `json:"end_cursor"`
			} `json:"cursor"`
		}
		var res struct {
			Processed json.Number `json:"processed"`
		}
		if err := json.Unmarshal(full.Inputs, &in); err != nil {
			t.Fatalf("%s's inputs: %v: %s (cursors must be integers)", st.Name, err, full.Inputs)
		}
		if err := json.Unmarshal(full.Results, &res); err != nil {
			t.Fatalf("%s's result: %v: %s", st.Name, err, full.Results)
		}
		start, err1 := in.Cursor.Start.Int64()
		end, err2 := in.Cursor.End.Int64()
		processed, err3 := res.Processed.Int64()
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: cursor %s..%s, processed %s: want integers", st.Name, in.Cursor.Start, in.Cursor.End, res.Processed)
		}
		if processed != end-start {
			t.Errorf("%s processed %d items of cursor [%d, %d)", st.Name, processed, start, end)
		}
		s.expectEffects(t, full, 1, 1)
		spans = append(spans, span{start, end, processed})
	}
	if want := (batchTotal + batchSize - 1) / batchSize; len(spans) != want {
		t.Fatalf("%d batch workers, want %d (steps %v)", len(spans), want, stepNames(task))
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	next := int64(0)
	for _, sp := range spans {
		if sp.start != next || sp.end <= sp.start || sp.end-sp.start > batchSize {
			t.Fatalf("batch ranges %v do not cover [0, %d) in batches of at most %d", spans, batchTotal, batchSize)
		}
		next = sp.end
	}
	if next != batchTotal {
		t.Fatalf("batch ranges %v end at %d, want %d", spans, next, batchTotal)
	}
	sameJSON(t, "sum's result", s.step(t, task, "sum").Results, []byte(`{"total":250}`))
}
