package dynamo_test

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/breaker"
	"github.com/tasker-go/tasker/pkg/dynamo"
)

// The breaker part of the conformance suite: guarded writes under
// concurrency, and the store against the pure model of package breaker.

// brCfg is the breaker tests' config: 3 failures, 10 s, 2 successes.
var brCfg = breaker.Config{FailureThreshold: 3, CoolDown: 10 * time.Second, SuccessThreshold: 2}

const dep = "payment-gateway"

// tripBreaker records failures at now until the breaker opens.
func tripBreaker(t *testing.T, s *dynamo.Store, name string, cfg breaker.Config, now time.Time) breaker.Record {
	t.Helper()
	for range cfg.WithDefaults().FailureThreshold {
		_, err := s.RecordBreakerFailure(t.Context(), name, cfg, now)
		require.NoError(t, err)
	}
	rec, err := s.GetBreaker(t.Context(), name)
	require.NoError(t, err)
	require.Equal(t, breaker.Open, rec.State)
	return rec
}

func TestBreakerMissingIsClosed(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	rec, err := s.GetBreaker(t.Context(), dep)
	require.NoError(t, err)
	require.Equal(t, breaker.Record{Name: dep, State: breaker.Closed}, rec)

	rec, err = s.RecordBreakerSuccess(t.Context(), dep, brCfg, t0)
	require.NoError(t, err)
	require.Equal(t, breaker.Record{Name: dep, State: breaker.Closed}, rec, "a success on a missing breaker writes nothing")

	rec, granted, err := s.TryBreakerProbe(t.Context(), dep, brCfg, t0)
	require.NoError(t, err)
	require.True(t, granted, "a closed breaker admits every call")
	require.Equal(t, breaker.Closed, rec.State)
}

func TestBreakerItem(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	s := dynamo.New(f.Env.DynamoDB, f.Names.StateTable())
	tripBreaker(t, s, dep, brCfg, t0)
	out, err := f.Env.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(f.Names.StateTable()),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "CB#" + dep}, "sk": &types.AttributeValueMemberS{Value: "CB"},
		},
	})
	require.NoError(t, err)
	require.NotNil(t, out.Item)
	for attr, want := range map[string]string{
		"kind": "breaker", "name": dep, "st": "open", "opened_at": "2031-03-04T05:06:07.123456789Z",
	} {
		v, ok := out.Item[attr].(*types.AttributeValueMemberS)
		require.True(t, ok, "attribute %s", attr)
		require.Equal(t, want, v.Value, "attribute %s", attr)
	}
	for attr, want := range map[string]string{"consecutive_failures": "0", "trips": "1", "version": "4"} {
		v, ok := out.Item[attr].(*types.AttributeValueMemberN)
		require.True(t, ok, "attribute %s", attr)
		require.Equal(t, want, v.Value, "attribute %s", attr)
	}
}

func TestBreakerConcurrentFailuresTripOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cfg := breaker.Config{FailureThreshold: 5, CoolDown: time.Minute, SuccessThreshold: 2}
	var wg sync.WaitGroup
	var sawOpen atomic.Int32
	for range 16 {
		wg.Go(func() {
			rec, err := s.RecordBreakerFailure(t.Context(), dep, cfg, t0)
			if err != nil {
				t.Error(err)
				return
			}
			if rec.State == breaker.Open {
				sawOpen.Add(1)
			}
		})
	}
	wg.Wait()
	rec, err := s.GetBreaker(t.Context(), dep)
	require.NoError(t, err)
	require.Equal(t, breaker.Open, rec.State)
	require.Equal(t, int64(1), rec.Trips, "16 concurrent failures opened the breaker more than once")
	require.Zero(t, rec.Failures)
	require.True(t, rec.OpenedAt.Equal(t0))
	require.GreaterOrEqual(t, sawOpen.Load(), int32(1))
}

