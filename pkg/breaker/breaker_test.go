package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/breaker"
	"github.com/tasker-go/tasker/pkg/dynamo"
)

// These tests run Breaker over the real store on the embedded emulator.
// Several Breakers over one store stand for several Lambda instances.

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

const dep = "payment-gateway"

var errDown = errors.New("gateway: 503 service unavailable")

// clock is a test clock shared by the "instances".
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingStore counts the calls that reach the store and can fail reads.
type countingStore struct {
	breaker.Store
	gets, writes atomic.Int32
	failGets     atomic.Bool
}

var errStoreDown = errors.New("dynamodb unavailable")

func (s *countingStore) GetBreaker(ctx context.Context, name string) (breaker.Record, error) {
	s.gets.Add(1)
	if s.failGets.Load() {
		return breaker.Record{}, errStoreDown
	}
	return s.Store.GetBreaker(ctx, name)
}

func (s *countingStore) RecordBreakerFailure(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, error) {
	s.writes.Add(1)
	return s.Store.RecordBreakerFailure(ctx, name, cfg, now)
}

func (s *countingStore) RecordBreakerSuccess(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, error) {
	s.writes.Add(1)
	return s.Store.RecordBreakerSuccess(ctx, name, cfg, now)
}

func (s *countingStore) TryBreakerProbe(ctx context.Context, name string, cfg breaker.Config, now time.Time) (breaker.Record, bool, error) {
	s.writes.Add(1)
	return s.Store.TryBreakerProbe(ctx, name, cfg, now)
}

func newStore(t *testing.T) *countingStore {
	t.Helper()
	f := localtest.New(t)
	return &countingStore{Store: dynamo.New(f.Env.DynamoDB, f.Names.StateTable())}
}

func newBreaker(t *testing.T, s breaker.Store, cfg breaker.Config, opts ...breaker.Option) *breaker.Breaker {
	t.Helper()
	b, err := breaker.New(s, dep, cfg, opts...)
	require.NoError(t, err)
	return b
}

// call is a protected call's outcome as the test sees it.
type call struct {
	reached bool // the dependency was called
	err     error
}

// do calls dependency through b and reports whether it was reached.
func do(ctx context.Context, b *breaker.Breaker, dependency func() error) call {
	var c call
	c.err = b.Do(ctx, func(context.Context) error {
		c.reached = true
		return dependency()
	})
	return c
}

func failing() error { return errDown }
func healthy() error { return nil }

func TestOpenBreakerRejectsWithoutCalling(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	cfg := breaker.Config{FailureThreshold: 2, CoolDown: 30 * time.Second, SuccessThreshold: 2}
	b := newBreaker(t, s, cfg, breaker.WithClock(clk.Now))
	ctx := t.Context()

	for range 2 {
		c := do(ctx, b, failing)
		require.True(t, c.reached)
		require.ErrorIs(t, c.err, errDown, "Do returns the call's own error")
	}
	clk.Advance(12 * time.Second)
	c := do(ctx, b, failing)
	require.False(t, c.reached, "an open breaker called the dependency")
	var oe *breaker.OpenError
	require.ErrorAs(t, c.err, &oe)
	require.ErrorIs(t, c.err, breaker.ErrOpen)
	require.Equal(t, breaker.OpenError{Name: dep, State: breaker.Open, RetryAfter: 18 * time.Second}, *oe)
}

func TestBreakerRecoversAfterCoolDown(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	cfg := breaker.Config{FailureThreshold: 1, CoolDown: 10 * time.Second, SuccessThreshold: 2}
	b := newBreaker(t, s, cfg, breaker.WithClock(clk.Now))
	ctx := t.Context()
	do(ctx, b, failing)

	clk.Advance(cfg.CoolDown)
	for i := range cfg.SuccessThreshold {
		c := do(ctx, b, healthy)
		require.True(t, c.reached, "probe %d", i+1)
		require.NoError(t, c.err)
	}
	rec, err := b.Record(ctx)
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State)
	require.Equal(t, int64(1), rec.Trips)
}

