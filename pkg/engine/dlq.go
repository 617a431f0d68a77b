package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// DeadLetters drains dead-letter queues; *sqsqueue.Sender implements it.
type DeadLetters interface {
	Drain(ctx context.Context, queue string, max int, fn func(body []byte) error) (int, error)
}

// Staleness thresholds, Tasker Core's defaults; a template's lifecycle
// section overrides them.
const (
	defaultMaxDuration     = 24 * time.Hour
	defaultWaitingDeps     = 60 * time.Minute
	defaultWaitingRetry    = 30 * time.Minute
	defaultStepsInProcess  = 30 * time.Minute
	defaultStalenessAction = "dlq"
)

// lifecycle holds a template's staleness thresholds.
type lifecycle struct {
	maxDuration, waitingDeps, waitingRetry, inProcess time.Duration
	action                                            string
}

func lifecycleOf(tpl *template.Template) lifecycle {
	l := lifecycle{defaultMaxDuration, defaultWaitingDeps, defaultWaitingRetry, defaultStepsInProcess, defaultStalenessAction}
	if lc := tpl.Lifecycle; lc != nil {
		minutes := func(m int, d time.Duration) time.Duration {
			if m > 0 {
				return time.Duration(m) * time.Minute
			}
			return d
		}
		l.maxDuration = minutes(lc.MaxDurationMinutes, l.maxDuration)
		l.waitingDeps = minutes(lc.MaxWaitingForDependenciesMinutes, l.waitingDeps)
		l.waitingRetry = minutes(lc.MaxWaitingForRetryMinutes, l.waitingRetry)
		l.inProcess = minutes(lc.MaxStepsInProcessMinutes, l.inProcess)
		if lc.StalenessAction != "" {
			l.action = lc.StalenessAction
		}
	}
	return l
}

// threshold is how long a task may go without progress in its state.
func (l lifecycle) threshold(s statemachine.TaskState) time.Duration {
	switch s {
	case statemachine.TaskWaitingForDependencies:
		return l.waitingDeps
	case statemachine.TaskWaitingForRetry:
		return l.waitingRetry
	}
	return l.inProcess
}

// nextCheck is when the sweeper should next look at a task for staleness.
func (l lifecycle) nextCheck(t *workflow.Task, lastActivity time.Time) time.Time {
	next := lastActivity.Add(l.threshold(t.State))
	if deadline := t.CreatedAt.Add(l.maxDuration); deadline.Before(next) {
		next = deadline
	}
	return next
}

// resendEvery is how often the sweeper looks at a running task's steps for
// lost messages: the engine's EnqueueResendAfter, but at most half the
// shortest staleness threshold, so a lost message is sent again before its
// task could be judged stale.
func (e *Engine) resendEvery(l lifecycle) time.Duration {
	d := e.cfg.EnqueueResendAfter
	for _, th := range []time.Duration{l.waitingDeps, l.waitingRetry, l.inProcess} {
		if th/2 < d {
			d = th / 2
		}
	}
	return d
}

// taskCheckAt is when the sweeper next looks at a running task: at its
// staleness check, and at least every resendEvery.
func (e *Engine) taskCheckAt(l lifecycle, t *workflow.Task, lastActivity, now time.Time) time.Time {
	next := l.nextCheck(t, lastActivity)
	if r := now.Add(e.resendEvery(l)); r.Before(next) || !next.After(now) {
		next = r // (a staleness check already past: a paused task past its max_duration)
	}
	return next
}

// claimWindow is dynamo.ClaimWindow for a timeout in seconds.
func claimWindow(timeoutSecs int) time.Duration {
	return dynamo.ClaimWindow(time.Duration(timeoutSecs) * time.Second)
}

// firstCheck is how long after creation the sweeper first looks at a task:
// soon enough to start it if its start was lost, and to time out a claim of
// its shortest-lived step (claims do not touch the task item or the sweep
// index, so the task's checks are what find them).
func (e *Engine) firstCheck(tpl *template.Template) time.Duration {
	return min(dynamo.StartRecoveryAfter, e.checkEvery(tpl))
}

