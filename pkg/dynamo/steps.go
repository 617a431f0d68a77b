package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// PutSteps creates steps that do not exist yet and leaves existing ones alone,
// so a redelivered creation never resets a step that has moved on. Steps are
// written in transactions of up to 100; a transaction that fails because some
// steps exist is retried step by step. It returns the names it created.
func (s *Store) PutSteps(ctx context.Context, taskUUID string, steps []*workflow.Step) ([]string, error) {
	return s.PutStepsGuarded(ctx, taskUUID, steps, nil)
}

// StepGuard is a condition on one step of the task that every write of a
// guarded creation checks: the step must still be in State at Attempts.
type StepGuard struct {
	Name     string
	State    statemachine.StepState
	Attempts int
}

// PutStepsGuarded is PutSteps where every transaction also checks guard (nil:
// no guard), so a decision or batchable step creates its outcome's steps
// only while the attempt that decided is still the step's current one.
// A failed guard returns an error matching workflow.ErrConflict, with the
// names created before the guard failed.
func (s *Store) PutStepsGuarded(ctx context.Context, taskUUID string, steps []*workflow.Step, guard *StepGuard) ([]string, error) {
	var (
		mu       sync.Mutex
		created  []string
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, putStepsConcurrency)
		per      = maxTransactItems
	)
	if guard != nil {
		per-- // one item of each transaction is the guard's condition check
	}
	if err := s.storeLongDependencies(ctx, taskUUID, steps); err != nil {
		return nil, err
	}
	for start := 0; start < len(steps); start += per {
		chunk := steps[start:min(start+per, len(steps))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			names, err := s.putStepChunk(ctx, taskUUID, chunk, guard)
			mu.Lock()
			defer mu.Unlock()
			created = append(created, names...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return created, firstErr
}

// MaxInlineCountedDependencies is the longest dependency list a step that
// counts its dependencies keeps on its own item; a longer one (a convergence
// after a large batch) is stored out of line, because every completed
// parent updates that item and DynamoDB bills each update by the item's
// whole size.
const MaxInlineCountedDependencies = 32

// storeLongDependencies moves the long dependency lists of counting steps
// out of line (idempotently: the payload id is the step's) and points the
// steps at them; the in-memory Dependencies stay as they are.
func (s *Store) storeLongDependencies(ctx context.Context, taskUUID string, steps []*workflow.Step) error {
	for _, st := range steps {
		if !st.CountsDependencies || len(st.Dependencies) <= MaxInlineCountedDependencies || st.DependenciesRef != nil {
			continue
		}
		body, err := json.Marshal(st.Dependencies)
		if err != nil {
			return fmt.Errorf("store dependencies of %s: %w", st.Name, err)
		}
		ref, err := s.SavePayload(ctx, taskUUID, st.Name+"#deps", body)
		if err != nil {
			return fmt.Errorf("store dependencies of %s: %w", st.Name, err)
		}
		st.DependenciesRef = ref
	}
	return nil
}

// resolveDependencies reads the dependency lists stored out of line.
func (s *Store) resolveDependencies(ctx context.Context, steps ...*workflow.Step) error {
	for _, st := range steps {
		if st == nil || st.DependenciesRef == nil || len(st.Dependencies) > 0 {
			continue
		}
		body, err := s.LoadPayload(ctx, st.DependenciesRef)
		if err != nil {
			return fmt.Errorf("dependencies of %s: %w", st.Name, err)
		}
		if err := json.Unmarshal(body, &st.Dependencies); err != nil {
			return fmt.Errorf("dependencies of %s: %w", st.Name, err)
		}
	}
	return nil
}

// putStepsConcurrency bounds the transactions PutSteps runs at once.
const putStepsConcurrency = 8

// putStepChunk writes up to 100 steps (99 and the guard) in one transaction,
// falling back to one conditional put per step (with the guard) when some
// exist.
func (s *Store) putStepChunk(ctx context.Context, taskUUID string, chunk []*workflow.Step, guard *StepGuard) ([]string, error) {
	notExists := aws.String("attribute_not_exists(pk)")
	items := make([]types.TransactWriteItem, 0, len(chunk)+1)
	for _, st := range chunk {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: stepItem(taskUUID, st), ConditionExpression: notExists}})
	}
	if guard != nil {
		items = append(items, s.guardCheck(taskUUID, guard))
	}
	var created []string
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		for _, st := range chunk {
			created = append(created, st.Name)
		}
		return created, nil
	}
	failed := cancelledAt(err)
	if failed == nil {
		return nil, mapErr("put steps", err)
	}
	if guard != nil && failed[len(failed)-1] {
		return nil, guardFailed(guard)
	}
	for _, st := range chunk {
		if err := s.putOneStep(ctx, taskUUID, st, guard); err != nil {
			if errors.Is(err, errStepExists) {
				continue
			}
			return created, err
		}
		created = append(created, st.Name)
	}
	return created, nil
}

