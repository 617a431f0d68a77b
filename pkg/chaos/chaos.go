package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/template"
)

// Config configures a run. Zero rates inject no fault of that kind.
type Config struct {
	// Env is the local AWS to run on (required).
	Env *localstack.Env
	// Prefix names the run's table and queues (required, unique per run).
	Prefix string
	// Templates are the acceptance templates (templates/acceptance).
	Templates []*template.Template
	// Seed drives every fault decision and the workload.
	Seed uint64
	// Tasks is how many tasks to run.
	Tasks int
	// ThrottleRate is the fraction of AWS operation calls whose first
	// attempt fails with ThrottlingException.
	ThrottleRate float64
	// DuplicateRate is the fraction of sent SQS messages sent twice.
	DuplicateRate float64
	// PanicRate and TimeoutRate are the fractions of handler attempts (with
	// a retry left) that panic, or time out after their effect.
	PanicRate, TimeoutRate float64
	// FailRate is the fraction of diamond and tree tasks with a step that
	// fails permanently.
	FailRate float64
	// CrashRate is the fraction of DynamoDB writes and SQS sends and
	// deletes around which the process dies (half before, half after the
	// call, see crashes).
	CrashRate float64
	// DelayRate is the fraction of sent messages delayed by 1–2 s;
	// ReorderRate the fraction held back until a later message to the same
	// queue went out.
	DelayRate, ReorderRate float64
	// Visibility is every queue's visibility timeout during the run (whole
	// seconds, default 3 s): how soon a message whose invocation died is
	// redelivered.
	Visibility time.Duration
	// ResendAfter is the engine's EnqueueResendAfter (default 5 s): how long
	// a step may sit enqueued before the sweeper sends its message again.
	ResendAfter time.Duration
	// Restart, when set, is called once, RestartAt after the tasks were
	// created: it must stop the emulator and start it again with the same
	// state (see docs/reliability.md for what kumo keeps).
	Restart   func(ctx context.Context) error
	RestartAt time.Duration
	// Settle bounds the wait for every task to reach a terminal state.
	Settle time.Duration
	// Logger receives the system's logs; nil discards them.
	Logger *slog.Logger
}

// Report is a run's figures.
type Report struct {
	Seed       uint64
	Tasks      int
	Outcomes   map[string]int // terminal (or last) task states
	Faults     map[FaultKind]int
	Violations []Violation
	Elapsed    time.Duration
	// SuppressedCalls counts AWS calls failed because their invocation had
	// already crashed (not faults of their own).
	SuppressedCalls int
	// DLQEntries counts the tasks' pending DLQ entries at the end.
	DLQEntries int
	// Restart describes the emulator restart, when there was one.
	Restart *RestartReport
	// Parked are the tasks that did not settle but have a pending DLQ entry:
	// a message that carried their progress was dead-lettered (received
	// MaxReceiveCount times without success), and the engine leaves such a
	// task to an operator (tasker dlq list) until the staleness sweep.
	Parked []Violation
}

// parkInDLQ moves the "settled" violations of tasks with a pending DLQ entry
// from vs to parked.
func parkInDLQ(vs []Violation, dq dlqState) (kept, parked []Violation) {
	for _, v := range vs {
		if v.Invariant == "settled" && len(dq.Entries[v.Task]) > 0 {
			parked = append(parked, v)
			continue
		}
		kept = append(kept, v)
	}
	return kept, parked
}

// RestartReport counts the messages of the run's queues just before the
// emulator stopped and just after the new one started: visible (or
// delayed) and in flight (received, not yet deleted). kumo persists queued
// messages but not in-flight ones, so InFlightAfter is 0.
type RestartReport struct {
	VisibleBefore, InFlightBefore int
	VisibleAfter, InFlightAfter   int
	Downtime                      time.Duration
}

// dlqDrainWait bounds the wait for the sweeper to empty the dead-letter
// queues: the drain receives with a 60 s visibility timeout, so a message
// whose DLQ entry could not be written (an injected crash) reappears only
// after a minute.
const dlqDrainWait = 75 * time.Second

// FaultCount is the number of injected faults of every kind.
func (r *Report) FaultCount() int {
	n := 0
	for _, c := range r.Faults {
		n += c
	}
	return n
}

