package dynamo

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Attribute names of task and step items.
const (
	aKind             = "kind"
	aState            = "st"
	aRev              = "rev"
	aHistory          = "history"
	aAttempts         = "attempts"
	aDone             = "done"
	aRemaining        = "remaining"
	aCreatedByAttempt = "created_by_attempt"
	aDepsRef          = "deps_ref"
	aResult           = "result"
	aResultRef        = "result_ref"
	aError            = "error"
	aUpdatedAt        = "updated_at"
	aCreatedAt        = "created_at"
	aStepType         = "stype"
	aTemplateStep     = "tstep"
	aCompletedAt      = "completed_at"
	aEnqueuedAt       = "enqueued_at"
	aClaimedAt        = "claimed_at"
	aNextRetryAt      = "next_retry_at"
	aResentAt         = "resent_at"
	aLastFailure      = "last_failure_at"
	aWorkerID         = "worker_id"
	aPaused           = "paused"
	aCheckpoint       = "checkpoint"
	aData             = "data"
	aStateForSwep     = "sweep_kind"
)

// sortableTime is a fixed-width UTC time format whose text order is time order
// (RFC 3339 with nanoseconds drops trailing zeros and does not sort).
const sortableTime = "2006-01-02T15:04:05.000000000Z"

// Transition records. Each record is its own top-level attribute, named so
// that names sort in write order: appending is then a plain SET inside the
// same conditional write as the state change, which works on DynamoDB and on
// emulators without list_append. Two encodings are read:
//
//   - the wire form (docs/protocol.md §5), which workers write when they
//     claim a step: "h_<UTC write time>_<process><sequence>_<index>" holding
//     {from, to, event, attempt, at (RFC 3339), processor, correlation_id,
//     reason};
//   - the compact form the engine writes for everything else, because the
//     records are most of a step item and DynamoDB bills writes per KB:
//     "h:<write time, 16 hex digits of Unix nanoseconds><process, 4 hex>
//     <sequence, 4 hex><index, 1 hex>" holding {f, t, e (state and event
//     names as numbers, see recordcodes.go), n, a (Unix nanoseconds), p, c,
//     r}; step records leave c out (it is always the task's correlation ID).
//
// Both sort together by (write time, process, sequence, index).
const (
	historyPrefix        = "h_"
	compactHistoryPrefix = "h:"
)

// historySeq orders the writes of this process that share a timestamp;
// processSalt keeps names from different processes apart.
var (
	historySeq  atomic.Uint32
	processSalt = uint32(time.Now().UnixNano())
)

// historyNames returns one wire-form attribute name per transition of a
// write made at writeAt (the writer's clock when it writes, not each
// record's own At, which may come from another machine, e.g. a worker's
// finish time). Records of one write keep their order through the index;
// writes of one process through the sequence; writes of different processes
// through their clocks.
func historyNames(writeAt time.Time, n int) []string {
	names := make([]string, n)
	seq := historySeq.Add(1)
	for i := range names {
		names[i] = fmt.Sprintf("%s%s_%08x%08x_%02d", historyPrefix, writeAt.UTC().Format(historyTime), processSalt, seq, i)
	}
	return names
}

const historyTime = "20060102T150405.000000000"

// compactHistoryNames is historyNames in the compact form (27 bytes instead
// of 47); at most 16 records per write.
func compactHistoryNames(writeAt time.Time, n int) []string {
	names := make([]string, n)
	seq := historySeq.Add(1)
	for i := range names {
		names[i] = fmt.Sprintf("%s%016x%04x%04x%x", compactHistoryPrefix, writeAt.UnixNano(), processSalt&0xffff, seq&0xffff, i&0xf)
	}
	return names
}

// historyOrder maps a record's attribute name (either form) to a key that
// sorts records of both forms in write order, and to the write time the
// name holds; ok is false for other names.
func historyOrder(name string) (order string, writeAt time.Time, ok bool) {
	switch {
	case strings.HasPrefix(name, historyPrefix):
		rest := name[len(historyPrefix):]
		var at time.Time // zero when the name holds no time this reader knows
		if len(rest) >= len(historyTime) {
			at, _ = time.Parse(historyTime, rest[:len(historyTime)])
		}
		return rest, at, true
	case strings.HasPrefix(name, compactHistoryPrefix) && len(name) == len(compactHistoryPrefix)+25:
		rest := name[len(compactHistoryPrefix):]
		nanos, err1 := strconv.ParseUint(rest[:16], 16, 64)
		salt, err2 := strconv.ParseUint(rest[16:20], 16, 32)
		seq, err3 := strconv.ParseUint(rest[20:24], 16, 32)
		idx, err4 := strconv.ParseUint(rest[24:], 16, 8)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return "", time.Time{}, false
		}
		at := time.Unix(0, int64(nanos)).UTC()
		return fmt.Sprintf("%s_%08x%08x_%02d", at.Format(historyTime), salt, seq, idx), at, true
	}
	return "", time.Time{}, false
}