var errStepExists = errors.New("step exists")

// putOneStep creates one step unless it exists (errStepExists), checking the
// guard in the same transaction when there is one.
func (s *Store) putOneStep(ctx context.Context, taskUUID string, st *workflow.Step, guard *StepGuard) error {
	put := &types.Put{TableName: &s.table, Item: stepItem(taskUUID, st), ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if guard == nil {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression})
		if err = mapErr("put step "+st.Name, err); isConflict(err) {
			return errStepExists
		}
		return err
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: put}, s.guardCheck(taskUUID, guard)}})
	switch failed := cancelledAt(err); {
	case err == nil:
		return nil
	case failed == nil:
		return mapErr("put step "+st.Name, err)
	case failed[1]:
		return guardFailed(guard)
	default:
		return errStepExists
	}
}

func (s *Store) guardCheck(taskUUID string, g *StepGuard) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(g.Name)),
		ConditionExpression:      aws.String("#st = :st AND #at = :at"),
		ExpressionAttributeNames: map[string]string{"#st": aState, "#at": aAttempts},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":st": str(string(g.State)), ":at": num(int64(g.Attempts)),
		},
	}}
}

func guardFailed(g *StepGuard) error {
	return fmt.Errorf("create steps: step %s is no longer %s at attempt %d: %w", g.Name, g.State, g.Attempts, workflow.ErrConflict)
}

// DeleteUnstarted removes steps that creator's attempt created and that have
// not started (still pending): the outcome of an attempt that lost its step
// to a timeout or an operator. A step another attempt re-created, or one
// that has started, is left alone. Missing steps are skipped.
func (s *Store) DeleteUnstarted(ctx context.Context, taskUUID, creator string, attempt int, names []string) error {
	for _, n := range names {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(n)),
			ConditionExpression:      aws.String("created_by = :c AND #cba = :a AND #st = :pending"),
			ExpressionAttributeNames: map[string]string{"#cba": aCreatedByAttempt, "#st": aState},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":c": str(creator), ":a": num(int64(attempt)), ":pending": str(string(statemachine.StepPending)),
			},
		})
		if err = mapErr("delete unstarted step "+n, err); err != nil && !isConflict(err) {
			return err
		}
	}
	return nil
}

// GetStep reads one step (strongly consistent); workflow.ErrNotFound when missing.
func (s *Store) GetStep(ctx context.Context, taskUUID, name string) (*workflow.Step, error) {
	st, err := s.getStepItem(ctx, taskUUID, name)
	if err != nil {
		return nil, err
	}
	return st, s.resolveDependencies(ctx, st)
}

// getStepItem reads one step item without resolving an out-of-line
// dependency list.
func (s *Store) getStepItem(ctx context.Context, taskUUID, name string) (*workflow.Step, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(name)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, mapErr("get step", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get step %s/%s: %w", taskUUID, name, workflow.ErrNotFound)
	}
	return decodeStep(out.Item)
}