// checkEvery is how often the sweeper looks at a running task that has open
// steps: the shortest claim window of any step it can run (compensations
// included), at most resendEvery. A step claimed any time after a check is
// then timed out at most one window after its deadline, whether it existed
// at that check or came later (a retry, a decision's branch, a
// compensation).
func (e *Engine) checkEvery(tpl *template.Template) time.Duration {
	d := e.resendEvery(lifecycleOf(tpl))
	for i := range tpl.Steps {
		d = min(d, claimWindow(tpl.Steps[i].TimeoutSeconds))
		if c := tpl.Steps[i].Compensation; c != nil {
			d = min(d, claimWindow(c.TimeoutSeconds))
		}
	}
	return d
}

// checkStaleness handles a task the sweeper found due. It first looks at the
// task's steps: a step enqueued for longer than resendEvery gets its message
// sent again (the message was lost between the engine's write and its send,
// or the queue dropped it; enqueued steps are not in the sweep index, so
// this task-level look is what finds them). Then a task without progress for
// longer than its threshold (or older than its maximum duration) gets its
// lifecycle's staleness_action: dlq (an entry with a snapshot, then the task
// fails), error (the task fails) or none.
func (e *Engine) checkStaleness(ctx context.Context, run *taskRun, now time.Time, rep *SweepReport) (bool, error) {
	t := run.task
	if t.State.Terminal() {
		return false, e.store.ClearTaskSweep(ctx, t.UUID)
	}
	l := lifecycleOf(run.tpl)
	last := t.UpdatedAt
	tooOld := now.Sub(t.CreatedAt) > l.maxDuration
	var soonest time.Time
	if !tooOld || t.Paused {
		// Steps progress without touching the task item: look at them.
		var err error
		if last, soonest, err = e.inspectSteps(ctx, run, l, now, rep); err != nil {
			return false, err
		}
	}
	// schedule sets the task's next check: its staleness check from base,
	// at least every resendEvery, and no later than soonest.
	schedule := func(base time.Time) error {
		next := e.taskCheckAt(l, t, base, now)
		if !soonest.IsZero() && soonest.Before(next) {
			next = soonest
		}
		return e.store.ScheduleTaskSweep(ctx, t.UUID, next)
	}
	idle := now.Sub(last)
	if t.Paused || (!tooOld && idle <= l.threshold(t.State)) {
		base := last
		if t.Paused {
			base = now
		}
		return false, schedule(base)
	}
	reason := fmt.Sprintf("stale: no progress for %s in %s", idle.Round(time.Second), t.State)
	if tooOld {
		reason = fmt.Sprintf("stale: running for %s, longer than max_duration %s", now.Sub(t.CreatedAt).Round(time.Second), l.maxDuration)
	}
	switch l.action {
	case "none":
		// Left running, so still checked: its claims, lost messages and
		// ready steps have no other watcher. The warning repeats per check.
		e.log.WarnContext(ctx, "stale task left alone (staleness_action none)", "task_uuid", t.UUID, "reason", reason)
		return true, schedule(now)
	case "dlq":
		snap, err := e.snapshot(ctx, t)
		if err != nil {
			return true, err
		}
		err = e.store.PutDLQEntry(ctx, &dynamo.DLQEntry{UUID: e.cfg.NewID(), TaskUUID: t.UUID, Reason: dynamo.DLQReasonStaleness,
			ResolutionStatus: dynamo.DLQPending, Snapshot: snap, Message: reason, CreatedAt: now, UpdatedAt: now})
		if err != nil && !errors.Is(err, workflow.ErrConflict) {
			return true, err
		}
	}
	return true, e.failStale(ctx, run, reason)
}

// firstChecksWindow is how long after a task's first check is due its
// checks still resend the messages of the steps its creation enqueued: the
// sweeper runs every minute, so the first check comes within a minute of
// being due. (A root is resent this way once: MarkResent records it.)
const firstChecksWindow = time.Minute

