package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/pkg/breaker"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// A circuit breaker is one item, CB#<name> / CB, created by its first
// failure (a missing item is a closed breaker). Times the guards compare
// (opened_at, probe_until) are stored in the sortable fixed-width format.
const (
	skBreaker     = "CB"
	aBrFailures   = "consecutive_failures"
	aBrSuccesses  = "half_open_successes"
	aBrProbes     = "probes"
	aBrOpenedAt   = "opened_at"
	aBrProbeUntil = "probe_until"
	aBrTrips      = "trips"
	aBrVersion    = "version"
)

// maxBreakerWrites bounds the guarded writes of one breaker operation; each
// lost guard means a concurrent writer moved the breaker on.
const maxBreakerWrites = 8

func breakerPK(name string) string { return "CB#" + name }

// GetBreaker reads a circuit breaker (strongly consistent). A breaker with
// no item is closed: GetBreaker returns a closed breaker.Record, not
// workflow.ErrNotFound.
func (s *Store) GetBreaker(ctx context.Context, name string) (breaker.Record, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(breakerPK(name), skBreaker), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return breaker.Record{Name: name, State: breaker.Closed}, mapErr("get breaker "+name, err)
	}
	return decodeBreaker(name, out.Item)
}

// RecordBreakerFailure records a failed call of the breaker's dependency:
// closed, it counts the failure and trips the breaker once the count
// reaches cfg.FailureThreshold; half-open, it opens the breaker again;
// open, it changes nothing. Each step is one write guarded by the state it
// starts from, so of many concurrent failures exactly one trips the
// breaker. It returns the record after the change, or workflow.ErrConflict
// when concurrent writers kept moving the breaker on.
func (s *Store) RecordBreakerFailure(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, error) {
	guess := breaker.Record{Name: name, State: breaker.Closed}
	return s.settleBreaker(ctx, "record breaker failure", name, cfg, now, guess, breaker.OnFailure)
}

// RecordBreakerSuccess records a successful call: closed, it resets the
// failure count (no write when there is none); half-open, it counts a
// successful probe and closes the breaker once the count reaches
// cfg.SuccessThreshold; open, it changes nothing. It returns the record
// after the change, or workflow.ErrConflict when concurrent writers kept
// moving the breaker on.
func (s *Store) RecordBreakerSuccess(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, error) {
	guess := breaker.Record{Name: name, State: breaker.Closed, Failures: 1}
	return s.settleBreaker(ctx, "record breaker success", name, cfg, now, guess, breaker.OnSuccess)
}

// TryBreakerProbe asks to make a call through an open or half-open breaker.
// The first caller after the cool-down moves it to half-open and holds the
// first probe slot; later callers take the remaining slots
// (cfg.SuccessThreshold per round, across all processes) or, once the round
// has ended without a verdict, start a new one. granted is true for a
// probe slot, and for a breaker that turns out to be closed; false with the
// current record otherwise.
func (s *Store) TryBreakerProbe(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, bool, error) {
	cfg = cfg.WithDefaults()
	cur := breaker.Record{Name: name, State: breaker.Open} // guess: open, cool-down over
	for range maxBreakerWrites {
		a := breaker.Admit(cur, cfg, now)
		if !a.Allow || !a.Probe {
			return cur, a.Allow, nil
		}
		rec, applied, err := s.applyBreaker(ctx, "probe breaker", name, breaker.EvProbe, cur, cfg, now)
		if err != nil || applied {
			return rec, err == nil, err
		}
		cur = rec
	}
	return cur, false, nil
}

// settleBreaker applies the event pick chooses for the breaker (starting
// from a guess of its record, so the common case needs no read), then the
// threshold transition the counted record calls for.
func (s *Store) settleBreaker(ctx context.Context, op, name string, cfg breaker.Config, now time.Time,
	cur breaker.Record, pick func(breaker.Record) (breaker.Event, bool)) (breaker.Record, error) {
	cfg = cfg.WithDefaults()
	for range maxBreakerWrites {
		ev, ok := pick(cur)
		if !ok {
			return cur, nil
		}
		rec, applied, err := s.applyBreaker(ctx, op, name, ev, cur, cfg, now)
		if err != nil {
			return rec, err
		}
		if !applied {
			cur = rec
			continue
		}
		if next, ok := breaker.Settle(rec, cfg); ok {
			rec, _, err = s.applyBreaker(ctx, op, name, next, rec, cfg, now)
		}
		return rec, err
	}
	return cur, fmt.Errorf("%s %s: %d guarded writes lost to concurrent ones: %w", op, name, maxBreakerWrites, workflow.ErrConflict)
}

