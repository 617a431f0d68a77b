package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// HandleOrchestration applies one orchestration message (start a task, retry
// a step, re-drive a task). Messages about tasks or steps that moved on are
// dropped.
func (e *Engine) HandleOrchestration(ctx context.Context, m *protocol.OrchestrationMessage) error {
	var err error
	switch m.Kind {
	case protocol.KindStartTask:
		err = e.StartTask(ctx, m.TaskUUID)
	case protocol.KindRetryStep:
		err = e.retryStep(ctx, m.TaskUUID, m.StepName, m.Attempt)
	case protocol.KindRedriveTask:
		err = e.RedriveTask(ctx, m.TaskUUID)
	case protocol.KindCheckTask:
		err = e.checkTask(ctx, m)
	case protocol.KindFireSchedule:
		slot, perr := time.Parse(time.RFC3339, m.Slot)
		if perr != nil {
			return nil // Validate rejects it first
		}
		_, err = e.FireSchedule(ctx, m.Namespace, m.Name, m.Version, m.Schedule, slot)
		if errors.Is(err, ErrUnknownSchedule) || errors.Is(err, ErrTemplateNotFound) {
			e.log.ErrorContext(ctx, "fire_schedule for an unknown schedule dropped", "template", m.Namespace+"/"+m.Name+":"+m.Version,
				"schedule", m.Schedule, "error", err)
			return nil
		}
	}
	if errors.Is(err, workflow.ErrNotFound) {
		e.log.WarnContext(ctx, "orchestration message for missing task or step dropped", "task_uuid", m.TaskUUID, "kind", m.Kind, "step", m.StepName)
		return nil
	}
	return err
}

// retryStep enqueues a step waiting for retry once its retry time has come.
func (e *Engine) retryStep(ctx context.Context, taskUUID, stepName string, attempt int) error {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return err
	}
	step, err := e.store.GetStep(ctx, taskUUID, stepName)
	if err != nil {
		return err
	}
	if step.State != statemachine.StepWaitingForRetry || step.Attempts != attempt {
		return nil
	}
	if step.NextRetryAt != nil {
		if wait := step.NextRetryAt.Sub(e.now()); wait > 50*time.Millisecond {
			return e.sendRetry(ctx, run, step)
		}
	}
	if !run.acceptingStep(step) {
		return nil // paused or finished: a re-drive picks it up
	}
	return e.enqueueSteps(ctx, run, []*workflow.Step{step}, nil)
}

// RedriveTask re-examines every step of a task and enqueues those that are
// ready: pending steps whose dependencies are met and steps whose retry is
// due. Operators' manual actions and resumes end with it. Its cost grows with
// the size of the task, so the hot path never uses it.
func (e *Engine) RedriveTask(ctx context.Context, taskUUID string) error {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		return err
	}
	if !run.accepting() && !run.task.Compensating {
		return nil
	}
	steps, err := e.store.ListSteps(ctx, taskUUID)
	if err != nil {
		return err
	}
	now := e.now()
	byName := make(map[string]*workflow.Step, len(steps))
	for _, s := range steps {
		byName[s.Name] = s
	}
	var ready []*workflow.Step
	for _, s := range steps {
		if !run.acceptingStep(s) {
			continue
		}
		if s.State == statemachine.StepPending && !s.DependenciesMet() {
			if s, err = e.catchUpDependencies(ctx, run, s, byName); err != nil {
				return err
			}
		}
		switch {
		case s.State == statemachine.StepPending && s.DependenciesMet():
			ready = append(ready, s)
		case s.State == statemachine.StepWaitingForRetry && (s.NextRetryAt == nil || !s.NextRetryAt.After(now)):
			ready = append(ready, s)
		}
	}
	if err := e.enqueueSteps(ctx, run, ready, nil); err != nil {
		return err
	}
	return e.finalizeIfDone(ctx, taskUUID, false)
}