// resendDue reports whether an enqueued step's message should be sent
// again: it has waited longer than every since it was enqueued or last sent
// again, or the write that created the step enqueued it (a new task's root,
// whose message is sent after that write), the task's first checks find it
// still enqueued and it was not sent again yet.
func (e *Engine) resendDue(run *taskRun, s *workflow.Step, now time.Time, every time.Duration) bool {
	since := *s.EnqueuedAt
	resent := s.ResentAt != nil && s.ResentAt.After(since)
	if resent {
		since = *s.ResentAt
	}
	if now.Sub(since) >= every {
		return true
	}
	atCreation := s.EnqueuedAt.Equal(s.CreatedAt)
	return atCreation && !resent && now.Sub(since) >= resendGrace && now.Sub(run.task.CreatedAt) <= e.firstCheck(run.tpl)+firstChecksWindow
}

// inspectSteps looks at a task's steps. It times out every claim past its
// deadline (the worker died or is too slow: failed as retryable, counted as
// an attempt), sends again the message of every step enqueued for longer
// than resendEvery (duplicates are harmless: the worker's claim is
// guarded), and returns the latest change of the task or any of its steps
// and the soonest time a claim may need timing out: the earliest deadline of
// a claim in progress; while the task starts steps and has an open one, now
// plus checkEvery (a step may be claimed before the next check); for an
// enqueued step (claimable even in a paused task), now plus its claim
// window.
func (e *Engine) inspectSteps(ctx context.Context, run *taskRun, l lifecycle, now time.Time, rep *SweepReport) (last, soonest time.Time, err error) {
	last = run.task.UpdatedAt
	steps, err := e.store.ListSteps(ctx, run.task.UUID)
	if err != nil {
		return last, soonest, err
	}
	every := e.resendEvery(l)
	startsSteps := run.accepting() || run.task.Compensating
	window := e.checkEvery(run.tpl)
	var ready []*workflow.Step
	byName := make(map[string]*workflow.Step, len(steps))
	for _, s := range steps {
		byName[s.Name] = s
	}
	earliest := func(t time.Time) {
		if soonest.IsZero() || t.Before(soonest) {
			soonest = t
		}
	}
	for _, s := range steps {
		if s.UpdatedAt.After(last) {
			last = s.UpdatedAt
		}
		if startsSteps && !s.State.Terminal() && s.State != statemachine.StepError {
			// An open step of a task that starts steps: a step may be
			// claimed before the next check (this one, a retry, a child,
			// a branch), so check again within the shortest claim window.
			earliest(now.Add(window))
		}
		switch s.State {
		case statemachine.StepInProgress:
			if s.SweepAt == nil || s.SweepAt.After(now) {
				if s.SweepAt != nil {
					earliest(*s.SweepAt)
				}
				continue
			}
			rep.TimedOut++
			if err := e.timeOut(ctx, run, s); err != nil {
				return last, soonest, err
			}
		case statemachine.StepPending:
			if !run.acceptingStep(s) {
				continue // paused, or a task that starts no new step
			}
			// Ready for a while and not claimed. A step that lists its
			// dependencies had its message sent without a stored enqueue
			// and may still sit in the queue: it gets a stored enqueue
			// and a new message only after resendEvery, as an enqueued
			// step's message would. Any other (a step that counts its
			// dependencies, a root) is enqueued by a write right after the
			// one that made it ready, so after resendGrace that enqueue
			// was lost.
			if !s.DependenciesMet() {
				continue
			}
			wait := every
			if s.CountsDependencies || len(s.Dependencies) == 0 {
				wait = resendGrace
			}
			if now.Sub(readySince(s, byName)) >= wait {
				ready = append(ready, s)
			}
		case statemachine.StepEnqueued:
			earliest(now.Add(claimWindow(s.TimeoutSecs))) // its message may be claimed any moment
			if s.EnqueuedAt == nil || !run.acceptingStep(s) || !e.resendDue(run, s, now, every) {
				continue
			}
			if err := e.store.MarkResent(ctx, run.task.UUID, s.Name, s.Attempts, now); err != nil {
				if errors.Is(err, workflow.ErrConflict) {
					continue // claimed (or moved on) since the listing
				}
				return last, soonest, err
			}
			if err := e.resend(ctx, run, s); err != nil {
				return last, soonest, err
			}
			rep.Resent++
			e.log.InfoContext(ctx, "step message sent again", "task_uuid", run.task.UUID, "step", s.Name,
				"enqueued_for", now.Sub(*s.EnqueuedAt).Round(time.Second).String())
		}
	}
	if len(ready) > 0 {
		if err := e.enqueueSteps(ctx, run, ready, nil); err != nil {
			return last, soonest, err
		}
		rep.Enqueued += len(ready)
		e.log.InfoContext(ctx, "ready steps enqueued by the task's check", "task_uuid", run.task.UUID, "steps", len(ready))
	}
	return last, soonest, nil
}