func TestFailedProbeReopens(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	cfg := breaker.Config{FailureThreshold: 1, CoolDown: 10 * time.Second, SuccessThreshold: 2}
	b := newBreaker(t, s, cfg, breaker.WithClock(clk.Now))
	ctx := t.Context()
	do(ctx, b, failing)
	clk.Advance(cfg.CoolDown)
	require.NoError(t, do(ctx, b, healthy).err)
	require.ErrorIs(t, do(ctx, b, failing).err, errDown)

	c := do(ctx, b, healthy)
	require.False(t, c.reached)
	var oe *breaker.OpenError
	require.ErrorAs(t, c.err, &oe)
	require.Equal(t, cfg.CoolDown, oe.RetryAfter, "the failed probe starts a new cool-down")
	rec, err := b.Record(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), rec.Trips)
}

// TestFlappingDependency is the acceptance test: a dependency that fails in
// bursts and recovers, called every 250 ms by two instances sharing the
// breaker. The breaker opens in each burst, rejected calls never reach the
// dependency, and it closes again after each recovery.
func TestFlappingDependency(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	cfg := breaker.Config{FailureThreshold: 3, CoolDown: 5 * time.Second, SuccessThreshold: 2}
	instances := []*breaker.Breaker{
		newBreaker(t, s, cfg, breaker.WithClock(clk.Now)),
		newBreaker(t, s, cfg, breaker.WithClock(clk.Now)),
	}
	// down reports whether the dependency fails at offset d from t0.
	down := func(d time.Duration) bool {
		return d >= 10*time.Second && d < 30*time.Second || d >= 40*time.Second && d < 50*time.Second
	}
	var reachedDown, reachedUp, rejected int
	var lastRejection time.Duration
	ctx := t.Context()
	const tick = 250 * time.Millisecond
	for d := time.Duration(0); d < 70*time.Second; d += tick {
		for i, b := range instances {
			dependency := healthy
			if down(d) {
				dependency = failing
			}
			c := do(ctx, b, dependency)
			var oe *breaker.OpenError
			switch {
			case errors.As(c.err, &oe):
				require.False(t, c.reached, "instance %d at %s: a rejected call reached the dependency", i, d)
				require.Positive(t, oe.RetryAfter, "at %s", d)
				require.LessOrEqual(t, oe.RetryAfter, cfg.CoolDown, "at %s", d)
				rejected++
				lastRejection = d
			case c.err != nil:
				require.ErrorIs(t, c.err, errDown, "instance %d at %s", i, d)
				require.True(t, down(d), "instance %d at %s: the call failed while the dependency was up", i, d)
				reachedDown++
			default:
				require.False(t, down(d))
				reachedUp++
			}
		}
		clk.Advance(tick)
	}
	rec, err := instances[0].Record(ctx)
	require.NoError(t, err)
	t.Logf("reached while down %d, reached while up %d, rejected %d, trips %d, last rejection at %s",
		reachedDown, reachedUp, rejected, rec.Trips, lastRejection)

	// 30 s of outage at two calls per tick is 240 calls; without the
	// breaker every one would reach the dependency. With it: the failures
	// that trip it, calls of the other instance whose view is up to a cache
	// TTL old, and at most SuccessThreshold probes per cool-down.
	require.LessOrEqual(t, reachedDown, 40, "the breaker let too many calls through to a failing dependency")
	require.GreaterOrEqual(t, rejected, 180)
	require.GreaterOrEqual(t, rec.Trips, int64(2), "the breaker did not open in each burst")
	require.Equal(t, breaker.Closed, rec.State, "the breaker did not recover")
	require.Less(t, lastRejection, 50*time.Second+cfg.CoolDown+2*time.Second, "recovery took longer than a cool-down")
}

func TestHalfOpenAdmitsOnlyProbes(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	cfg := breaker.Config{FailureThreshold: 1, CoolDown: 10 * time.Second, SuccessThreshold: 1}
	a := newBreaker(t, s, cfg, breaker.WithClock(clk.Now), breaker.WithCacheTTL(0))
	b := newBreaker(t, s, cfg, breaker.WithClock(clk.Now), breaker.WithCacheTTL(0))
	ctx := t.Context()
	do(ctx, a, failing)
	clk.Advance(cfg.CoolDown)

	inProbe, release := make(chan struct{}), make(chan struct{})
	done := make(chan call)
	go func() {
		done <- do(ctx, a, func() error {
			close(inProbe)
			<-release
			return nil
		})
	}()
	<-inProbe
	c := do(ctx, b, healthy)
	require.False(t, c.reached, "a second call went through while the only probe was in flight")
	var oe *breaker.OpenError
	require.ErrorAs(t, c.err, &oe)
	require.Equal(t, breaker.HalfOpen, oe.State)
	require.Equal(t, cfg.CoolDown, oe.RetryAfter, "the rest of the probe round")

	close(release)
	require.NoError(t, (<-done).err)
	c = do(ctx, b, healthy)
	require.True(t, c.reached, "the successful probe closed the breaker")
	require.NoError(t, c.err)
}

