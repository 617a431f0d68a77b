package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// maxFuzzInput caps fuzz inputs: SQS delivers at most 1 MiB, and a cap
// keeps each execution's memory bounded.
const maxFuzzInput = 1 << 20

// addFixtures seeds f with every testdata/{valid,invalid}/<dir>/*.json.
func addFixtures(f *testing.F, dirs ...string) {
	f.Helper()
	for _, kind := range []string{"valid", "invalid"} {
		for _, d := range dirs {
			files, err := filepath.Glob(filepath.Join("testdata", kind, d, "*.json"))
			if err != nil {
				f.Fatal(err)
			}
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
			}
		}
	}
}

// outcomeSeeds are decision and batch outcomes as workers send them.
var outcomeSeeds = []string{
	`{"decision_point_outcome":{"type":"create_steps","step_names":["manager_approval","finance_review"]}}`,
	`{"decision_point_outcome":{"type":"no_branches"},"approved":true}`,
	`{"batch_processing_outcome":{"type":"create_batches","worker_template_name":"process_batch","worker_count":2,"total_items":2000,` +
		`"cursor_configs":[{"batch_id":"000","start_cursor":0,"end_cursor":1000,"batch_size":1000},` +
		`{"batch_id":"001","start_cursor":{"id":1000},"end_cursor":{"id":2000},"batch_size":1000}]}}`,
	`{"batch_processing_outcome":{"type":"no_batches"}}`,
	`{"batch_processing_outcome":{"type":"create_batches","cursor_configs":[{"batch_id":"a","start_cursor":[[[[[[1]]]]]],"end_cursor":"\"]"}]}}`,
}

