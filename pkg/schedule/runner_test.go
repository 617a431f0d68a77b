package schedule_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/schedule"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = utc(s)
}

// firing is one call of Fire.
type firing struct {
	schedule, slot, key string
}

// recorder records firings and fails those its fail function picks.
type recorder struct {
	mu    sync.Mutex
	fired []firing
	calls int
	fail  func(name string, slot time.Time, call int) error
}

func (r *recorder) Fire(_ context.Context, e schedule.Entry, slot time.Time, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(e.Name, slot, r.calls); err != nil {
			return err
		}
	}
	r.fired = append(r.fired, firing{e.Name, slot.UTC().Format(time.RFC3339), key})
	return nil
}

func (r *recorder) slots() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.fired))
	for i, f := range r.fired {
		out[i] = f.schedule + "@" + f.slot
	}
	return out
}

func entry(t testing.TB, name, expr string) schedule.Entry {
	t.Helper()
	return schedule.Entry{
		TemplateNamespace: "scheduled_jobs", TemplateName: "daily_reporting", TemplateVersion: "1.0",
		Name: name, Expr: mustParse(t, expr, nil), Context: json.RawMessage(`{"report_types":["sales"]}`), Enabled: true,
	}
}

// newRunner returns a runner over entries with a fake clock at start, and a
// buffer collecting its log.
func newRunner(t testing.TB, start string, entries ...schedule.Entry) (*schedule.Runner, *fakeClock, *recorder, *bytes.Buffer) {
	t.Helper()
	clock := &fakeClock{now: utc(start)}
	rec := &recorder{}
	var logs bytes.Buffer
	r := &schedule.Runner{
		Entries: entries, Fire: rec.Fire, Clock: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	return r, clock, rec, &logs
}

func TestRunnerFiresOnTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clock, rec, logs := newRunner(t, "2026-01-01T10:00:30Z", entry(t, "minutely", "cron(* * * * ? *)"))

	require.NoError(t, r.Tick(ctx))
	require.Empty(t, rec.slots(), "the first tick only notes the time")

	clock.Set("2026-01-01T10:00:59Z")
	require.NoError(t, r.Tick(ctx))
	require.Empty(t, rec.slots(), "nothing is due yet")

	clock.Set("2026-01-01T10:01:00Z")
	require.NoError(t, r.Tick(ctx))
	require.Equal(t, []string{"minutely@2026-01-01T10:01:00Z"}, rec.slots())
	require.Equal(t, "schedule:scheduled_jobs/daily_reporting:1.0:minutely:2026-01-01T10:01:00Z", rec.fired[0].key)
	require.Contains(t, logs.String(), "schedule fired")

	clock.Set("2026-01-01T10:01:30Z")
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T10:02:01Z")
	require.NoError(t, r.Tick(ctx))
	require.Equal(t, []string{"minutely@2026-01-01T10:01:00Z", "minutely@2026-01-01T10:02:00Z"}, rec.slots())
}

func TestRunnerDoesNotBackfill(t *testing.T) {
	t.Parallel()
	r, clock, rec, _ := newRunner(t, "2026-01-01T10:05:00Z", entry(t, "once", "at(2026-01-01T10:00:00)"))
	require.NoError(t, r.Tick(context.Background()))
	clock.Set("2026-01-01T11:00:00Z")
	require.NoError(t, r.Tick(context.Background()))
	require.Empty(t, rec.slots(), "a slot before the first tick never fires")
}

func TestRunnerFiresASlotOnceWhenTickedTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := entry(t, "hourly", "rate(1 hour)")
	// A repeated entry shares the first one's state, so it fires once too.
	r, clock, rec, _ := newRunner(t, "2026-01-01T10:30:00Z", e, e)
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T11:00:00Z")
	require.NoError(t, r.Tick(ctx))
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T10:59:00Z") // the clock stepping back fires nothing again
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T11:00:00Z")
	require.NoError(t, r.Tick(ctx))
	require.Equal(t, []string{"hourly@2026-01-01T11:00:00Z"}, rec.slots())
}

func TestRunnerBoundsCatchUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxCatchUp int
		expr       string
		resume     string
		want       []string
	}{
		{"default: the latest slot only", 0, "rate(1 minute)", "2026-01-04T10:00:30Z",
			[]string{"m@2026-01-04T10:00:00Z"}},
		{"three", 3, "rate(1 minute)", "2026-01-04T10:00:30Z",
			[]string{"m@2026-01-04T09:58:00Z", "m@2026-01-04T09:59:00Z", "m@2026-01-04T10:00:00Z"}},
		{"sparse slots beyond the first lookback", 2, "cron(0 6 * * ? *)", "2026-01-04T10:00:00Z",
			[]string{"m@2026-01-03T06:00:00Z", "m@2026-01-04T06:00:00Z"}},
		{"fewer slots than the bound", 5, "cron(0 6 * * ? *)", "2026-01-02T10:00:00Z",
			[]string{"m@2026-01-01T06:00:00Z", "m@2026-01-02T06:00:00Z"}},
		{"a pause of years", 1, "rate(1 minute)", "2029-01-01T00:00:30Z",
			[]string{"m@2029-01-01T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r, clock, rec, logs := newRunner(t, "2026-01-01T00:00:00Z", entry(t, "m", tc.expr))
			r.MaxCatchUp = tc.maxCatchUp
			require.NoError(t, r.Tick(ctx))
			clock.Set(tc.resume)
			require.NoError(t, r.Tick(ctx))
			require.Equal(t, tc.want, rec.slots())
			if len(tc.want) > 1 && tc.maxCatchUp > len(tc.want) {
				require.NotContains(t, logs.String(), "skipping missed slots")
			} else {
				require.Contains(t, logs.String(), "skipping missed slots")
			}
		})
	}
}

func TestRunnerRetriesAFailedSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clock, rec, logs := newRunner(t, "2026-01-01T10:00:30Z", entry(t, "m", "rate(1 minute)"), entry(t, "other", "rate(1 minute)"))
	unavailable := errors.New("intake unavailable")
	attempts := 0
	rec.fail = func(name string, slot time.Time, _ int) error {
		if name == "m" && slot.Equal(utc("2026-01-01T10:01:00Z")) {
			if attempts++; attempts <= 2 {
				return unavailable // the first two attempts at m@10:01 fail
			}
		}
		return nil
	}
	require.NoError(t, r.Tick(ctx))

	clock.Set("2026-01-01T10:01:00Z")
	err := r.Tick(ctx)
	require.ErrorIs(t, err, unavailable)
	require.ErrorContains(t, err, "fire scheduled_jobs/daily_reporting:1.0 m at 2026-01-01T10:01:00Z: intake unavailable")
	require.Contains(t, logs.String(), "firing failed; retrying next tick")

	clock.Set("2026-01-01T10:02:00Z")
	require.ErrorIs(t, r.Tick(ctx), unavailable, "the retry fails again")
	require.Equal(t, []string{
		"other@2026-01-01T10:01:00Z",
		"m@2026-01-01T10:02:00Z", // later slots fire meanwhile
		"other@2026-01-01T10:02:00Z",
	}, rec.slots())

	clock.Set("2026-01-01T10:02:30Z")
	require.NoError(t, r.Tick(ctx), "the slot is not lost")
	require.Equal(t, "m@2026-01-01T10:01:00Z", rec.slots()[3])

	clock.Set("2026-01-01T10:02:40Z")
	require.NoError(t, r.Tick(ctx))
	require.Len(t, rec.slots(), 4, "a slot that succeeded is not retried")
}

func TestRunnerRetriesEvenWhenTheClockStands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, clock, rec, _ := newRunner(t, "2026-01-01T10:00:30Z", entry(t, "m", "rate(1 minute)"))
	rec.fail = func(_ string, _ time.Time, call int) error {
		if call == 1 {
			return errors.New("transient")
		}
		return nil
	}
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T10:01:00Z")
	require.Error(t, r.Tick(ctx))
	require.NoError(t, r.Tick(ctx))
	require.Equal(t, []string{"m@2026-01-01T10:01:00Z"}, rec.slots())
}

func TestRunnerSkipsDisabledEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	off := entry(t, "off", "rate(1 minute)")
	off.Enabled = false
	r, clock, rec, _ := newRunner(t, "2026-01-01T10:00:30Z", off)
	require.NoError(t, r.Tick(ctx))
	clock.Set("2026-01-01T10:05:00Z")
	require.NoError(t, r.Tick(ctx))
	require.Empty(t, rec.slots())
}

func TestRunnerKeepsSlotsWhenCancelled(t *testing.T) {
	t.Parallel()
	r, clock, rec, _ := newRunner(t, "2026-01-01T10:00:30Z", entry(t, "m", "rate(1 minute)"))
	r.MaxCatchUp = 3
	require.NoError(t, r.Tick(context.Background()))

	ctx, cancel := context.WithCancel(context.Background())
	rec.fail = func(_ string, _ time.Time, call int) error {
		if call == 1 {
			cancel() // the caller goes away during the first firing
		}
		return nil
	}
	clock.Set("2026-01-01T10:03:00Z")
	require.ErrorIs(t, r.Tick(ctx), context.Canceled)
	require.Equal(t, []string{"m@2026-01-01T10:01:00Z"}, rec.slots())

	require.NoError(t, r.Tick(context.Background()))
	require.Equal(t, []string{"m@2026-01-01T10:01:00Z", "m@2026-01-01T10:02:00Z", "m@2026-01-01T10:03:00Z"}, rec.slots())
}

func TestRunnerNeedsFire(t *testing.T) {
	t.Parallel()
	r := &schedule.Runner{Entries: []schedule.Entry{entry(t, "m", "rate(1 minute)")}}
	require.EqualError(t, r.Tick(context.Background()), "schedule runner: Fire is nil")
}

func TestRunnerRun(t *testing.T) {
	t.Parallel()
	// Each reading of the clock is a minute later than the last.
	var (
		mu   sync.Mutex
		now  = utc("2026-01-01T10:00:30Z")
		done = make(chan struct{})
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Minute)
		return now
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	rec.fail = func(_ string, _ time.Time, call int) error {
		if call == 3 {
			cancel()
		}
		return nil
	}
	r := &schedule.Runner{Entries: []schedule.Entry{entry(t, "m", "rate(1 minute)")}, Fire: rec.Fire, Clock: clock,
		Logger: slog.New(slog.DiscardHandler)}
	go func() {
		r.Run(ctx, time.Millisecond)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	require.Equal(t, []string{"m@2026-01-01T10:02:00Z", "m@2026-01-01T10:03:00Z", "m@2026-01-01T10:04:00Z"}, rec.slots())
}
