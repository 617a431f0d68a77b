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
}

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
	return fmt.Sprintf("seed=%d elapsed=%s outcomes=%v faults: %s", r.Seed, r.Elapsed.Round(time.Millisecond), r.Outcomes, formatFaults(r.Faults))
}

// Run starts a stack whose AWS clients and handlers inject faults, runs the
// workload, waits for it to settle and checks the invariants. It returns an
// error when the harness itself cannot run (stack start, task creation);
// broken invariants are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	flog := newFaultLog()
	af := &awsFaults{throttleRate: cfg.ThrottleRate, duplicateRate: cfg.DuplicateRate,
		rng: newLockedRand(cfg.Seed, 1), log: flog, clean: cfg.Env.SQS}
	ddb, sq, err := faultyClients(ctx, cfg.Env.ClientOptions, af)
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
		DynamoDB: ddb, SQS: sq, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	defer func() { _ = st.Close() }()

	jobs := workload(cfg.Seed, cfg.Tasks, cfg.FailRate)
	if err := createAll(ctx, st.Engine, jobs); err != nil {
		return nil, err
	}
	// Checks read through clients without faults.
	store := dynamo.New(cfg.Env.DynamoDB, st.Names.StateTable())
	rep := &Report{Seed: cfg.Seed, Tasks: len(jobs), Outcomes: map[string]int{}}
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
	rep.Faults = flog.snapshot()
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// faultyClients builds DynamoDB and SQS clients for the local AWS with the
// fault middleware on their stacks.
func faultyClients(ctx context.Context, base awsconn.Options, af *awsFaults) (*dynamodb.Client, *sqs.Client, error) {
	withFaults := func(kind FaultKind, duplicate bool) awsconn.Options {
		o := base
		o.APIOptions = append(slices.Clone(base.APIOptions), af.apiOptions(kind, duplicate)...)
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

// settle waits until every task is terminal or the deadline passes; tasks
// still running then are reported by checkTask as unsettled.
func settle(ctx context.Context, store *dynamo.Store, jobs []*job, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	pending := slices.Clone(jobs)
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []*job
		for _, j := range pending {
			t, err := store.GetTask(ctx, j.UUID)
			if err != nil {
				return fmt.Errorf("get task %s: %w", j.UUID, err)
			}
			if !t.State.Terminal() {
				still = append(still, j)
			}
		}
		pending = still
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}