// readySince is when a pending step whose dependencies are met became
// ready: its last change or its latest dependency's completion.
func readySince(s *workflow.Step, byName map[string]*workflow.Step) time.Time {
	since := s.UpdatedAt
	for _, d := range s.Dependencies {
		if p := byName[d]; p != nil && p.CompletedAt != nil && p.CompletedAt.After(since) {
			since = *p.CompletedAt
		}
	}
	return since
}

// failStale moves a stale task to error.
func (e *Engine) failStale(ctx context.Context, run *taskRun, reason string) error {
	ev := statemachine.TaskEvFail
	if run.task.State != statemachine.TaskStepsInProcess {
		ev = statemachine.TaskEvCancel
	}
	if _, err := e.moveTask(ctx, run.task, reason, dynamo.TaskChange{}, ev); err != nil && !errors.Is(err, workflow.ErrConflict) {
		return err
	}
	return nil
}

// snapshot captures a task and its steps for a DLQ entry.
func (e *Engine) snapshot(ctx context.Context, t *workflow.Task) (json.RawMessage, error) {
	steps, err := e.store.ListSteps(ctx, t.UUID)
	if err != nil {
		return nil, err
	}
	type stepSnap struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Error    string `json:"error,omitempty"`
	}
	snap := struct {
		TaskUUID  string     `json:"task_uuid"`
		Template  string     `json:"template"`
		State     string     `json:"state"`
		CreatedAt time.Time  `json:"created_at"`
		UpdatedAt time.Time  `json:"updated_at"`
		Steps     []stepSnap `json:"steps"`
	}{TaskUUID: t.UUID, Template: t.Namespace + "/" + t.Name + ":" + t.Version, State: string(t.State), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	for _, s := range steps {
		ss := stepSnap{Name: s.Name, State: string(s.State), Attempts: s.Attempts}
		if s.Error != nil {
			ss.Error = s.Error.Message
		}
		snap.Steps = append(snap.Steps, ss)
	}
	return json.Marshal(snap)
}

// maxDLQMessage bounds the message body kept in a DLQ entry.
const maxDLQMessage = 64 * 1024