// GetSteps reads the named steps of a task (strongly consistent). Missing
// steps are absent from the result map.
func (s *Store) GetSteps(ctx context.Context, taskUUID string, names []string) (map[string]*workflow.Step, error) {
	out := make(map[string]*workflow.Step, len(names))
	for start := 0; start < len(names); start += 100 {
		var keys []map[string]types.AttributeValue
		for _, n := range names[start:min(start+100, len(names))] {
			keys = append(keys, key(taskPK(taskUUID), stepSK(n)))
		}
		err := s.batchGet(ctx, "get steps", keys, func(it map[string]types.AttributeValue) error {
			st, err := s.decodeFullStep(ctx, it)
			if err == nil {
				out[st.Name] = st
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetTaskAndStep reads a task and one of its steps in one request, both
// strongly consistent: what applying a worker's result starts with. A
// missing task or step is workflow.ErrNotFound.
func (s *Store) GetTaskAndStep(ctx context.Context, taskUUID, name string) (*workflow.Task, *workflow.Step, error) {
	var (
		task *workflow.Task
		step *workflow.Step
	)
	keys := []map[string]types.AttributeValue{key(taskPK(taskUUID), skTask), key(taskPK(taskUUID), stepSK(name))}
	err := s.batchGet(ctx, "get task and step", keys, func(it map[string]types.AttributeValue) error {
		var err error
		if getS(it, "sk") == skTask {
			task, err = decodeTask(it)
		} else {
			step, err = s.decodeFullStep(ctx, it)
		}
		return err
	})
	switch {
	case err != nil:
		return nil, nil, err
	case task == nil:
		return nil, nil, fmt.Errorf("get task %s: %w", taskUUID, workflow.ErrNotFound)
	case step == nil:
		return task, nil, fmt.Errorf("get step %s/%s: %w", taskUUID, name, workflow.ErrNotFound)
	}
	return task, step, nil
}

// decodeFullStep decodes a step item and reads its dependency list when it
// is stored out of line.
func (s *Store) decodeFullStep(ctx context.Context, it map[string]types.AttributeValue) (*workflow.Step, error) {
	st, err := decodeStep(it)
	if err != nil {
		return nil, err
	}
	return st, s.resolveDependencies(ctx, st)
}

// batchGet reads up to 100 keys with strong consistency, retrying the keys
// DynamoDB leaves unprocessed, and hands each item found to fn.
func (s *Store) batchGet(ctx context.Context, what string, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return mapErr(what, err)
		}
		for _, it := range res.Responses[s.table] {
			if err := fn(it); err != nil {
				return err
			}
		}
		req = res.UnprocessedKeys
		if len(req) > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
	}
	return nil
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 6)) * 5 * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// ListSteps reads every step of a task, ordered by name.
func (s *Store) ListSteps(ctx context.Context, taskUUID string) ([]*workflow.Step, error) {
	var steps []*workflow.Step
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(taskPK(taskUUID)), ":s": str("S#")},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, mapErr("list steps", err)
		}
		for _, it := range out.Items {
			st, err := decodeStep(it)
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i].Name < steps[j].Name })
	if err := s.resolveDependencies(ctx, steps...); err != nil {
		return nil, err
	}
	workflow.DeriveSatisfied(steps)
	return steps, nil
}

// SatisfyDependency records that parent has completed on child's item (a set
// add, so redelivery is harmless) and returns the child as it now is. It
// returns workflow.ErrNotFound when the child was not created.
func (s *Store) SatisfyDependency(ctx context.Context, taskUUID, child, parent string) (*workflow.Step, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(child)),
		UpdateExpression:          aws.String("ADD done :p"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberSS{Value: []string{parent}}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		if e := mapErr("", err); isConflict(e) {
			return nil, fmt.Errorf("satisfy %s: %w", child, workflow.ErrNotFound)
		}
		return nil, mapErr("satisfy "+child, err)
	}
	return decodeStep(out.Attributes)
}

// StepChange is a guarded change of a step's state.
type StepChange struct {
	From        []statemachine.StepState // the step must be in one of these
	Attempts    int                      // and have exactly this many attempts (-1: any)
	To          statemachine.StepState
	Transitions []workflow.Transition
	At          time.Time
	// SetAttempts, when set, sets the attempt counter (claim: +1; reset: 0).
	SetAttempts *int
	// SweepAt schedules the sweeper to look at the step then (the step
	// enters the sweep index); zero removes it unless Deadline is set.
	SweepAt time.Time
	// Deadline sets sweep_at alone: the step carries its deadline but stays
	// out of the sweep index, and its task's check finds it (the claim).
	Deadline time.Time
	// Optional fields written with the change.
	WorkerID    string
	Result      json.RawMessage
	ResultRef   *protocol.PayloadRef
	Error       *protocol.StepError
	NextRetryAt *time.Time
	// Release marks a failed step as no longer holding its task open (a
	// batch worker under continue_on_failure, a compensation given up).
	Release bool
	// wireHistory writes the transitions in the wire form of
	// docs/protocol.md (the claim, which every SDK writes alike).
	wireHistory bool
}