// catchUpDependencies records on a pending step the completions of its
// dependencies that it missed (a completion whose follow-up was lost, e.g. a
// result message dead-lettered after the completion was written) and
// returns the step as it now is. Recording is idempotent (a set add, or a
// marker per parent for counting steps).
func (e *Engine) catchUpDependencies(ctx context.Context, run *taskRun, s *workflow.Step, byName map[string]*workflow.Step) (*workflow.Step, error) {
	if s.CountsDependencies {
		done := 0
		for _, dep := range s.Dependencies {
			if p := byName[dep]; p != nil && p.State.SatisfiesDependency() {
				done++
			}
		}
		if done <= len(s.Dependencies)-s.Remaining {
			return s, nil // the counter already holds every completed parent
		}
	}
	for _, dep := range s.Dependencies {
		p := byName[dep]
		if p == nil || !p.State.SatisfiesDependency() || (!s.CountsDependencies && slices.Contains(s.Satisfied, dep)) {
			continue
		}
		updated, err := e.satisfy(ctx, run, s.Name, dep)
		if err != nil {
			return s, err
		}
		s = updated
	}
	return s, nil
}

// SweepReport counts what one sweep did.
type SweepReport struct {
	Started     int // tasks left pending, started
	Resent      int // enqueued steps whose message was sent again
	Enqueued    int // ready steps whose enqueue was lost, enqueued
	TimedOut    int // in-progress steps past their deadline, failed as retryable
	Retried     int // steps whose retry was due, enqueued
	Stale       int // tasks found stale (DLQ entry and/or error per their lifecycle)
	DeadLetters int // dead-lettered messages turned into DLQ entries
	Errors      int
	Examined    int
	Truncated   bool // more items were due than one sweep handles
}

// Sweep limits: the due items read at a time (Config.SweepBatch), how many
// rounds of them one sweep takes, how many it handles at once, and the time
// a sweep leaves before its context's deadline (the sweeper function's
// timeout).
const (
	defaultSweepBatch = 500
	sweepRounds       = 20
	sweepConcurrency  = 16
	sweepReserve      = 15 * time.Second
)

// Sweep handles everything whose time has come and that no message will
// bring: tasks never started, running tasks' checks (claims past their
// deadline, failed as retryable and counted as an attempt; lost step
// messages; staleness) and retries beyond SQS's 15-minute delay. It takes
// due items in rounds of Config.SweepBatch, sweepConcurrency at a time, until none
// is left, sweepRounds have run, or the context's deadline is near; an item
// that failed is not retried within the same sweep.
func (e *Engine) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	now := e.now()
	seen := map[string]bool{}
	for round := 0; round < sweepRounds; round++ {
		due, err := e.store.Due(ctx, now, e.cfg.SweepBatch)
		if err != nil {
			if round == 0 {
				return rep, err
			}
			rep.Errors++
			e.log.WarnContext(ctx, "reading due items failed", "error", err)
			break
		}
		var fresh []dynamo.DueItem
		for _, d := range due {
			if k := d.TaskUUID + "/" + d.StepName; !seen[k] {
				seen[k] = true
				fresh = append(fresh, d)
			}
		}
		rep.Examined += len(fresh)
		e.sweepItems(ctx, fresh, now, &rep)
		rep.Truncated = len(due) == e.cfg.SweepBatch
		if !rep.Truncated || len(fresh) == 0 || nearDeadline(ctx) {
			break
		}
	}
	n, err := e.drainDeadLetters(ctx)
	rep.DeadLetters = n
	if err != nil {
		rep.Errors++
		e.log.WarnContext(ctx, "draining dead-letter queues failed", "error", err)
	}
	return rep, nil
}

// sweepItems handles due items, sweepConcurrency at a time.
func (e *Engine) sweepItems(ctx context.Context, due []dynamo.DueItem, now time.Time, rep *SweepReport) {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, sweepConcurrency)
	)
	for _, d := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var one SweepReport
			err := e.sweepOne(ctx, d, now, &one)
			if err != nil && !errors.Is(err, workflow.ErrNotFound) {
				one.Errors++
				e.log.WarnContext(ctx, "sweep item failed", "task_uuid", d.TaskUUID, "step", d.StepName, "state", d.State, "error", err)
			}
			mu.Lock()
			rep.add(one)
			mu.Unlock()
		})
	}
	wg.Wait()
}