func TestBreakerRecoversThroughHalfOpen(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tripBreaker(t, s, dep, brCfg, t0)

	rec, granted, err := s.TryBreakerProbe(ctx, dep, brCfg, t0.Add(brCfg.CoolDown-time.Nanosecond))
	require.NoError(t, err)
	require.False(t, granted, "probe admitted during the cool-down")
	require.Equal(t, breaker.Open, rec.State)

	cooled := t0.Add(brCfg.CoolDown)
	rec, granted, err = s.TryBreakerProbe(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.True(t, granted)
	require.Equal(t, breaker.HalfOpen, rec.State)
	require.Equal(t, 1, rec.Probes)
	require.True(t, rec.ProbeUntil.Equal(cooled.Add(brCfg.CoolDown)))

	rec, granted, err = s.TryBreakerProbe(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.True(t, granted, "second probe slot")
	require.Equal(t, 2, rec.Probes)
	_, granted, err = s.TryBreakerProbe(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.False(t, granted, "a third probe while SuccessThreshold = 2")

	rec, err = s.RecordBreakerSuccess(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.Equal(t, breaker.HalfOpen, rec.State)
	require.Equal(t, 1, rec.Successes)
	rec, err = s.RecordBreakerSuccess(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.Equal(t, breaker.Record{Name: dep, State: breaker.Closed, Trips: 1, UpdatedAt: cooled, Version: rec.Version}, rec)
}

func TestBreakerHalfOpenFailureReopens(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tripBreaker(t, s, dep, brCfg, t0)
	cooled := t0.Add(brCfg.CoolDown)
	_, granted, err := s.TryBreakerProbe(ctx, dep, brCfg, cooled)
	require.NoError(t, err)
	require.True(t, granted)
	_, err = s.RecordBreakerSuccess(ctx, dep, brCfg, cooled)
	require.NoError(t, err)

	reopened := cooled.Add(time.Second)
	rec, err := s.RecordBreakerFailure(ctx, dep, brCfg, reopened)
	require.NoError(t, err)
	require.Equal(t, breaker.Open, rec.State)
	require.True(t, rec.OpenedAt.Equal(reopened), "the cool-down starts again")
	require.Equal(t, int64(2), rec.Trips)
	require.Zero(t, rec.Successes)
	require.Zero(t, rec.Probes)

	again, err := s.RecordBreakerFailure(ctx, dep, brCfg, reopened.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, rec, again, "a failure while open changes nothing")
	_, granted, err = s.TryBreakerProbe(ctx, dep, brCfg, reopened.Add(brCfg.CoolDown/2))
	require.NoError(t, err)
	require.False(t, granted)
}

func TestBreakerProbeRoundExpires(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	tripBreaker(t, s, dep, brCfg, t0)
	cooled := t0.Add(brCfg.CoolDown)
	for range brCfg.SuccessThreshold {
		_, granted, err := s.TryBreakerProbe(ctx, dep, brCfg, cooled)
		require.NoError(t, err)
		require.True(t, granted)
	}
	// The probes never report (their Lambda timed out). Until the round
	// ends nobody else probes; then a new round begins.
	roundEnd := cooled.Add(brCfg.CoolDown)
	_, granted, err := s.TryBreakerProbe(ctx, dep, brCfg, roundEnd.Add(-time.Nanosecond))
	require.NoError(t, err)
	require.False(t, granted)
	rec, granted, err := s.TryBreakerProbe(ctx, dep, brCfg, roundEnd)
	require.NoError(t, err)
	require.True(t, granted)
	require.Equal(t, breaker.HalfOpen, rec.State)
	require.Equal(t, 1, rec.Probes)
	require.True(t, rec.ProbeUntil.Equal(roundEnd.Add(brCfg.CoolDown)))
}

func TestBreakerConcurrentProbesTakeExactlyTheSlots(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cfg := breaker.Config{FailureThreshold: 1, CoolDown: time.Second, SuccessThreshold: 3}
	tripBreaker(t, s, dep, cfg, t0)
	var wg sync.WaitGroup
	var granted atomic.Int32
	for range 16 {
		wg.Go(func() {
			_, ok, err := s.TryBreakerProbe(t.Context(), dep, cfg, t0.Add(cfg.CoolDown))
			if err != nil {
				t.Error(err)
			}
			if ok {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(3), granted.Load())
	rec, err := s.GetBreaker(t.Context(), dep)
	require.NoError(t, err)
	require.Equal(t, breaker.HalfOpen, rec.State)
	require.Equal(t, 3, rec.Probes)
}

func TestBreakerConcurrentSuccessesCloseOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	cfg := breaker.Config{FailureThreshold: 1, CoolDown: time.Second, SuccessThreshold: 4}
	tripBreaker(t, s, dep, cfg, t0)
	now := t0.Add(cfg.CoolDown)
	_, granted, err := s.TryBreakerProbe(t.Context(), dep, cfg, now)
	require.NoError(t, err)
	require.True(t, granted)
	var wg sync.WaitGroup
	var sawClosed atomic.Int32
	for range 16 {
		wg.Go(func() {
			rec, err := s.RecordBreakerSuccess(t.Context(), dep, cfg, now)
			if err != nil {
				t.Error(err)
			}
			if rec.State == breaker.Closed {
				sawClosed.Add(1)
			}
		})
	}
	wg.Wait()
	rec, err := s.GetBreaker(t.Context(), dep)
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State)
	require.Equal(t, int64(1), rec.Trips)
	require.Zero(t, rec.Successes)
	require.GreaterOrEqual(t, sawClosed.Load(), int32(1))
}

func TestBreakerSuccessResetsFailures(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	for range brCfg.FailureThreshold - 1 {
		_, err := s.RecordBreakerFailure(ctx, dep, brCfg, t0)
		require.NoError(t, err)
	}
	rec, err := s.RecordBreakerSuccess(ctx, dep, brCfg, t0)
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State)
	require.Zero(t, rec.Failures)
	rec, err = s.RecordBreakerFailure(ctx, dep, brCfg, t0)
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State, "failures are consecutive: a success in between starts over")
	require.Equal(t, 1, rec.Failures)
}

func TestBreakersAreIndependent(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tripBreaker(t, s, "a", brCfg, t0)
	rec, err := s.GetBreaker(t.Context(), "b")
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State)
}

// TestBreakerStoreMatchesModel runs random outcomes and probes through the
// store and through package breaker's pure model, one at a time, and
// requires the same record after each.
func TestBreakerStoreMatchesModel(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(7, 11))
	model := breaker.Record{Name: dep, State: breaker.Closed}
	now := t0
	seen := map[[2]breaker.State]int{}
	for i := range 400 {
		before := model.State
		now = now.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		var got breaker.Record
		var err error
		op := rng.IntN(3)
		switch op {
		case 0:
			got, err = s.RecordBreakerFailure(ctx, dep, brCfg, now)
			model = modelOutcome(t, model, breaker.OnFailure, now)
		case 1:
			got, err = s.RecordBreakerSuccess(ctx, dep, brCfg, now)
			model = modelOutcome(t, model, breaker.OnSuccess, now)
		case 2:
			var granted bool
			got, granted, err = s.TryBreakerProbe(ctx, dep, brCfg, now)
			var want bool
			model, want = modelProbe(t, model, now)
			require.Equal(t, want, granted, "op %d: probe granted", i)
		}
		require.NoError(t, err, "op %d", i)
		requireSameRecord(t, model, got, "op %d (%d) at %s", i, op, now)
		seen[[2]breaker.State{before, model.State}]++
	}
	for _, hop := range [][2]breaker.State{
		{breaker.Closed, breaker.Open}, {breaker.Open, breaker.HalfOpen},
		{breaker.HalfOpen, breaker.Closed}, {breaker.HalfOpen, breaker.Open},
	} {
		require.Positive(t, seen[hop], "the random walk never went %s -> %s", hop[0], hop[1])
	}
}

// modelOutcome is the sequential specification of RecordBreakerFailure and
// RecordBreakerSuccess.
func modelOutcome(t *testing.T, r breaker.Record, pick func(breaker.Record) (breaker.Event, bool), now time.Time) breaker.Record {
	t.Helper()
	ev, ok := pick(r)
	if !ok {
		return r
	}
	r, err := breaker.Apply(r, ev, brCfg, now)
	require.NoError(t, err)
	if ev, ok := breaker.Settle(r, brCfg); ok {
		r, err = breaker.Apply(r, ev, brCfg, now)
		require.NoError(t, err)
	}
	return r
}

// modelProbe is the sequential specification of TryBreakerProbe.
func modelProbe(t *testing.T, r breaker.Record, now time.Time) (breaker.Record, bool) {
	t.Helper()
	a := breaker.Admit(r, brCfg, now)
	if !a.Allow || !a.Probe {
		return r, a.Allow
	}
	r, err := breaker.Apply(r, breaker.EvProbe, brCfg, now)
	require.NoError(t, err)
	return r, true
}

func requireSameRecord(t *testing.T, want, got breaker.Record, msg string, args ...any) {
	t.Helper()
	for _, r := range []*breaker.Record{&want, &got} {
		r.OpenedAt, r.ProbeUntil, r.UpdatedAt = r.OpenedAt.UTC(), r.ProbeUntil.UTC(), r.UpdatedAt.UTC()
	}
	require.Equal(t, want, got, append([]any{msg}, args...)...)
}
