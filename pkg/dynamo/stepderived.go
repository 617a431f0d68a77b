package dynamo

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// A step item leaves out what its key and its transition records already
// say, because DynamoDB bills every write of the item per started KB of it
// (docs/data-model.md, "Step items"):
//
//   - the task's UUID is in the key (pk "T#<task uuid>");
//   - stype is left out for a standard step, tstep when it is the step's name;
//   - created_at is the write time of the step's first record, enqueued_at
//     that of its last record to enqueued, completed_at that of its last
//     record to complete or resolved_manually (every change writes its
//     records in the same write, named by that write's time, which is the
//     time the attributes held); an enqueue recorded by a worker's claim
//     of a message the engine sent without storing the enqueue counts from
//     the record's own time, the message's enqueued_at.
//
// Items written before held those attributes, and a reader takes them when
// present: created_at as it is, enqueued_at and completed_at as the later of
// the attribute and the records (an item enqueued by an older writer and
// enqueued again by this one has a stale attribute).

// defaultStepType is the type of a step item without stype.
const defaultStepType = string(template.StepStandard)

// stepTypeOf is a step item's type: stype, left out for standard steps.
func stepTypeOf(item map[string]types.AttributeValue) string {
	if _, ok := item[aStepType]; !ok {
		return defaultStepType
	}
	return getS(item, aStepType)
}

// templateStepOf is the template step of a step item: tstep, left out when
// it is the step's name (every step but batch workers and compensations).
func templateStepOf(item map[string]types.AttributeValue) string {
	if _, ok := item[aTemplateStep]; !ok {
		return getS(item, "name")
	}
	return getS(item, aTemplateStep)
}

// taskUUIDOf is the task UUID of an item of a task's partition: from its key,
// or from a task_uuid attribute where the key was not read.
func taskUUIDOf(item map[string]types.AttributeValue) string {
	if pk, ok := strings.CutPrefix(getS(item, resources.AttrPK), "T#"); ok && pk != "" {
		return pk
	}
	return getS(item, "task_uuid")
}

// stepTimes are a step's times derived from its transition records.
type stepTimes struct {
	created, enqueued, completed time.Time
}

func deriveStepTimes(recs []storedRecord) stepTimes {
	var d stepTimes
	for i, r := range recs {
		if i == 0 {
			d.created = r.writeAt
		}
		switch statemachine.StepState(r.To) {
		case statemachine.StepEnqueued:
			d.enqueued = r.writeAt
			if r.wire && !r.At.IsZero() {
				d.enqueued = r.At // recorded by the claim of a message sent earlier (ClaimPendingStep)
			}
		case statemachine.StepComplete, statemachine.StepResolvedManually:
			d.completed = r.writeAt
		}
	}
	return d
}

// recordsReach reports whether one of trs moves to state to, so that the
// write's records carry the time an attribute for it would hold.
func recordsReach(trs []workflow.Transition, to statemachine.StepState) bool {
	for _, t := range trs {
		if t.To == string(to) {
			return true
		}
	}
	return false
}

// timeOr is the attribute k of item, or derived when item has none.
func timeOr(item map[string]types.AttributeValue, k string, derived time.Time) time.Time {
	if t := getTime(item, k); !t.IsZero() {
		return t
	}
	return derived
}

// laterTimePtr is the later of attribute k of item and derived; nil when
// neither is set.
func laterTimePtr(item map[string]types.AttributeValue, k string, derived time.Time) *time.Time {
	t := getTime(item, k)
	if derived.After(t) {
		t = derived
	}
	if t.IsZero() {
		return nil
	}
	return &t
}