func (s *Store) stepChangeUpdate(taskUUID, name string, c StepChange) *dynamodb.UpdateItemInput {
	var remove []string
	vals := map[string]types.AttributeValue{":to": str(string(c.To)), ":now": timeAttr(c.At)}
	names := map[string]string{}
	appendHistory := stepHistorySet
	if c.wireHistory {
		appendHistory = wireHistorySet
	}
	set := "SET st = :to, updated_at = :now" + appendHistory(c.At, c.Transitions, names, vals)
	conds := make([]string, 0, len(c.From))
	for i, f := range c.From {
		p := fmt.Sprintf(":f%d", i)
		vals[p] = str(string(f))
		conds = append(conds, "st = "+p)
	}
	cond := "(" + joinOr(conds) + ")"
	if c.Attempts >= 0 {
		cond += " AND attempts = :a"
		vals[":a"] = num(int64(c.Attempts))
	}
	if c.SetAttempts != nil {
		set += ", attempts = :sa"
		vals[":sa"] = num(int64(*c.SetAttempts))
	}
	// enqueued_at and completed_at are the write time of the records that
	// reach those states (see stepderived.go); written only by a change
	// without such a record.
	switch c.To {
	case statemachine.StepEnqueued:
		if !recordsReach(c.Transitions, c.To) {
			set += ", enqueued_at = :now"
		}
	case statemachine.StepInProgress:
		set += ", claimed_at = :now, last_attempted_at = :now"
	case statemachine.StepComplete, statemachine.StepResolvedManually:
		if !recordsReach(c.Transitions, c.To) {
			set += ", completed_at = :now"
		}
	case statemachine.StepError, statemachine.StepWaitingForRetry:
		set += ", last_failure_at = :now"
	}
	if c.Release {
		set += ", released = :rel"
		vals[":rel"] = boolean(true)
	}
	if c.WorkerID != "" {
		set += ", worker_id = :w"
		vals[":w"] = str(c.WorkerID)
	}
	if len(c.Result) > 0 {
		set += ", #res = :res"
		vals[":res"] = str(string(c.Result))
	}
	if c.ResultRef != nil {
		set += ", result_ref = :rref"
		vals[":rref"] = refAttr(c.ResultRef)
	}
	if c.Error != nil {
		set += ", #err = :err"
		vals[":err"] = errorAttr(c.Error)
	} else if c.To == statemachine.StepComplete {
		remove = append(remove, "#err")
	}
	if c.NextRetryAt != nil {
		set += ", next_retry_at = :nr"
		vals[":nr"] = timeAttr(*c.NextRetryAt)
	} else {
		remove = append(remove, "next_retry_at")
	}
	switch {
	case !c.SweepAt.IsZero():
		set += ", sweep_shard = :shard, sweep_at = :due"
		vals[":shard"] = sweepShard(taskPK(taskUUID), stepSK(name))
		vals[":due"] = sweepAt(c.SweepAt)
	case !c.Deadline.IsZero():
		set += ", sweep_at = :due"
		vals[":due"] = sweepAt(c.Deadline)
	default:
		remove = append(remove, "sweep_shard", "sweep_at")
	}
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE " + joinComma(remove)
	}
	if len(c.Result) > 0 {
		names["#res"] = aResult
	}
	if c.Error != nil || c.To == statemachine.StepComplete {
		names["#err"] = aError
	}
	in := &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(name)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	return in
}

// TransitionStep applies a guarded change to a step and returns the step as
// it now is. It returns workflow.ErrConflict when the step is not in one of
// c.From with c.Attempts attempts (a duplicate or stale message), and
// workflow.ErrNotFound when the step does not exist.
func (s *Store) TransitionStep(ctx context.Context, taskUUID, name string, c StepChange) (*workflow.Step, error) {
	out, err := s.applyStepChange(ctx, taskUUID, name, c, types.ReturnValueAllNew)
	if err != nil {
		return nil, err
	}
	st, err := decodeStep(out.Attributes)
	if err != nil {
		return nil, err
	}
	return st, s.resolveDependencies(ctx, st)
}

// ApplyStepChange is TransitionStep for a caller that does not need the
// step back: DynamoDB returns nothing, so the response stays small.
func (s *Store) ApplyStepChange(ctx context.Context, taskUUID, name string, c StepChange) error {
	_, err := s.applyStepChange(ctx, taskUUID, name, c, types.ReturnValueNone)
	return err
}

