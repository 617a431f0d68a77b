package telemetry

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of Tasker's own metrics and spans.
const ScopeName = "github.com/tasker-go/tasker"

// Metric names, as Tasker Core names them (docs/observability.md lists
// each with its unit, attributes and where it is recorded).
const (
	MetricTaskRequests         = "tasker.tasks.requests.total"
	MetricTaskCompletions      = "tasker.tasks.completions.total"
	MetricTaskFailures         = "tasker.tasks.failures.total"
	MetricTaskCancellations    = "tasker.tasks.cancellations.total"
	MetricTasksActive          = "tasker.tasks.active"
	MetricStepsEnqueued        = "tasker.steps.enqueued.total"
	MetricStepsClaimed         = "tasker.steps.claimed.total"
	MetricStepsExecutions      = "tasker.steps.executions.total"
	MetricStepsSuccesses       = "tasker.steps.successes.total"
	MetricStepsFailures        = "tasker.steps.failures.total"
	MetricStepsResultsSent     = "tasker.steps.results_submitted.total"
	MetricStepsRetries         = "tasker.steps.retries_scheduled.total"
	MetricStepsErrored         = "tasker.steps.errors.total"
	MetricStepsActive          = "tasker.steps.active_executions"
	MetricStepsDuplicates      = "tasker.steps.duplicate_deliveries.total"
	MetricClaimDuration        = "tasker.step.claim.duration"
	MetricExecutionDuration    = "tasker.step.execution.duration"
	MetricResultProcessing     = "tasker.step_result.processing.duration"
	MetricResultSubmission     = "tasker.step_result.submission.duration"
	MetricQueueDepth           = "tasker.queue.depth"
	MetricQueueAge             = "tasker.queue.age_seconds"
	MetricDLQEntriesCreated    = "tasker.dlq.entries_created.total"
	MetricStalenessRuns        = "tasker.staleness.detection_runs.total"
	MetricStalenessDetected    = "tasker.staleness.tasks_detected.total"
	MetricStalenessDuration    = "tasker.staleness.detection.duration"
	MetricSweepRecoveries      = "tasker.sweep.recoveries.total"
	MetricDecisionsProcessed   = "tasker.decision_points.processed.total"
	MetricDecisionStepsCreated = "tasker.decision_points.steps_created.total"
	MetricDecisionDuration     = "tasker.decision_point.processing.duration"
)

// durationBuckets are the histogram bounds of every duration, in seconds
// (1 ms to 60 s).
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Metrics holds Tasker's instruments. Its methods are safe for concurrent
// use; a nil *Metrics records nothing.
type Metrics struct {
	taskRequests, taskCompletions, taskFailures, taskCancellations metric.Int64Counter
	tasksActive                                                    metric.Int64UpDownCounter
	stepsEnqueued, stepsClaimed, stepsExecutions                   metric.Int64Counter
	stepsSuccesses, stepsFailures, stepsResultsSent                metric.Int64Counter
	stepsRetries, stepsErrored, stepsDuplicates                    metric.Int64Counter
	stepsActive                                                    metric.Int64UpDownCounter
	claimDuration, executionDuration                               metric.Float64Histogram
	resultProcessing, resultSubmission, queueAge                   metric.Float64Histogram
	dlqEntries, stalenessRuns, stalenessDetected, sweepRecoveries  metric.Int64Counter
	stalenessDuration                                              metric.Float64Histogram
	decisions, decisionSteps                                       metric.Int64Counter
	decisionDuration                                               metric.Float64Histogram
}

// NewMetrics creates Tasker's instruments on mp.
func NewMetrics(mp metric.MeterProvider) (*Metrics, error) {
	m := mp.Meter(ScopeName)
	var errs []error
	counter := func(name, desc, unit string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	updown := func(name, desc, unit string) metric.Int64UpDownCounter {
		c, err := m.Int64UpDownCounter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	seconds := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		errs = append(errs, err)
		return h
	}
	out := &Metrics{
		taskRequests:      counter(MetricTaskRequests, "Tasks created.", "{task}"),
		taskCompletions:   counter(MetricTaskCompletions, "Tasks that reached complete.", "{task}"),
		taskFailures:      counter(MetricTaskFailures, "Tasks that reached error.", "{task}"),
		taskCancellations: counter(MetricTaskCancellations, "Tasks cancelled.", "{task}"),
		tasksActive:       updown(MetricTasksActive, "Tasks created and not yet finished (this process's view).", "{task}"),
		stepsEnqueued:     counter(MetricStepsEnqueued, "Step attempts enqueued to a namespace queue.", "{step}"),
		stepsClaimed:      counter(MetricStepsClaimed, "Step attempts a worker claimed.", "{step}"),
		stepsExecutions:   counter(MetricStepsExecutions, "Step handler runs.", "{step}"),
		stepsSuccesses:    counter(MetricStepsSuccesses, "Step attempts that succeeded.", "{step}"),
		stepsFailures:     counter(MetricStepsFailures, "Step attempts that failed (retryable or permanent).", "{step}"),
		stepsResultsSent:  counter(MetricStepsResultsSent, "Step results a worker reported.", "{step}"),
		stepsRetries:      counter(MetricStepsRetries, "Steps put into waiting_for_retry.", "{step}"),
		stepsErrored:      counter(MetricStepsErrored, "Steps that reached error (no attempts left or permanent).", "{step}"),
		stepsDuplicates:   counter(MetricStepsDuplicates, "Step messages acknowledged without running the handler (duplicate or stale delivery).", "{message}"),
		stepsActive:       updown(MetricStepsActive, "Step messages a worker is processing now.", "{step}"),
		claimDuration:     seconds(MetricClaimDuration, "Time to claim a step (the guarded write)."),
		executionDuration: seconds(MetricExecutionDuration, "Time a step handler ran."),
		resultProcessing:  seconds(MetricResultProcessing, "Time the engine took to apply a step result."),
		resultSubmission:  seconds(MetricResultSubmission, "Time a worker took to report a result (in process or to the results queue)."),
		queueAge:          seconds(MetricQueueAge, "Time a step message waited between enqueue and a worker receiving it."),
		dlqEntries:        counter(MetricDLQEntriesCreated, "DLQ entries created from dead-lettered messages.", "{entry}"),
		stalenessRuns:     counter(MetricStalenessRuns, "Sweeps run (staleness detection runs).", "{run}"),
		stalenessDetected: counter(MetricStalenessDetected, "Tasks the sweeper found stale.", "{task}"),
		stalenessDuration: seconds(MetricStalenessDuration, "Time one sweep took."),
		sweepRecoveries:   counter(MetricSweepRecoveries, "Work the sweeper did that no message brought, by kind: timed_out (a dead worker's claim), resent (a lost step message), enqueued (a lost enqueue), started (a task left pending), retried (a retry beyond SQS's delay).", "{step}"),
		decisions:         counter(MetricDecisionsProcessed, "Decision point outcomes applied.", "{decision}"),
		decisionSteps:     counter(MetricDecisionStepsCreated, "Steps decision points asked for.", "{step}"),
		decisionDuration:  seconds(MetricDecisionDuration, "Time to apply a decision step's result."),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
