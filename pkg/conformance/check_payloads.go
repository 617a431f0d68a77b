package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tasker-go/tasker/pkg/api"
)

// Sizes of the large-payload check. The context must exceed the 200 KiB
// inline limit of a step message (protocol.MaxInlineBytes) and stay within
// the 256 KiB the engine accepts for a task context (dynamo.MaxContextBytes).
const (
	largeContextPad = 220 * 1024
	largeBlobSize   = 300 * 1024
	inlineLimit     = 200 * 1024
)

// testLargePayloads: the task context is too large to travel inline, so
// every step message carries payload_ref; big echoes it back (a result over
// the inline limit), blob returns ~300 KiB, after receives both as parents
// (a payload of several chunks). Every large result must travel as
// result_ref, in the task's partition, and everything round-trips.
func (s *suite) testLargePayloads(t *testing.T) {
	t.Parallel()
	ctx := map[string]any{"pad": strings.Repeat("p", largeContextPad), "size": largeBlobSize}
	wantCtx, _ := json.Marshal(ctx)
	task := s.run(t, "large", ctx)
	expectStatus(t, task, "complete")

	for _, m := range s.tap.stepsOf(task.TaskUUID) {
		if len(m.Msg.PayloadRef) == 0 || len(m.Msg.Context) != 0 {
			t.Fatalf("suite bug: the engine sent step %s of task %s inline (%d bytes), the check needs payload_ref: %.300s", m.Msg.StepName, m.Msg.TaskUUID, len(m.Body), m.Body)
		}
	}
	big, blob, after := s.step(t, task, "big"), s.step(t, task, "blob"), s.step(t, task, "after")
	s.expectEcho(t, big, wantCtx)
	s.expectEcho(t, after, wantCtx)
	var blobResult struct {
		Blob *string `json:"blob"`
	}
	if err := json.Unmarshal(blob.Results, &blobResult); err != nil || blobResult.Blob == nil {
		t.Fatalf("blob's result is not {\"blob\": <string>}: %v", err)
	}
	if *blobResult.Blob != strings.Repeat("x", largeBlobSize) {
		t.Errorf("blob's result holds %d bytes, want %d bytes of 'x'", len(*blobResult.Blob), largeBlobSize)
	}
	s.expectEffects(t, blob, 1, 1)
	expectParents(t, after, map[string]*api.StepResponse{"big": big, "blob": blob})
	for _, st := range []*api.StepResponse{big, blob, after} {
		s.expectResultRef(t, task.TaskUUID, st)
	}
}

// expectResultRef checks that a step's large result travelled out of line.
func (s *suite) expectResultRef(t *testing.T, taskUUID string, st *api.StepResponse) {
	t.Helper()
	rs := s.tap.resultsOf(st.StepUUID)
	if len(rs) != 1 {
		t.Fatalf("step %s: %d result messages, want 1", st.Name, len(rs))
	}
	m := rs[0]
	if len(m.Body) > inlineLimit {
		t.Errorf("step %s: result message is %d bytes, over the %d-byte inline limit", st.Name, len(m.Body), inlineLimit)
	}
	ref := m.Msg.ResultRef
	if ref == nil || len(m.Msg.Result) != 0 {
		t.Fatalf("step %s: a %d-byte result was sent inline; it must be stored out of line (result_ref)", st.Name, len(st.Results))
	}
	if ref.PK != "T#"+taskUUID || ref.SK != fmt.Sprintf("B#%s#1#result", st.Name) || ref.Chunks < 1 || ref.Bytes <= inlineLimit {
		t.Errorf("step %s: result_ref %+v, want pk T#%s, sk B#%s#1#result, chunks >= 1, bytes > %d", st.Name, *ref, taskUUID, st.Name, inlineLimit)
	}
}