// addHistory puts the transitions into an item being created.
func addHistory(item map[string]types.AttributeValue, writeAt time.Time, trs []workflow.Transition) {
	names := compactHistoryNames(writeAt, len(trs))
	for i, t := range trs {
		item[names[i]] = compactForm.encode(t)
	}
}

// addStepHistory is addHistory for a step: its compact records leave out
// the correlation ID, which is always the task's (see uncorrelated).
func addStepHistory(item map[string]types.AttributeValue, writeAt time.Time, trs []workflow.Transition) {
	addHistory(item, writeAt, uncorrelated(trs))
}

// uncorrelated returns trs without their correlation IDs. Task and step
// records would otherwise repeat the task's correlation ID (36 bytes) in
// every record, on items billed per KB. decodeTask fills a task's records
// from its own correlation_id; readers that serve a step's trail fill it
// from the task (workflow.Step.FillCorrelation).
func uncorrelated(trs []workflow.Transition) []workflow.Transition {
	out := make([]workflow.Transition, len(trs))
	for i, t := range trs {
		t.CorrelationID = ""
		out[i] = t
	}
	return out
}

// historySet returns the SET assignments appending trs in the compact form,
// and fills the expression names and values.
func historySet(writeAt time.Time, trs []workflow.Transition, names map[string]string, vals map[string]types.AttributeValue) string {
	return historyAssignments(compactHistoryNames(writeAt, len(trs)), trs, compactForm.encode, names, vals)
}

// stepHistorySet is historySet for a step's records (without correlation
// IDs, see uncorrelated).
func stepHistorySet(writeAt time.Time, trs []workflow.Transition, names map[string]string, vals map[string]types.AttributeValue) string {
	return historySet(writeAt, uncorrelated(trs), names, vals)
}

// wireHistorySet is historySet in the wire form, for the claim (every SDK
// writes that record the same way; docs/protocol.md §5).
func wireHistorySet(writeAt time.Time, trs []workflow.Transition, names map[string]string, vals map[string]types.AttributeValue) string {
	return historyAssignments(historyNames(writeAt, len(trs)), trs, wireForm.encode, names, vals)
}

func historyAssignments(attrNames []string, trs []workflow.Transition, encode func(workflow.Transition) *types.AttributeValueMemberM,
	names map[string]string, vals map[string]types.AttributeValue) string {
	out := ""
	for i, t := range trs {
		n, v := fmt.Sprintf("#hn%02d", i), fmt.Sprintf(":hv%02d", i)
		names[n] = attrNames[i]
		vals[v] = encode(t)
		out += ", " + n + " = " + v
	}
	return out
}

// recordForm is one encoding of a transition record: its keys, how it
// stores the time and the state and event names, and whether an empty
// "from" is written.
type recordForm struct {
	from, to, event, attempt, at, processor, correlation, reason string
	alwaysFrom                                                   bool
	encodeAt                                                     func(time.Time) types.AttributeValue
	decodeAt                                                     func(map[string]types.AttributeValue, string) time.Time
	encodeName                                                   func(string) types.AttributeValue
	decodeName                                                   func(map[string]types.AttributeValue, string) string
}

var (
	// wireForm is what workers write when they claim (docs/protocol.md §5).
	wireForm = recordForm{from: "from", to: "to", event: "event", attempt: "attempt", at: "at",
		processor: "processor", correlation: "correlation_id", reason: "reason", alwaysFrom: true,
		encodeAt: func(t time.Time) types.AttributeValue { return timeAttr(t) }, decodeAt: getTime,
		encodeName: func(n string) types.AttributeValue { return str(n) }, decodeName: getS}
	// compactForm is what the engine writes: state and event names as
	// numbers (recordcodes.go).
	compactForm = recordForm{from: "f", to: "t", event: "e", attempt: "n", at: "a",
		processor: "p", correlation: "c", reason: "r",
		encodeAt:   func(t time.Time) types.AttributeValue { return num(t.UnixNano()) },
		decodeAt:   func(m map[string]types.AttributeValue, k string) time.Time { return unixNanos(getN(m, k)) },
		encodeName: codeAttr, decodeName: getCode}
)