func (s *Store) applyStepChange(ctx context.Context, taskUUID, name string, c StepChange, rv types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	in := s.stepChangeUpdate(taskUUID, name, c)
	in.ReturnValues = rv
	out, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		return nil, s.explainStepFailure(ctx, taskUUID, name, mapErr(fmt.Sprintf("step %s %v->%s", name, c.From, c.To), err))
	}
	return out, nil
}

// explainStepFailure turns a conflict on a missing step into ErrNotFound.
func (s *Store) explainStepFailure(ctx context.Context, taskUUID, name string, err error) error {
	if !isConflict(err) {
		return err
	}
	if _, gerr := s.GetStep(ctx, taskUUID, name); gerr != nil {
		return gerr
	}
	return err
}

// Reschedule moves a step's sweep time while it is still in state with the
// given attempts; workflow.ErrConflict when it moved on.
func (s *Store) Reschedule(ctx context.Context, taskUUID, name string, state statemachine.StepState, attempts int, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(name)),
		UpdateExpression:    aws.String("SET sweep_shard = :shard, sweep_at = :due"),
		ConditionExpression: aws.String("st = :st AND attempts = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":shard": sweepShard(taskPK(taskUUID), stepSK(name)),
			":due": sweepAt(at), ":st": str(string(state)), ":a": num(int64(attempts))},
	})
	return mapErr("reschedule "+name, err)
}

// MarkResent records that an enqueued step's message is being sent again
// (resent_at), while the step is still enqueued with the given attempts, so
// the sweeper's next checks wait a full interval before sending it again;
// workflow.ErrConflict when the step moved on.
func (s *Store) MarkResent(ctx context.Context, taskUUID, name string, attempts int, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(name)),
		UpdateExpression:    aws.String("SET " + aResentAt + " = :now"),
		ConditionExpression: aws.String("st = :st AND attempts = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": timeAttr(now),
			":st": str(string(statemachine.StepEnqueued)), ":a": num(int64(attempts))},
	})
	return mapErr("mark resent "+name, err)
}

// SaveCheckpoint stores a batch worker's checkpoint while it is in progress
// on the given attempt; workflow.ErrConflict when it no longer is.
func (s *Store) SaveCheckpoint(ctx context.Context, taskUUID, name string, attempt int, checkpoint json.RawMessage, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(name)),
		UpdateExpression:          aws.String("SET checkpoint = :c, updated_at = :now"),
		ConditionExpression:       aws.String("st = :ip AND attempts = :a"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(string(checkpoint)), ":now": timeAttr(now), ":ip": str(string(statemachine.StepInProgress)), ":a": num(int64(attempt))},
	})
	return mapErr("save checkpoint "+name, err)
}

// DueItem is an item the sweeper should look at.
type DueItem struct {
	TaskUUID string
	StepName string // "" for a task
	State    string
	Attempts int
	DueAt    string
}

// dueProjection reads the attributes the sweep index projects, so the
// sweeper's code cannot come to rely on one the index does not carry, and
// the partition key (an index always carries the table's keys): step items
// hold their task's UUID only there.
var dueProjection, dueProjectionNames = func() (string, map[string]string) {
	names := map[string]string{}
	var parts []string
	for i, a := range append([]string{resources.AttrPK, resources.AttrSweepAt}, resources.SweepIndexAttributes...) {
		ph := fmt.Sprintf("#p%d", i)
		names[ph] = a
		parts = append(parts, ph)
	}
	return strings.Join(parts, ", "), names
}()

// Due lists items whose sweep time has passed, across all sweep shards.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]DueItem, error) {
	var items []DueItem
	// Start at a random shard, so items that stay due in one shard (a
	// paused task's retries) cannot keep a limited read from the others.
	first := rand.IntN(SweepShards)
	for i := 0; i < SweepShards && len(items) < limit; i++ {
		shard := (first + i) % SweepShards
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(resources.IndexSweep),
			KeyConditionExpression: aws.String("sweep_shard = :s AND sweep_at <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":s": str(fmt.Sprintf("SW#%d", shard)), ":now": sweepAt(now),
			},
			// Only what the index projects (and the sweep time and pk).
			ProjectionExpression:     aws.String(dueProjection),
			ExpressionAttributeNames: dueProjectionNames,
			Limit:                    aws.Int32(int32(limit - len(items))),
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, mapErr("query due items", err)
		}
		for _, it := range out.Items {
			d := DueItem{TaskUUID: taskUUIDOf(it), State: getS(it, aState), Attempts: int(getN(it, aAttempts)), DueAt: getS(it, resources.AttrSweepAt)}
			if getS(it, aKind) == "step" {
				d.StepName = getS(it, "name")
			}
			items = append(items, d)
		}
	}
	return items, nil
}

