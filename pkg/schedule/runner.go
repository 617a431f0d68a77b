package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Entry is one schedule of one template, ready to fire.
type Entry struct {
	TemplateNamespace string
	TemplateName      string
	TemplateVersion   string
	// Name is the schedule's name, unique within its template.
	Name string
	Expr Expression
	// Context is the task context every firing starts with.
	Context json.RawMessage
	// Enabled is false for a schedule that is declared but not fired.
	Enabled bool
}

// TemplateKey returns the entry's template key, "namespace/name:version".
func (e Entry) TemplateKey() string {
	return e.TemplateNamespace + "/" + e.TemplateName + ":" + e.TemplateVersion
}

// IdempotencyKey returns the key of the task the entry creates for slot.
func (e Entry) IdempotencyKey(slot time.Time) string {
	return IdempotencyKey(e.TemplateKey(), e.Name, slot)
}

// Fire creates the task for one slot of an entry, passing idempotencyKey to
// the intake. A task that already exists for the key means the slot has
// fired before: Fire should return nil then. Any error makes the Runner try
// the slot again on its next tick.
type Fire func(ctx context.Context, e Entry, slot time.Time, idempotencyKey string) error

// Runner fires schedules locally, as EventBridge Scheduler does in AWS.
//
// The first Tick only notes the time: slots before it are not backfilled.
// Each later Tick fires the slots that came due since the previous one. A
// slot whose Fire fails is retried on every later tick until it succeeds,
// and never holds up later slots. Because tasks are keyed by slot (see
// IdempotencyKey), a slot fired twice, by two runners or across a restart,
// still creates one task.
//
// A Runner is not safe for concurrent use: tick it from one goroutine, as
// Run does. Entries are told apart by template key and name; set them
// before the first Tick. An entry added later starts at the tick that first
// sees it, and a repeated entry fires once.
type Runner struct {
	Entries []Entry
	Fire    Fire
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives a line per firing and per failure; default slog.Default().
	Logger *slog.Logger
	// MaxCatchUp bounds the slots one entry fires in one tick when ticks
	// were far apart (the machine slept, the process paused). Only the
	// latest MaxCatchUp missed slots fire, like EventBridge Scheduler with
	// its flexible time window off. Default 1.
	MaxCatchUp int

	state map[string]*entryState
}

type entryState struct {
	// last is the end of the interval already looked at.
	last time.Time
	// pending holds slots whose Fire failed, oldest first.
	pending []time.Time
}

// maxPending bounds the failed slots kept per entry; the oldest go first.
const maxPending = 100

// Tick fires every enabled entry's slots in (previous tick, now]. It
// returns the failures of this tick joined (each is also logged), the
// context's error when ctx ends mid-tick (unfired slots stay pending), or
// an error when Fire is nil.
func (r *Runner) Tick(ctx context.Context) error {
	if r.Fire == nil {
		return errors.New("schedule runner: Fire is nil")
	}
	now := r.now()
	if r.state == nil {
		r.state = make(map[string]*entryState, len(r.Entries))
	}
	var errs []error
	for _, e := range r.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.tickEntry(ctx, e, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) tickEntry(ctx context.Context, e Entry, now time.Time) error {
	id := e.TemplateKey() + "\x00" + e.Name
	st, seen := r.state[id]
	if !seen {
		r.state[id] = &entryState{last: now}
		return nil
	}
	due := st.pending
	st.pending = nil
	if now.After(st.last) {
		if e.Enabled && e.Expr != nil {
			due = append(due, r.dueSlots(e, st.last, now)...)
		}
		st.last = now
	}
	var errs []error
	for i, slot := range due {
		if err := ctx.Err(); err != nil {
			st.pending = append(st.pending, due[i:]...)
			return err
		}
		if err := r.fire(ctx, e, slot); err != nil {
			st.pending = append(st.pending, slot)
			errs = append(errs, err)
		}
	}
	if n := len(st.pending) - maxPending; n > 0 {
		r.logger().Error("schedule: dropping failed slots", "template", e.TemplateKey(), "schedule", e.Name,
			"dropped", n, "oldest_kept", st.pending[n])
		st.pending = st.pending[n:]
	}
	return errors.Join(errs...)
}

// dueSlots returns the latest MaxCatchUp slots in (last, now], logging any
// older ones it skips.
func (r *Runner) dueSlots(e Entry, last, now time.Time) []time.Time {
	limit := r.MaxCatchUp
	if limit < 1 {
		limit = 1
	}
	slots, skippedBefore := latestSlots(e.Expr, last, now, limit)
	if !skippedBefore.IsZero() {
		r.logger().Warn("schedule: skipping missed slots after a pause", "template", e.TemplateKey(), "schedule", e.Name,
			"first_skipped", skippedBefore, "firing_from", slots[0], "max_catch_up", limit)
	}
	return slots
}

func (r *Runner) fire(ctx context.Context, e Entry, slot time.Time) error {
	key := e.IdempotencyKey(slot)
	if err := r.Fire(ctx, e, slot, key); err != nil {
		r.logger().Warn("schedule: firing failed; retrying next tick", "template", e.TemplateKey(), "schedule", e.Name,
			"slot", slot, "idempotency_key", key, "error", err)
		return fmt.Errorf("fire %s %s at %s: %w", e.TemplateKey(), e.Name, slot.UTC().Format(time.RFC3339), err)
	}
	r.logger().Info("schedule fired", "template", e.TemplateKey(), "schedule", e.Name, "slot", slot, "idempotency_key", key)
	return nil
}

// Run ticks at once and then every interval (one second when every is not
// positive) until ctx is done. Failures are logged by Tick.
func (r *Runner) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		_ = r.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (r *Runner) now() time.Time {
	if r.Clock != nil {
		return r.Clock()
	}
	return time.Now()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// lookbacks are the windows, ending now, searched for the latest slots
// before falling back to the whole interval. A slot is at least a minute
// from the next, so a window holds at most its length in minutes.
var lookbacks = []time.Duration{time.Hour, 24 * time.Hour, 31 * 24 * time.Hour, 366 * 24 * time.Hour}

// latestSlots returns the latest limit slots in (after, now], earliest
// first, and the first earlier slot it left out (zero when none), without
// walking every slot of a long pause.
func latestSlots(e Expression, after, now time.Time, limit int) ([]time.Time, time.Time) {
	for _, d := range lookbacks {
		from := now.Add(-d)
		if !from.After(after) {
			break
		}
		if slots, _ := lastSlots(e, from, now, limit); len(slots) == limit {
			if first := e.Next(after); !first.IsZero() && first.Before(slots[0]) {
				return slots, first
			}
			return slots, time.Time{}
		}
	}
	slots, first := lastSlots(e, after, now, limit)
	if len(slots) > 0 && first.Before(slots[0]) {
		return slots, first
	}
	return slots, time.Time{}
}

// lastSlots walks the slots in (after, now] keeping the latest limit, and
// returns them with the first slot of all.
func lastSlots(e Expression, after, now time.Time, limit int) ([]time.Time, time.Time) {
	var (
		ring  = make([]time.Time, 0, min(limit, 64))
		first time.Time
	)
	for t := after; ; {
		next := e.Next(t)
		if next.IsZero() || next.After(now) || !next.After(t) {
			break
		}
		if first.IsZero() {
			first = next
		}
		if len(ring) == limit {
			copy(ring, ring[1:])
			ring = ring[:limit-1]
		}
		ring = append(ring, next)
		t = next
	}
	return ring, first
}