// String is the run's one-line summary.
func (r *Report) String() string {
	return fmt.Sprintf("chaos: %d tasks, %d faults, %d violations", r.Tasks, r.FaultCount(), len(r.Violations))
}

// Details describes the run: seed, outcomes and faults by kind.
func (r *Report) Details() string {
	d := fmt.Sprintf("seed=%d elapsed=%s outcomes=%v suppressed_calls=%d dlq_entries=%d parked_in_dlq=%d faults: %s", r.Seed,
		r.Elapsed.Round(time.Millisecond), r.Outcomes, r.SuppressedCalls, r.DLQEntries, len(r.Parked), formatFaults(r.Faults))
	if rr := r.Restart; rr != nil {
		d += fmt.Sprintf("; restart: down %s, before %d queued + %d in flight, after %d queued + %d in flight",
			rr.Downtime.Round(time.Millisecond), rr.VisibleBefore, rr.InFlightBefore, rr.VisibleAfter, rr.InFlightAfter)
	}
	return d
}

// Run starts a stack whose AWS clients and handlers inject faults, runs the
// workload, waits for it to settle and checks the invariants. It returns an
// error when the harness itself cannot run (stack start, task creation);
// broken invariants are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	if cfg.Visibility <= 0 {
		cfg.Visibility = 3 * time.Second
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = 5 * time.Second
	}
	flog := newFaultLog()
	af := &awsFaults{throttleRate: cfg.ThrottleRate, duplicateRate: cfg.DuplicateRate,
		rng: newLockedRand(cfg.Seed, 1), log: flog, clean: cfg.Env.SQS}
	cr := &crashes{rate: cfg.CrashRate, rng: newLockedRand(cfg.Seed, 3), log: flog}
	dl := &delivery{delayRate: cfg.DelayRate, reorderRate: cfg.ReorderRate, rng: newLockedRand(cfg.Seed, 4),
		log: flog, clean: cfg.Env.SQS, kindOf: queueKind, held: map[string][]*sqs.SendMessageInput{}}
	ddb, sq, err := faultyClients(ctx, cfg.Env.ClientOptions, af, cr, dl)
	if err != nil {
		return nil, err
	}
	plan := &faultPlan{seed: cfg.Seed, panicRate: cfg.PanicRate, timeoutRate: cfg.TimeoutRate, log: flog, ledger: newLedger()}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, err := devstack.Start(ctx, devstack.Options{Env: cfg.Env, Prefix: cfg.Prefix, Templates: cfg.Templates,
		Registry: plan.registry(), SweepEvery: 500 * time.Millisecond, ResultsViaQueue: true,
		EngineConfig: engine.Config{EnqueueResendAfter: cfg.ResendAfter},
		DynamoDB:     ddb, SQS: sq, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	defer func() { _ = st.Close(); dl.close() }()
	if err := shortenVisibility(ctx, cfg.Env.SQS, st.Provisioned.QueueURLs, cfg.Visibility); err != nil {
		return nil, err
	}

	cr.armed.Store(true)
	jobs := workload(cfg.Seed, cfg.Tasks, cfg.FailRate)
	if err := createAll(withoutCrashes(ctx), st.Engine, jobs); err != nil {
		return nil, err
	}
	var restart *RestartReport
	if cfg.Restart != nil {
		if restart, err = restartAfter(ctx, cfg, st.Provisioned.QueueURLs, flog); err != nil {
			return nil, err
		}
	}
	// Checks read through clients without faults.
	store := dynamo.New(cfg.Env.DynamoDB, st.Names.StateTable())
	rep := &Report{Seed: cfg.Seed, Tasks: len(jobs), Outcomes: map[string]int{}, Restart: restart}
	if err := settle(ctx, store, jobs, cfg.Settle); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		t, err := store.GetTask(ctx, j.UUID)
		if err != nil {
			return nil, fmt.Errorf("get task %s: %w", j.UUID, err)
		}
		steps, err := store.ListSteps(ctx, j.UUID)
		if err != nil {
			return nil, fmt.Errorf("list steps of %s: %w", j.UUID, err)
		}
		rep.Outcomes[string(t.State)]++
		rep.Violations = append(rep.Violations, checkTask(j, t, steps)...)
	}
	rep.Violations = append(rep.Violations, checkLedger(plan.ledger)...)
	dq, err := readDLQ(ctx, cfg.Env.SQS, store, st.Provisioned.QueueURLs, jobs, dlqDrainWait)
	if err != nil {
		return nil, err
	}
	for _, ids := range dq.Entries {
		rep.DLQEntries += len(ids)
	}
	rep.Violations, rep.Parked = parkInDLQ(rep.Violations, dq)
	rep.Violations = append(rep.Violations, checkDLQ(dq)...)
	rep.Faults = flog.snapshot()
	rep.SuppressedCalls = int(cr.suppressed.Load())
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// restartAfter waits cfg.RestartAt, then restarts the emulator, counting
// the queues' messages around the restart.
func restartAfter(ctx context.Context, cfg Config, urls map[string]string, flog *faultLog) (*RestartReport, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cfg.RestartAt):
	}
	rr := &RestartReport{}
	var err error
	if rr.VisibleBefore, rr.InFlightBefore, err = messageCounts(ctx, cfg.Env.SQS, urls); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := cfg.Restart(ctx); err != nil {
		return nil, fmt.Errorf("restart emulator: %w", err)
	}
	rr.Downtime = time.Since(start)
	flog.add(FaultEmulatorRestart)
	if rr.VisibleAfter, rr.InFlightAfter, err = messageCounts(ctx, cfg.Env.SQS, urls); err != nil {
		return nil, err
	}
	return rr, nil
}