func TestErrorsThatAreNotFailures(t *testing.T) {
	t.Parallel()
	errDeclined := errors.New("card declined")
	s := newStore(t)
	cfg := breaker.Config{FailureThreshold: 1, IsFailure: func(err error) bool { return errors.Is(err, errDown) }}
	b := newBreaker(t, s, cfg)
	def := newBreaker(t, s, breaker.Config{FailureThreshold: 1})
	ctx := t.Context()
	for range 3 {
		require.ErrorIs(t, do(ctx, b, func() error { return errDeclined }).err, errDeclined)
		require.ErrorIs(t, do(ctx, def, func() error { return context.Canceled }).err, context.Canceled)
	}
	require.Zero(t, s.writes.Load(), "errors IsFailure rejects were written")
	rec, err := s.GetBreaker(ctx, dep)
	require.NoError(t, err)
	require.Equal(t, breaker.Closed, rec.State)
	require.Zero(t, rec.Version)
}

func TestOutcomeIsRecordedAfterTheCallsContextEnds(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	b := newBreaker(t, s, breaker.Config{FailureThreshold: 1})
	ctx, cancel := context.WithCancel(t.Context())
	err := b.Do(ctx, func(context.Context) error {
		cancel()
		return errDown
	})
	require.ErrorIs(t, err, errDown)
	rec, err := s.GetBreaker(t.Context(), dep)
	require.NoError(t, err)
	require.Equal(t, breaker.Open, rec.State)
}

func TestCacheSavesReadsAndHealthyCallsWriteNothing(t *testing.T) {
	t.Parallel()
	s, clk := newStore(t), newClock()
	b := newBreaker(t, s, breaker.Config{}, breaker.WithClock(clk.Now))
	ctx := t.Context()
	for range 50 {
		require.NoError(t, do(ctx, b, healthy).err)
		clk.Advance(time.Second / 50)
	}
	require.Equal(t, int32(1), s.gets.Load(), "reads within the cache TTL")
	require.Zero(t, s.writes.Load(), "healthy calls wrote to the store")
	for range 50 {
		require.NoError(t, do(ctx, b, healthy).err)
		clk.Advance(time.Second / 50)
	}
	require.Equal(t, int32(2), s.gets.Load(), "one read per TTL")

	require.ErrorIs(t, do(ctx, b, failing).err, errDown)
	require.Equal(t, int32(1), s.writes.Load(), "a failure is one write")
	gets := s.gets.Load()
	require.NoError(t, do(ctx, b, healthy).err)
	require.Equal(t, int32(2), s.writes.Load(), "a success after a failure resets the count")
	require.NoError(t, do(ctx, b, healthy).err)
	require.Equal(t, int32(2), s.writes.Load())
	require.Equal(t, gets, s.gets.Load(), "writes refresh the cache")
}

func TestStoreReadErrorDoesNotCall(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.failGets.Store(true)
	b := newBreaker(t, s, breaker.Config{})
	c := do(t.Context(), b, healthy)
	require.False(t, c.reached)
	require.ErrorIs(t, c.err, errStoreDown)
	require.NotErrorIs(t, c.err, breaker.ErrOpen)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	long := string(make([]byte, breaker.MaxNameBytes+1))
	for name, tc := range map[string]struct {
		store breaker.Store
		name  string
		cfg   breaker.Config
	}{
		"empty name":    {s, "", breaker.Config{}},
		"long name":     {s, long, breaker.Config{}},
		"no store":      {nil, dep, breaker.Config{}},
		"negative cool": {s, dep, breaker.Config{CoolDown: -time.Second}},
	} {
		_, err := breaker.New(tc.store, tc.name, tc.cfg)
		require.ErrorIs(t, err, breaker.ErrInvalidConfig, name)
	}
	b, err := breaker.New(s, dep, breaker.Config{})
	require.NoError(t, err)
	require.Equal(t, dep, b.Name())
	require.Equal(t, breaker.DefaultFailureThreshold, b.Config().FailureThreshold)
}