// applyBreaker makes the guarded write for ev from the record cur. It
// returns the record after the write and true, or the current record and
// false when the guard no longer holds.
func (s *Store) applyBreaker(ctx context.Context, op, name string, ev breaker.Event, cur breaker.Record,
	cfg breaker.Config, now time.Time) (breaker.Record, bool, error) {
	in, err := breakerUpdate(name, ev, cur, cfg, now)
	if err != nil {
		return cur, false, fmt.Errorf("%s %s: %w", op, name, err)
	}
	in.TableName, in.Key = &s.table, key(breakerPK(name), skBreaker)
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	out, err := s.db.UpdateItem(ctx, in)
	if err == nil {
		rec, err := decodeBreaker(name, out.Attributes)
		return rec, err == nil, err
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return cur, false, mapErr(fmt.Sprintf("%s %s (%s)", op, name, ev), err)
	}
	if ccf.Item != nil {
		rec, err := decodeBreaker(name, ccf.Item)
		return rec, false, err
	}
	rec, err := s.GetBreaker(ctx, name) // the backend does not return the item with the failed guard
	return rec, false, err
}

// breakerUpdate builds the update for ev from cur: breaker.Apply's change,
// conditional on breaker.Allowed's guard.
func breakerUpdate(name string, ev breaker.Event, cur breaker.Record, cfg breaker.Config, now time.Time) (*dynamodb.UpdateItemInput, error) {
	from := cur.State
	if from == "" {
		from = breaker.Closed
	}
	to, err := breaker.Next(from, ev)
	if err != nil {
		return nil, err
	}
	e := &breakerExpr{names: map[string]string{}, vals: map[string]types.AttributeValue{}}
	st := e.n(aState)
	e.set(aUpdatedAt, timeAttr(now))
	e.add(aBrVersion, 1)
	if to != from {
		e.set(aState, str(string(to)))
	}
	stateIs := func(s breaker.State) string { return st + " = " + e.v(string(s), str(string(s))) }
	var cond string
	switch {
	case ev == breaker.EvFailure:
		e.set(aState, str(string(to)))
		e.set(aKind, str("breaker"))
		e.set("name", str(name))
		e.add(aBrFailures, 1)
		cond = "attribute_not_exists(" + e.n("pk") + ") OR " + stateIs(breaker.Closed)
	case ev == breaker.EvSuccess && from == breaker.Closed:
		e.set(aBrFailures, num(0))
		cond = stateIs(breaker.Closed) + " AND " + e.n(aBrFailures) + " > " + e.v("zero", num(0))
	case ev == breaker.EvSuccess:
		e.add(aBrSuccesses, 1)
		cond = stateIs(breaker.HalfOpen)
	case ev == breaker.EvTrip || ev == breaker.EvReopen:
		e.set(aBrOpenedAt, sweepAt(now))
		e.set(aBrFailures, num(0))
		e.set(aBrSuccesses, num(0))
		e.set(aBrProbes, num(0))
		e.add(aBrTrips, 1)
		e.remove(aBrProbeUntil)
		cond = stateIs(from)
		if ev == breaker.EvTrip {
			cond += " AND " + e.n(aBrFailures) + " >= " + e.v("threshold", num(int64(cfg.FailureThreshold)))
		}
	case ev == breaker.EvProbe && from == breaker.Open:
		e.set(aBrSuccesses, num(0))
		e.set(aBrProbes, num(1))
		e.set(aBrProbeUntil, sweepAt(now.Add(cfg.CoolDown)))
		cond = stateIs(breaker.Open) + " AND " + e.n(aBrOpenedAt) + " <= " + e.v("cutoff", sweepAt(now.Add(-cfg.CoolDown)))
	case ev == breaker.EvProbe && cur.Probes < cfg.SuccessThreshold:
		e.add(aBrProbes, 1)
		cond = stateIs(breaker.HalfOpen) + " AND " + e.n(aBrProbes) + " < " + e.v("slots", num(int64(cfg.SuccessThreshold)))
	case ev == breaker.EvProbe:
		e.set(aBrProbes, num(1))
		e.set(aBrProbeUntil, sweepAt(now.Add(cfg.CoolDown)))
		cond = stateIs(breaker.HalfOpen) + " AND " + e.n(aBrProbeUntil) + " <= " + e.v("round_end", sweepAt(now))
	case ev == breaker.EvClose:
		e.set(aBrFailures, num(0))
		e.set(aBrSuccesses, num(0))
		e.set(aBrProbes, num(0))
		e.remove(aBrOpenedAt)
		e.remove(aBrProbeUntil)
		cond = stateIs(breaker.HalfOpen) + " AND " + e.n(aBrSuccesses) + " >= " + e.v("threshold", num(int64(cfg.SuccessThreshold)))
	default:
		return nil, fmt.Errorf("no write for breaker event %q from %q", ev, from)
	}
	return &dynamodb.UpdateItemInput{
		UpdateExpression:          aws.String(e.expression()),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  e.names,
		ExpressionAttributeValues: e.vals,
	}, nil
}