// faultyClients builds DynamoDB and SQS clients for the local AWS with the
// fault middleware on their stacks.
func faultyClients(ctx context.Context, base awsconn.Options, af *awsFaults, cr *crashes, dl *delivery) (*dynamodb.Client, *sqs.Client, error) {
	withFaults := func(kind FaultKind, sqsClient bool) awsconn.Options {
		o := base
		o.APIOptions = append(slices.Clone(base.APIOptions), af.apiOptions(kind, sqsClient)...)
		if sqsClient {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				return st.Initialize.Add(dl.middleware(), middleware.Before)
			})
		}
		// Added last and Before: the outermost, so a crash before the call
		// stops it before any other fault is decided.
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(cr.middleware(), middleware.Before)
		})
		return o
	}
	do := withFaults(FaultThrottleDynamoDB, false)
	dcfg, err := awsconn.Load(ctx, do)
	if err != nil {
		return nil, nil, err
	}
	so := withFaults(FaultThrottleSQS, true)
	scfg, err := awsconn.Load(ctx, so)
	if err != nil {
		return nil, nil, err
	}
	return awsconn.DynamoDB(dcfg, do), awsconn.SQS(scfg, so), nil
}

// createAll creates every job's task through the engine, four at a time.
func createAll(ctx context.Context, e *engine.Engine, jobs []*job) error {
	var next atomic.Int64
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				t, err := e.CreateTask(ctx, engine.TaskRequest{Namespace: j.Namespace, Name: j.Name, Context: j.contextJSON()})
				if err != nil {
					errs[w] = fmt.Errorf("create task %d (%s/%s): %w", j.Seq, j.Namespace, j.Name, err)
					return
				}
				j.UUID = t.UUID
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// parkedGrace is how long settle keeps waiting once every unsettled task
// has a pending DLQ entry (such a task may still finish if the
// dead-lettered message was a duplicate).
const parkedGrace = 20 * time.Second

// settle waits until every task is terminal, or every unsettled one has
// been parked in the DLQ for parkedGrace, or the deadline passes; tasks
// still running then are reported by checkTask as unsettled.
func settle(ctx context.Context, store *dynamo.Store, jobs []*job, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	pending := slices.Clone(jobs)
	var parkedAt time.Time
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []*job
		allParked := true
		for _, j := range pending {
			t, err := store.GetTask(ctx, j.UUID)
			if err != nil {
				return fmt.Errorf("get task %s: %w", j.UUID, err)
			}
			if t.State.Terminal() {
				continue
			}
			still = append(still, j)
			if allParked {
				es, err := store.DLQEntriesForTask(ctx, j.UUID)
				if err != nil {
					return fmt.Errorf("DLQ entries of %s: %w", j.UUID, err)
				}
				allParked = len(es) > 0
			}
		}
		pending = still
		switch {
		case len(pending) == 0:
			return nil
		case !allParked:
			parkedAt = time.Time{}
		case parkedAt.IsZero():
			parkedAt = time.Now()
		case time.Since(parkedAt) > parkedGrace:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}