// FuzzDecodeResultMessage decodes result messages as a buggy or hostile
// worker could send them. An accepted message keeps every limit, survives
// a JSON round trip, and its outcomes can be read without panicking.
func FuzzDecodeResultMessage(f *testing.F) {
	addFixtures(f, "result-message")
	for _, o := range outcomeSeeds {
		f.Add([]byte(`{"v":1,"task_uuid":"0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","step_name":"route","attempt":1,"status":"success","result":` + o + `}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		m, err := protocol.Decode[protocol.ResultMessage](body)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidMessage) {
				t.Fatalf("rejection does not wrap ErrInvalidMessage: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("rejection without a reason")
			}
			return
		}
		checkAcceptedResult(t, m)
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encode accepted message: %v", err)
		}
		if _, err := protocol.Decode[protocol.ResultMessage](again); err != nil {
			t.Fatalf("accepted message rejected after a round trip: %v\n%s", err, again)
		}
		if _, err := protocol.ExtractOutcomes(m.Result); err != nil && !errors.Is(err, protocol.ErrInvalidMessage) {
			t.Fatalf("outcome rejection does not wrap ErrInvalidMessage: %v", err)
		}
	})
}

func checkAcceptedResult(t *testing.T, m *protocol.ResultMessage) {
	t.Helper()
	switch {
	case !protocol.ValidUUID(m.TaskUUID):
		t.Fatalf("accepted task_uuid %q", m.TaskUUID)
	case !protocol.ValidStepName(m.StepName):
		t.Fatalf("accepted step_name %q", m.StepName)
	case m.Attempt < 1 || !m.Status.Valid():
		t.Fatalf("accepted attempt %d status %q", m.Attempt, m.Status)
	case len(m.Result) > protocol.MaxInlineBytes || len(m.WorkerID) > protocol.MaxIDBytes:
		t.Fatalf("accepted %d-byte result, %d-byte worker_id", len(m.Result), len(m.WorkerID))
	case m.Status != protocol.StatusSuccess && m.Error == nil:
		t.Fatalf("accepted a failure without an error")
	}
	if depth := jsonDepth(t, m.Result); depth > protocol.MaxJSONDepth {
		t.Fatalf("accepted a result nested %d deep", depth)
	}
	if e := m.Error; e != nil {
		if len(e.Message) > protocol.MaxErrorMessageBytes || len(e.Context) > protocol.MaxErrorContextBytes ||
			e.RetryAfterSeconds < 0 || e.RetryAfterSeconds > protocol.MaxRetryAfterSeconds {
			t.Fatalf("accepted error out of limits: %d-byte message, %d-byte context, retry after %v",
				len(e.Message), len(e.Context), e.RetryAfterSeconds)
		}
	}
}

// FuzzExtractOutcomes reads decision and batch outcomes (with their cursor
// configs) from step results. An accepted outcome is one the engine can
// plan from: create_steps names valid step names, create_batches has
// unique, bounded batch ids and bounded cursors.
func FuzzExtractOutcomes(f *testing.F) {
	addFixtures(f, "step-result")
	for _, o := range outcomeSeeds {
		f.Add([]byte(o))
	}
	f.Fuzz(func(t *testing.T, result []byte) {
		if len(result) > maxFuzzInput {
			return
		}
		out, err := protocol.ExtractOutcomes(result)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidMessage) {
				t.Fatalf("rejection does not wrap ErrInvalidMessage: %v", err)
			}
			return
		}
		if d := out.Decision; d != nil {
			if d.Type == protocol.DecisionCreateSteps && len(d.StepNames) == 0 {
				t.Fatal("accepted create_steps without step names")
			}
			for _, n := range d.StepNames {
				if d.Type == protocol.DecisionCreateSteps && !protocol.ValidStepName(n) {
					t.Fatalf("accepted step name %q", n)
				}
			}
		}
		if b := out.Batch; b != nil && b.Type == protocol.BatchCreateBatches {
			seen := map[string]bool{}
			for _, c := range b.CursorConfigs {
				if c.BatchID == "" || len(c.BatchID) > protocol.MaxBatchIDBytes || seen[c.BatchID] {
					t.Fatalf("accepted batch_id %q (seen before: %v)", c.BatchID, seen[c.BatchID])
				}
				seen[c.BatchID] = true
				if len(c.StartCursor) > protocol.MaxCursorBytes || len(c.EndCursor) > protocol.MaxCursorBytes ||
					jsonDepth(t, c.StartCursor) > protocol.MaxJSONDepth || jsonDepth(t, c.EndCursor) > protocol.MaxJSONDepth {
					t.Fatalf("accepted cursor out of limits: %s .. %s", c.StartCursor, c.EndCursor)
				}
			}
		}
	})
}

// FuzzDecodeStepMessage decodes step messages as anyone able to send to a
// step queue could write them: the worker claims only accepted ones, whose
// keys are well-formed.
func FuzzDecodeStepMessage(f *testing.F) {
	addFixtures(f, "step-message")
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzInput {
			return
		}
		m, err := protocol.Decode[protocol.StepMessage](body)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidMessage) {
				t.Fatalf("rejection does not wrap ErrInvalidMessage: %v", err)
			}
			return
		}
		if !protocol.ValidUUID(m.TaskUUID) || !protocol.ValidStepName(m.StepName) || m.Attempt < 1 || m.Handler == "" {
			t.Fatalf("accepted step message with task_uuid %q step_name %q attempt %d handler %q", m.TaskUUID, m.StepName, m.Attempt, m.Handler)
		}
	})
}

// FuzzCheckJSONDepth compares the scanner with the depth a JSON decoder
// sees, on valid JSON.
func FuzzCheckJSONDepth(f *testing.F) {
	for _, s := range append([]string{`[]`, `{"a":[{"b":"]]]"}]}`, `"\\\"["`, `[[[[[[[[1]]]]]]]]`}, outcomeSeeds...) {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if len(data) > maxFuzzInput || !json.Valid(data) || limit < 0 || limit > 1000 {
			return
		}
		depth := jsonDepth(t, data)
		err := protocol.CheckJSONDepth(data, limit)
		if (err != nil) != (depth > limit) {
			t.Fatalf("depth %d, limit %d: CheckJSONDepth says %v", depth, limit, err)
		}
	})
}

// jsonDepth measures the nesting of valid JSON with a decoder.
func jsonDepth(t *testing.T, data []byte) int {
	t.Helper()
	if len(data) == 0 {
		return 0
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // 1e700 is valid JSON but no float64
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return deepest
		}
		if err != nil {
			t.Fatalf("measure depth of %q: %v", data, err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