// drainDeadLetters turns messages SQS moved to dead-letter queues into DLQ
// entries, so none is forgotten; a message is deleted only once its entry exists.
func (e *Engine) drainDeadLetters(ctx context.Context) (int, error) {
	if e.cfg.DeadLetters == nil {
		return 0, nil
	}
	queues := []string{e.cfg.Names.OrchestrationQueue(), e.cfg.Names.ResultsQueue()}
	recs, err := e.store.ListTemplates(ctx)
	if err != nil {
		return 0, err
	}
	var nss []string
	for _, r := range recs {
		if !slices.Contains(nss, r.Namespace) {
			nss = append(nss, r.Namespace)
			queues = append(queues, e.cfg.Names.StepQueue(r.Namespace))
		}
	}
	total := 0
	for _, q := range queues {
		dlq := resources.DLQName(q)
		reason := dynamo.DLQReasonSQSRedrive
		engineQueue := q == e.cfg.Names.OrchestrationQueue() || q == e.cfg.Names.ResultsQueue()
		if !engineQueue {
			reason = dynamo.DLQReasonWorker
		}
		var tasks []string
		n, err := e.cfg.DeadLetters.Drain(ctx, dlq, 100, func(body []byte) error {
			var ids struct {
				TaskUUID string `json:"task_uuid"`
			}
			_ = json.Unmarshal(body, &ids)
			msg := string(body)
			if len(msg) > maxDLQMessage {
				msg = msg[:maxDLQMessage]
			}
			now := e.now()
			if engineQueue && uuid.Validate(ids.TaskUUID) == nil && !slices.Contains(tasks, ids.TaskUUID) {
				tasks = append(tasks, ids.TaskUUID)
			}
			return e.store.PutDLQEntry(ctx, &dynamo.DLQEntry{UUID: e.cfg.NewID(), TaskUUID: ids.TaskUUID, Reason: reason,
				ResolutionStatus: dynamo.DLQPending, Source: dlq, Message: msg, CreatedAt: now, UpdatedAt: now})
		})
		total += n
		e.redriveAfterDeadLetter(ctx, tasks)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// redriveAfterDeadLetter re-examines the tasks whose result or orchestration
// message was dead-lettered. The message's state change may have been
// written before its invocations kept failing (a step completed, its
// dependents never enqueued); re-driving enqueues what is ready and
// finishes a task that is done, instead of leaving it to the staleness
// sweep. A task still running then gets a check in the sweep index within
// its claim window: the dead message may have been its first check (a
// check_task), and no other would come. It is idempotent; a failure is
// logged and left to the DLQ entry.
func (e *Engine) redriveAfterDeadLetter(ctx context.Context, tasks []string) {
	for _, id := range tasks {
		if err := e.RedriveTask(ctx, id); err != nil && !errors.Is(err, workflow.ErrNotFound) {
			e.log.WarnContext(ctx, "re-drive after a dead-lettered message failed", "task_uuid", id, "error", err)
		}
		if err := e.checkSoon(ctx, id); err != nil && !errors.Is(err, workflow.ErrNotFound) {
			e.log.WarnContext(ctx, "scheduling a check after a dead-lettered message failed", "task_uuid", id, "error", err)
		}
	}
}

// DLQUpdate changes an entry's resolution.
type DLQUpdate struct {
	ResolutionStatus string `json:"resolution_status"`
	Notes            string `json:"resolution_notes,omitempty"`
	ResolvedBy       string `json:"resolved_by,omitempty"`
}

// UpdateDLQEntry records an operator's resolution of an entry. Errors:
// *InvalidRequestError for an unknown status, workflow.ErrNotFound.
func (e *Engine) UpdateDLQEntry(ctx context.Context, id string, u DLQUpdate) (*dynamo.DLQEntry, error) {
	if !slices.Contains(dynamo.DLQStatuses, u.ResolutionStatus) {
		return nil, invalid("resolution_status", "must be one of %v", dynamo.DLQStatuses)
	}
	if len(u.Notes) > 2000 {
		return nil, invalid("resolution_notes", "at most 2000 characters")
	}
	return e.store.ResolveDLQEntry(ctx, id, u.ResolutionStatus, u.Notes, u.ResolvedBy, e.now())
}

// DLQStats counts entries by resolution status.
func (e *Engine) DLQStats(ctx context.Context) (map[string]int, error) {
	out := make(map[string]int, len(dynamo.DLQStatuses))
	for _, s := range dynamo.DLQStatuses {
		n, err := e.store.CountDLQ(ctx, s)
		if err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, nil
}

// checkSoon puts a running task's next check in the sweep index, within its
// shortest claim window.
func (e *Engine) checkSoon(ctx context.Context, taskUUID string) error {
	run, err := e.loadRun(ctx, taskUUID)
	if err != nil || run.task.State.Terminal() {
		return err
	}
	return e.store.ScheduleTaskSweep(ctx, taskUUID, e.now().Add(e.checkEvery(run.tpl)))
}