func (f recordForm) encode(t workflow.Transition) *types.AttributeValueMemberM {
	m := map[string]types.AttributeValue{f.to: f.encodeName(t.To), f.event: f.encodeName(t.Event), f.at: f.encodeAt(t.At)}
	if t.From != "" || f.alwaysFrom {
		m[f.from] = f.encodeName(t.From)
	}
	if t.Attempt != 0 {
		m[f.attempt] = num(int64(t.Attempt))
	}
	if t.Processor != "" {
		m[f.processor] = str(t.Processor)
	}
	if t.CorrelationID != "" {
		m[f.correlation] = str(t.CorrelationID)
	}
	if t.Reason != "" {
		m[f.reason] = str(t.Reason)
	}
	return &types.AttributeValueMemberM{Value: m}
}

func (f recordForm) decode(m map[string]types.AttributeValue) workflow.Transition {
	return workflow.Transition{
		From: f.decodeName(m, f.from), To: f.decodeName(m, f.to), Event: f.decodeName(m, f.event),
		Attempt: int(getN(m, f.attempt)), At: f.decodeAt(m, f.at), Processor: getS(m, f.processor),
		CorrelationID: getS(m, f.correlation), Reason: getS(m, f.reason),
	}
}

func getS(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, k string) int64 {
	if v, ok := item[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getF(item map[string]types.AttributeValue, k string) float64 {
	if v, ok := item[k].(*types.AttributeValueMemberN); ok {
		f, _ := strconv.ParseFloat(v.Value, 64)
		return f
	}
	return 0
}

func getBool(item map[string]types.AttributeValue, k string) bool {
	if v, ok := item[k].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}

func getTime(item map[string]types.AttributeValue, k string) time.Time {
	s := getS(item, k)
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func getTimePtr(item map[string]types.AttributeValue, k string) *time.Time {
	t := getTime(item, k)
	if t.IsZero() {
		return nil
	}
	return &t
}

func getJSON(item map[string]types.AttributeValue, k string) json.RawMessage {
	s := getS(item, k)
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func getStrings(item map[string]types.AttributeValue, k string) []string {
	switch v := item[k].(type) {
	case *types.AttributeValueMemberSS:
		return append([]string(nil), v.Value...)
	case *types.AttributeValueMemberL:
		out := make([]string, 0, len(v.Value))
		for _, e := range v.Value {
			if s, ok := e.(*types.AttributeValueMemberS); ok {
				out = append(out, s.Value)
			}
		}
		return out
	}
	return nil
}

func stringList(ss []string) *types.AttributeValueMemberL {
	l := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		l[i] = str(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// storedRecord is a transition record read from an item, with the write
// time its attribute name holds.
type storedRecord struct {
	order   string
	writeAt time.Time
	wire    bool // written by a worker (docs/protocol.md §5), not the engine
	workflow.Transition
}

// getRecords reads an item's transition records (both forms) in write order.
func getRecords(item map[string]types.AttributeValue) []storedRecord {
	var recs []storedRecord
	for k, v := range item {
		order, writeAt, ok := historyOrder(k)
		m, isMap := v.(*types.AttributeValueMemberM)
		if !ok || !isMap {
			continue
		}
		form, wire := compactForm, strings.HasPrefix(k, historyPrefix)
		if wire {
			form = wireForm
		}
		recs = append(recs, storedRecord{order, writeAt, wire, form.decode(m.Value)})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].order < recs[j].order })
	return recs
}

func getTransitions(item map[string]types.AttributeValue) []workflow.Transition {
	return transitionsOf(getRecords(item))
}

func transitionsOf(recs []storedRecord) []workflow.Transition {
	out := make([]workflow.Transition, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Transition)
	}
	return out
}

// unixNanos is the UTC time of n nanoseconds since 1970; 0 is the zero time.
func unixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func refAttr(r *protocol.PayloadRef) *types.AttributeValueMemberM {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"pk": str(r.PK), "sk": str(r.SK), "chunks": num(int64(r.Chunks)), "bytes": num(int64(r.Bytes)),
	}}
}

func getRef(item map[string]types.AttributeValue, k string) *protocol.PayloadRef {
	m, ok := item[k].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	return &protocol.PayloadRef{PK: getS(m.Value, "pk"), SK: getS(m.Value, "sk"),
		Chunks: int(getN(m.Value, "chunks")), Bytes: int(getN(m.Value, "bytes"))}
}

func errorAttr(e *protocol.StepError) *types.AttributeValueMemberM {
	m := map[string]types.AttributeValue{"message": str(e.Message), "retryable": boolean(e.Retryable)}
	if e.ErrorType != "" {
		m["error_type"] = str(e.ErrorType)
	}
	if e.StatusCode != 0 {
		m["status_code"] = num(int64(e.StatusCode))
	}
	if e.RetryAfterSeconds > 0 {
		m["retry_after_seconds"] = &types.AttributeValueMemberN{Value: strconv.FormatFloat(e.RetryAfterSeconds, 'f', -1, 64)}
	}
	if len(e.Context) > 0 {
		m["context"] = str(string(e.Context))
	}
	if e.Compensate {
		m["compensate"] = boolean(true)
	}
	return &types.AttributeValueMemberM{Value: m}
}

func getError(item map[string]types.AttributeValue) *protocol.StepError {
	m, ok := item[aError].(*types.AttributeValueMemberM)
	if !ok {
		return nil
	}
	return &protocol.StepError{
		Message: getS(m.Value, "message"), ErrorType: getS(m.Value, "error_type"),
		Retryable: getBool(m.Value, "retryable"), StatusCode: int(getN(m.Value, "status_code")),
		RetryAfterSeconds: getF(m.Value, "retry_after_seconds"), Context: getJSON(m.Value, "context"),
		Compensate: getBool(m.Value, "compensate"),
	}
}

func taskItem(t *workflow.Task) map[string]types.AttributeValue {
	item := key(taskPK(t.UUID), skTask)
	item[aKind] = str("task")
	item["task_uuid"] = str(t.UUID)
	item["namespace"] = str(t.Namespace)
	item["name"] = str(t.Name)
	item["version"] = str(t.Version)
	item[aState] = str(string(t.State))
	item[aRev] = num(t.Rev)
	item["initiator"] = str(t.Initiator)
	item["source_system"] = str(t.SourceSystem)
	if t.Reason != "" {
		item["reason"] = str(t.Reason)
	}
	if len(t.Tags) > 0 {
		item["tags"] = stringList(t.Tags)
	}
	item["priority"] = num(int64(t.Priority))
	item["correlation_id"] = str(t.CorrelationID)
	if t.ParentCorrelationID != "" {
		item["parent_correlation_id"] = str(t.ParentCorrelationID)
	}
	if t.IdempotencyKey != "" {
		item["idempotency_key"] = str(t.IdempotencyKey)
	}
	if t.IdentityHash != "" {
		item["identity_hash"] = str(t.IdentityHash)
	}
	item[aPaused] = boolean(t.Paused)
	if t.StepUUIDsDerived {
		item["dsu"] = boolean(true)
	}
	item["created_at"] = timeAttr(t.CreatedAt)
	item[aUpdatedAt] = timeAttr(t.UpdatedAt)
	addHistory(item, t.UpdatedAt, uncorrelated(t.History))
	item["gsi1pk"] = str("NS#" + t.Namespace)
	item["gsi1sk"] = str(t.CreatedAt.UTC().Format(sortableTime) + "#" + t.UUID)
	return item
}

func decodeTask(item map[string]types.AttributeValue) (*workflow.Task, error) {
	st, err := statemachine.ParseTaskState(getS(item, aState))
	if err != nil {
		return nil, fmt.Errorf("decode task %s: %w", getS(item, "task_uuid"), err)
	}
	t := &workflow.Task{
		UUID:                getS(item, "task_uuid"),
		Namespace:           getS(item, "namespace"),
		Name:                getS(item, "name"),
		Version:             getS(item, "version"),
		State:               st,
		Rev:                 getN(item, aRev),
		Initiator:           getS(item, "initiator"),
		SourceSystem:        getS(item, "source_system"),
		Reason:              getS(item, "reason"),
		Tags:                getStrings(item, "tags"),
		Priority:            int(getN(item, "priority")),
		CorrelationID:       getS(item, "correlation_id"),
		ParentCorrelationID: getS(item, "parent_correlation_id"),
		IdempotencyKey:      getS(item, "idempotency_key"),
		IdentityHash:        getS(item, "identity_hash"),
		Paused:              getBool(item, aPaused),
		StepUUIDsDerived:    getBool(item, "dsu"),
		CreatedAt:           getTime(item, "created_at"),
		UpdatedAt:           getTime(item, aUpdatedAt),
		CompletedAt:         getTimePtr(item, aCompletedAt),
		Compensating:        getBool(item, "compensating"),
		CompensationFailed:  getStrings(item, "comp_failed"),
		History:             getTransitions(item),
	}
	for i := range t.History {
		if t.History[i].CorrelationID == "" {
			t.History[i].CorrelationID = t.CorrelationID
		}
	}
	return t, nil
}

func stepItem(taskUUID string, s *workflow.Step) map[string]types.AttributeValue {
	item := key(taskPK(taskUUID), stepSK(s.Name))
	item[aKind] = str("step")
	item["step_uuid"] = str(s.UUID)
	item["name"] = str(s.Name)
	if s.TemplateStep != s.Name {
		item[aTemplateStep] = str(s.TemplateStep)
	}
	item["handler"] = str(s.Handler)
	if s.Type != defaultStepType {
		item[aStepType] = str(s.Type)
	}
	item[aState] = str(string(s.State))
	item[aAttempts] = num(int64(s.Attempts))
	item["max_attempts"] = num(int64(s.MaxAttempts))
	item["retryable"] = boolean(s.Retryable)
	if s.TimeoutSecs > 0 {
		item["timeout_s"] = num(int64(s.TimeoutSecs))
	}
	if s.DependenciesRef != nil {
		item[aDepsRef] = refAttr(s.DependenciesRef)
	} else {
		item["deps"] = stringList(s.Dependencies)
	}
	if len(s.Satisfied) > 0 {
		item[aDone] = &types.AttributeValueMemberSS{Value: s.Satisfied}
	}
	if s.CountsDependencies {
		item[aRemaining] = num(int64(len(s.Dependencies) - len(s.Satisfied)))
	}
	if s.CreatedBy != "" {
		item["created_by"] = str(s.CreatedBy)
	}
	if s.CreatedByAttempt > 0 {
		item[aCreatedByAttempt] = num(int64(s.CreatedByAttempt))
	}
	if len(s.Inputs) > 0 {
		item["inputs"] = str(string(s.Inputs))
	}
	if len(s.History) == 0 {
		item["created_at"] = timeAttr(s.CreatedAt) // otherwise the first record's write time
	}
	addStepHistory(item, s.CreatedAt, s.History)
	return item
}

func decodeStep(item map[string]types.AttributeValue) (*workflow.Step, error) {
	st, err := statemachine.ParseStepState(getS(item, aState))
	if err != nil {
		return nil, fmt.Errorf("decode step %s: %w", getS(item, "name"), err)
	}
	recs := getRecords(item)
	derived := deriveStepTimes(recs)
	return &workflow.Step{
		TaskUUID:           taskUUIDOf(item),
		UUID:               getS(item, "step_uuid"),
		Name:               getS(item, "name"),
		TemplateStep:       templateStepOf(item),
		Handler:            getS(item, "handler"),
		Type:               stepTypeOf(item),
		State:              st,
		Attempts:           int(getN(item, aAttempts)),
		MaxAttempts:        int(getN(item, "max_attempts")),
		Retryable:          getBool(item, "retryable"),
		Released:           getBool(item, "released"),
		TimeoutSecs:        int(getN(item, "timeout_s")),
		Dependencies:       getStrings(item, "deps"),
		DependenciesRef:    getRef(item, aDepsRef),
		Satisfied:          getStrings(item, aDone),
		CountsDependencies: item[aRemaining] != nil,
		Remaining:          int(getN(item, aRemaining)),
		CreatedBy:          getS(item, "created_by"),
		CreatedByAttempt:   int(getN(item, aCreatedByAttempt)),
		Inputs:             getJSON(item, "inputs"),
		Result:             getJSON(item, aResult),
		ResultRef:          getRef(item, aResultRef),
		Error:              getError(item),
		Checkpoint:         getJSON(item, aCheckpoint),
		WorkerID:           getS(item, aWorkerID),
		CreatedAt:          timeOr(item, aCreatedAt, derived.created),
		UpdatedAt:          getTime(item, aUpdatedAt),
		EnqueuedAt:         laterTimePtr(item, aEnqueuedAt, derived.enqueued),
		ClaimedAt:          getTimePtr(item, aClaimedAt),
		LastFailure:        getTimePtr(item, aLastFailure),
		NextRetryAt:        getTimePtr(item, aNextRetryAt),
		ResentAt:           getTimePtr(item, aResentAt),
		CompletedAt:        laterTimePtr(item, aCompletedAt, derived.completed),
		SweepAt:            sortableTimePtr(item, resources.AttrSweepAt),
		History:            transitionsOf(recs),
	}, nil
}
