package dynamo

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/workflow"
)

// TestHistoryFormsReadTogether writes records in both encodings into one
// item, interleaved in time, and reads them back in write order with every
// field intact.
func TestHistoryFormsReadTogether(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 27, 6, 0, 4, 250_000_001, time.UTC)
	trs := []workflow.Transition{
		{From: "", To: "pending", Event: "create", At: base, Processor: "engine-1", CorrelationID: "c-1"},
		{From: "pending", To: "enqueued", Event: "enqueue", Attempt: 1, At: base.Add(time.Millisecond)},
		{From: "enqueued", To: "in_progress", Event: "start", Attempt: 1, At: base.Add(2 * time.Millisecond), Processor: "worker-7"},
		{From: "in_progress", To: "enqueued_for_orchestration", Event: "enqueue_for_orchestration", Attempt: 1, At: base.Add(3 * time.Millisecond)},
		{From: "enqueued_for_orchestration", To: "complete", Event: "complete", Attempt: 1, At: base.Add(3 * time.Millisecond), Reason: "done"},
	}
	item := map[string]types.AttributeValue{"handler": str("not a record"), "h:zz": str("not a record either")}
	names, vals := map[string]string{}, map[string]types.AttributeValue{}
	collect := func(set func(time.Time, []workflow.Transition, map[string]string, map[string]types.AttributeValue) string, at time.Time, part []workflow.Transition) {
		clear(names)
		clear(vals)
		set(at, part, names, vals)
		for ph, name := range names {
			item[name] = vals[":hv"+strings.TrimPrefix(ph, "#hn")]
		}
	}
	addHistory(item, base, trs[:1])
	collect(historySet, base.Add(time.Millisecond), trs[1:2])
	collect(wireHistorySet, base.Add(2*time.Millisecond), trs[2:3]) // a worker's claim
	collect(historySet, base.Add(3*time.Millisecond), trs[3:5])

	var wire, compact int
	for k := range item {
		switch {
		case strings.HasPrefix(k, historyPrefix):
			wire++
		case strings.HasPrefix(k, compactHistoryPrefix) && len(k) == 27:
			compact++
		}
	}
	if wire != 1 || compact != 4 {
		t.Fatalf("%d wire-form and %d compact records, want 1 and 4", wire, compact)
	}
	got := getTransitions(item)
	if !reflect.DeepEqual(got, trs) {
		t.Fatalf("read back:\n%+v\nwant:\n%+v", got, trs)
	}
}
