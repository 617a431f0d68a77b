package samplehandlers

import (
	"context"
	"fmt"
	"time"

	"github.com/tasker-go/tasker/pkg/worker"
)

// Options controls the handlers RegisterWith and RegisterAcceptanceWith add.
// The zero value adds them as Register does.
type Options struct {
	// Recorder, when set, records every invocation (task, step, attempt,
	// start and end time, error).
	Recorder *Recorder
	// Delay is artificial work every invocation performs before its handler
	// runs; 0 means none. The wait ends early when the step's context is
	// done, and the attempt then fails with the context's error.
	Delay time.Duration
	// Now is the clock for timestamps in sample results; time.Now when nil.
	// The acceptance handlers return no timestamps.
	Now func() time.Time
}

// Register adds every sample and acceptance handler to r: the handler of
// every step of every template under templates/. It panics, as
// worker.Registry.Register does, when one of the names is already
// registered, so call it once per registry and do not combine it with
// RegisterAcceptance.
func Register(r *worker.Registry) { RegisterWith(r, Options{}) }

// RegisterAcceptance adds only the acceptance handlers (math.*, approval.*,
// batch.*, faults.*) to r. It panics when one of the names is already
// registered.
func RegisterAcceptance(r *worker.Registry) { RegisterAcceptanceWith(r, Options{}) }

// RegisterWith is Register with options: every handler is wrapped so it
// waits opts.Delay and is recorded by opts.Recorder.
func RegisterWith(r *worker.Registry, opts Options) {
	install(r, opts, acceptanceHandlers())
	install(r, opts, newSamples(opts.Now).handlers())
}

// RegisterAcceptanceWith is RegisterAcceptance with options.
func RegisterAcceptanceWith(r *worker.Registry, opts Options) {
	install(r, opts, acceptanceHandlers())
}

// entry is a handler and the callable it is registered under.
type entry struct {
	name string
	fn   worker.HandlerFunc
}

// acceptanceHandlers returns the handlers the acceptance templates call,
// with the behaviour the shared acceptance suite (shared/acceptance/README.md) specifies.
func acceptanceHandlers() []entry {
	return []entry{
		{"math.square_even_number", squareEvenNumber},
		{"math.square_parents_product", squareParentsProduct},
		{"approval.validate_request", validateRequest},
		{"approval.route_by_amount", routeByAmount},
		{"approval.approve", approve},
		{"approval.finalize", finalizeApproval},
		{"batch.analyze_dataset", analyzeDataset},
		{"batch.process_batch", processBatch},
		{"batch.aggregate", aggregateBatches},
		{"faults.fail_n_times", failNTimes},
	}
}

func install(r *worker.Registry, opts Options, entries []entry) {
	for _, e := range entries {
		r.Register(e.name, instrument(e.name, e.fn, opts))
	}
}

// instrument wraps fn with opts' delay and recorder; it returns fn itself
// when there is neither.
func instrument(name string, fn worker.HandlerFunc, opts Options) worker.HandlerFunc {
	if opts.Recorder == nil && opts.Delay <= 0 {
		return fn
	}
	return func(ctx context.Context, s *worker.Step) (res worker.Result, err error) {
		if rec := opts.Recorder; rec != nil {
			run := Run{TaskUUID: s.TaskUUID, Step: s.Name, Handler: name, Attempt: s.Attempt, Start: rec.now()}
			defer func() {
				run.End = rec.now()
				p := recover()
				switch {
				case p != nil:
					run.Err = fmt.Sprintf("panic: %v", p)
				case err != nil:
					run.Err = err.Error()
				}
				rec.add(run)
				if p != nil {
					panic(p) // the worker turns it into a retryable "panic" error
				}
			}()
		}
		if err := work(ctx, opts.Delay); err != nil {
			return worker.Result{}, err
		}
		return fn(ctx, s)
	}
}

// work waits d, or until ctx is done.
func work(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("simulated work: %w", ctx.Err())
	}
}