// add counts other's actions into r.
func (r *SweepReport) add(other SweepReport) {
	r.Started += other.Started
	r.Resent += other.Resent
	r.Enqueued += other.Enqueued
	r.TimedOut += other.TimedOut
	r.Retried += other.Retried
	r.Stale += other.Stale
	r.DeadLetters += other.DeadLetters
	r.Errors += other.Errors
}

// nearDeadline reports whether ctx ends within sweepReserve.
func nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < sweepReserve
}

// checkTask is a running task's first check, come as the delayed message
// its creation sent instead of a sweep entry. A finished task costs a read
// and no write; a task still running is checked as the sweeper would and so
// gets its next check in the sweep index. A task that does not exist was
// not published (its creation failed, found a duplicate or gave up after
// PublishWithin, which is shorter than any check's delay); in case its
// last write was still under way, the check comes once more a minute later.
func (e *Engine) checkTask(ctx context.Context, m *protocol.OrchestrationMessage) error {
	taskUUID := m.TaskUUID
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil {
		if errors.Is(err, workflow.ErrNotFound) && m.Attempt == 0 {
			again := *m
			again.Attempt = 1
			return e.sendOrchestration(ctx, again, checkAgainAfter)
		}
		if errors.Is(err, workflow.ErrNotFound) {
			return nil // never published
		}
		return err
	}
	if run.task.State.Terminal() {
		return nil
	}
	var rep SweepReport
	err = e.checkRun(ctx, run, e.now(), &rep)
	if e.cfg.Checked != nil {
		e.cfg.Checked(ctx, rep)
	}
	return err
}

// checkRun is one check of a task, from the sweep or a check_task message:
// a task still pending is started, any other checked (checkStaleness).
func (e *Engine) checkRun(ctx context.Context, run *taskRun, now time.Time, rep *SweepReport) error {
	if run.task.State == statemachine.TaskPending {
		rep.Started++
		_, err := e.startTask(ctx, run.task, run.tpl)
		return err
	}
	stale, err := e.checkStaleness(ctx, run, now, rep)
	if stale {
		rep.Stale++
	}
	return err
}

// checkAgainAfter is how long a first check that found no task waits
// before its one more look.
const checkAgainAfter = time.Minute

func (e *Engine) sweepOne(ctx context.Context, d dynamo.DueItem, now time.Time, rep *SweepReport) error {
	if d.StepName == "" {
		run, err := e.loadRun(ctx, d.TaskUUID)
		if err != nil {
			return err
		}
		return e.checkRun(ctx, run, now, rep)
	}
	run, err := e.loadRun(ctx, d.TaskUUID)
	if err != nil {
		return err
	}
	step, err := e.store.GetStep(ctx, d.TaskUUID, d.StepName)
	if err != nil {
		return err
	}
	switch step.State {
	case statemachine.StepEnqueued:
		// Only steps enqueued by a version that indexed them; enqueued
		// steps are found by their task's check (checkStaleness) now.
		rep.Resent++
		if err := e.store.Reschedule(ctx, d.TaskUUID, step.Name, step.State, step.Attempts, now.Add(e.cfg.EnqueueResendAfter)); err != nil {
			if errors.Is(err, workflow.ErrConflict) {
				return nil
			}
			return err
		}
		if !run.acceptingStep(step) {
			return nil
		}
		return e.resend(ctx, run, step)
	case statemachine.StepInProgress:
		// Only claims by workers that still put the step in the index.
		rep.TimedOut++
		return e.timeOut(ctx, run, step)
	case statemachine.StepWaitingForRetry:
		rep.Retried++
		return e.retryStep(ctx, d.TaskUUID, step.Name, step.Attempts)
	}
	return nil
}

// timeOut fails a claim past its deadline as retryable.
func (e *Engine) timeOut(ctx context.Context, run *taskRun, step *workflow.Step) error {
	return e.applyFailure(ctx, run, step, step.Attempts, &protocol.StepError{
		Message: "no result before the step's timeout: the worker crashed or is too slow", ErrorType: "timeout", Retryable: true})
}

// resend sends an enqueued step's message again.
func (e *Engine) resend(ctx context.Context, run *taskRun, step *workflow.Step) error {
	m, err := e.stepMessage(ctx, run, step, nil)
	if err != nil {
		return err
	}
	return e.queue.Send(ctx, e.cfg.Names.StepQueue(run.task.Namespace), m)
}