// breakerExpr collects an update's clauses and exactly the placeholders
// they use (DynamoDB rejects unused ones).
type breakerExpr struct {
	names            map[string]string
	vals             map[string]types.AttributeValue
	sets, adds, rems []string
	setAt            map[string]int
}

// n returns the placeholder of attribute attr.
func (e *breakerExpr) n(attr string) string {
	p := "#" + strings.ReplaceAll(attr, "_", "")
	e.names[p] = attr
	return p
}

// v returns the placeholder of value v named k.
func (e *breakerExpr) v(k string, v types.AttributeValue) string {
	p := ":" + k
	e.vals[p] = v
	return p
}

// set assigns v to attr; a later set of the same attribute replaces it.
func (e *breakerExpr) set(attr string, v types.AttributeValue) {
	clause := e.n(attr) + " = " + e.v("set_"+strings.ReplaceAll(attr, "_", ""), v)
	if e.setAt == nil {
		e.setAt = map[string]int{}
	}
	if i, ok := e.setAt[attr]; ok {
		e.sets[i] = clause
		return
	}
	e.setAt[attr] = len(e.sets)
	e.sets = append(e.sets, clause)
}

// add adds n to the number attr (from zero if it is missing).
func (e *breakerExpr) add(attr string, n int64) {
	e.adds = append(e.adds, e.n(attr)+" "+e.v("add_"+strings.ReplaceAll(attr, "_", ""), num(n)))
}

// remove deletes attr.
func (e *breakerExpr) remove(attr string) { e.rems = append(e.rems, e.n(attr)) }

func (e *breakerExpr) expression() string {
	var parts []string
	if len(e.sets) > 0 {
		parts = append(parts, "SET "+strings.Join(e.sets, ", "))
	}
	if len(e.adds) > 0 {
		parts = append(parts, "ADD "+strings.Join(e.adds, ", "))
	}
	if len(e.rems) > 0 {
		parts = append(parts, "REMOVE "+strings.Join(e.rems, ", "))
	}
	return strings.Join(parts, " ")
}

// decodeBreaker decodes a breaker item; a nil item is a closed breaker.
func decodeBreaker(name string, item map[string]types.AttributeValue) (breaker.Record, error) {
	rec := breaker.Record{Name: name, State: breaker.Closed}
	if item == nil {
		return rec, nil
	}
	st, err := breaker.ParseState(getS(item, aState))
	if err != nil {
		return rec, fmt.Errorf("decode breaker %s: %w", name, err)
	}
	rec.State = st
	rec.Failures = int(getN(item, aBrFailures))
	rec.Successes = int(getN(item, aBrSuccesses))
	rec.Probes = int(getN(item, aBrProbes))
	rec.OpenedAt = getSortableTime(item, aBrOpenedAt)
	rec.ProbeUntil = getSortableTime(item, aBrProbeUntil)
	rec.Trips = getN(item, aBrTrips)
	rec.UpdatedAt = getTime(item, aUpdatedAt)
	rec.Version = getN(item, aBrVersion)
	return rec, nil
}

// getSortableTime reads a time written by sweepAt; zero when missing.
func getSortableTime(item map[string]types.AttributeValue, k string) time.Time {
	t, err := time.Parse(sortableTime, getS(item, k))
	if err != nil {
		return time.Time{}
	}
	return t
}

// sortableTimePtr is getSortableTime, nil when missing.
func sortableTimePtr(item map[string]types.AttributeValue, k string) *time.Time {
	t := getSortableTime(item, k)
	if t.IsZero() {
		return nil
	}
	return &t
}