func joinOr(ss []string) string    { return join(ss, " OR ") }
func joinComma(ss []string) string { return join(ss, ", ") }

func join(ss []string, sep string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += sep
		}
		out += s
	}
	return out
}

// EnqueueOnlyChild records that parent completed on a child whose only
// dependency is parent and enqueues it, in one guarded write (the child must
// be pending with no attempts): the common case of readiness costs one
// request instead of two. It returns the child as it now is,
// workflow.ErrNotFound when the child was not created and
// workflow.ErrConflict when it is not pending (another delivery enqueued it).
func (s *Store) EnqueueOnlyChild(ctx context.Context, taskUUID, child, parent string, trs []workflow.Transition, now time.Time) (*workflow.Step, error) {
	names := map[string]string{}
	vals := map[string]types.AttributeValue{
		":to": str(string(statemachine.StepEnqueued)), ":now": timeAttr(now), ":pending": str(string(statemachine.StepPending)),
		":zero": num(0), ":p": &types.AttributeValueMemberSS{Value: []string{parent}},
	}
	set := "SET st = :to, updated_at = :now" + stepHistorySet(now, trs, names, vals)
	if !recordsReach(trs, statemachine.StepEnqueued) {
		set += ", enqueued_at = :now" // otherwise the records' write time
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(child)),
		UpdateExpression:          aws.String(set + " ADD done :p"),
		ConditionExpression:       aws.String("st = :pending AND attempts = :zero"),
		ExpressionAttributeNames:  nilIfEmpty(names),
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, s.explainStepFailure(ctx, taskUUID, child, mapErr("enqueue "+child, err))
	}
	return decodeStep(out.Attributes)
}

// OpenSteps counts a task's steps that still hold it open: every step that
// is not complete, resolved manually or cancelled, and not a failure the
// task has let go of (released). With onlyType set it counts only steps of
// that type. It reads the task's step items (keys, state and type only), so
// the engine calls it only when a step that completes has no dependents.
func (s *Store) OpenSteps(ctx context.Context, taskUUID, onlyType string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(taskPK(taskUUID)), ":s": str("S#")},
		ProjectionExpression:      aws.String("st, " + aStepType + ", released"),
		ConsistentRead:            aws.Bool(true),
	}
	open := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, mapErr("count open steps", err)
		}
		for _, it := range out.Items {
			if onlyType != "" && stepTypeOf(it) != onlyType {
				continue
			}
			switch statemachine.StepState(getS(it, aState)) {
			case statemachine.StepComplete, statemachine.StepResolvedManually, statemachine.StepCancelled:
				continue
			}
			if getBool(it, "released") {
				continue
			}
			open++
		}
		if len(out.LastEvaluatedKey) == 0 {
			return open, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// SatisfyCounted records that parent completed on a child that counts its
// dependencies: a marker item per (child, parent) makes the decrement happen
// once however often it is delivered, and keeps the child's item small
// whatever its fan-in. It returns the child as it now is and
// workflow.ErrNotFound when the child was not created.
func (s *Store) SatisfyCounted(ctx context.Context, taskUUID, child, parent string) (*workflow.Step, error) {
	marker := key(taskPK(taskUUID), "M#"+child+"#"+parent)
	marker[aKind] = str("dep_marker")
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: marker, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: &s.table, Key: key(taskPK(taskUUID), stepSK(child)),
			UpdateExpression:          aws.String("SET remaining = remaining - :one"),
			ConditionExpression:       aws.String("attribute_exists(remaining)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
	}})
	if err != nil {
		failed := cancelledAt(err)
		switch {
		case len(failed) == 2 && failed[1]:
			return nil, fmt.Errorf("satisfy %s: %w", child, workflow.ErrNotFound)
		case len(failed) == 2 && failed[0]:
			// Already counted by an earlier delivery.
		default:
			return nil, mapErr("satisfy "+child, err)
		}
	}
	// Read the counter; the dependency list (maybe thousands of names,
	// stored out of line) only once the step is ready.
	st, err := s.getStepItem(ctx, taskUUID, child)
	if err != nil || !st.DependenciesMet() {
		return st, err
	}
	return st, s.resolveDependencies(ctx, st)
}
