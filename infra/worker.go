package infra

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Worker defaults.
const (
	// DefaultWorkerMemoryMB suits handlers that mostly wait on I/O.
	DefaultWorkerMemoryMB = 256
	// DefaultWorkerMaxConcurrency caps concurrent batches of one namespace,
	// so a burst of steps cannot take the account's whole concurrency or
	// hammer the systems your handlers call.
	DefaultWorkerMaxConcurrency = 20
	// maxLambdaTimeout is Lambda's limit.
	maxLambdaTimeout = 15 * time.Minute
)

// NamespaceWorkerProps configures the worker function of one namespace.
type NamespaceWorkerProps struct {
	// Tasker is the installation the worker serves; required.
	Tasker *Tasker
	// Namespace is the template namespace whose steps the function runs;
	// required. Its step queue is created with the worker.
	Namespace string
	// Code is the function's code: a directory holding a `bootstrap` built
	// for provided.al2023 on arm64 from a main like functions/worker with
	// your handlers registered; required.
	Code awslambda.Code
	// MemoryMB is the function's memory (and so its CPU share); default
	// DefaultWorkerMemoryMB.
	MemoryMB int
	// Timeout bounds one invocation, a batch of steps processed
	// concurrently, so it must exceed your slowest step; at most 15
	// minutes. Default resources.DefaultStepConsumerTimeout. The step
	// queue's visibility timeout is derived from it (six times), exactly as
	// resources.QueueSpec.WithConsumerTimeout does for `tasker dev`.
	Timeout time.Duration
	// BatchSize is the number of step messages per invocation, 1 to 10;
	// default 10 (no batching window: an invocation starts as soon as
	// messages arrive).
	BatchSize int
	// MaxConcurrency caps concurrent invocations, 2 to 1000; default
	// DefaultWorkerMaxConcurrency.
	MaxConcurrency int
	// ReservedConcurrency reserves account concurrency for the function;
	// default none. When set it should be at least MaxConcurrency.
	ReservedConcurrency int
	// Environment is added to the function's environment (TASKER_PREFIX and
	// TASKER_LOG_LEVEL are set already). Not for secrets: read those from
	// Secrets Manager or SSM at cold start.
	Environment map[string]string
}

// NamespaceWorker is a namespace's step queue and the Lambda function that
// consumes it.
type NamespaceWorker struct {
	Namespace string
	Queue     *Queue
	Function  *Function
}

// NewNamespaceWorker adds a worker function for props.Namespace to
// props.Tasker: the namespace's step queue (and DLQ), the function with
// its own role (claim, checkpoint and payload writes on the table, sends to
// the results queue, nothing else), an SQS event source that reports
// partial batch failures, and alarms on errors, throttles, the queue's age
// and its DLQ. It returns an error for missing or out-of-range props, or a
// namespace that already has a step queue.
func NewNamespaceWorker(scope constructs.Construct, id string, props *NamespaceWorkerProps) (*NamespaceWorker, error) {
	p, err := props.withDefaults()
	if err != nil {
		return nil, err
	}
	t := p.Tasker
	spec, err := t.StepQueueSpec(p.Namespace)
	if err != nil {
		return nil, err
	}
	spec = spec.WithConsumerTimeout(p.Timeout)
	q, err := t.AddStepQueue(p.Namespace, spec)
	if err != nil {
		return nil, err
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	f := t.newFunction(c, "Function", functionSpec{
		short:       "worker-" + p.Namespace,
		description: "Tasker worker for namespace " + p.Namespace,
		code:        p.Code,
		memoryMB:    p.MemoryMB,
		timeout:     spec.ConsumerTimeout,
		reserved:    p.ReservedConcurrency,
		env:         p.Environment,
	})
	f.allow(workerTableActions, t.Table.ARN())
	f.allow(sendActions, t.Results.Queue.QueueArn())
	f.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(q.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(p.BatchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(float64(p.MaxConcurrency)),
	}))
	t.addFunctionAlarms(f)
	addFunctionWidgets(t.Dashboard, "worker: "+p.Namespace, f)
	return &NamespaceWorker{Namespace: p.Namespace, Queue: q, Function: f}, nil
}

func (p *NamespaceWorkerProps) withDefaults() (NamespaceWorkerProps, error) {
	if p == nil {
		return NamespaceWorkerProps{}, errors.New("NamespaceWorkerProps are required")
	}
	out := *p
	var errs []error
	if out.Tasker == nil {
		errs = append(errs, errors.New("Tasker is required"))
	}
	if out.Code == nil {
		errs = append(errs, errors.New("Code is required"))
	}
	if out.MemoryMB == 0 {
		out.MemoryMB = DefaultWorkerMemoryMB
	}
	if out.BatchSize == 0 {
		out.BatchSize = engineBatchSize
	}
	if out.MaxConcurrency == 0 {
		out.MaxConcurrency = DefaultWorkerMaxConcurrency
	}
	if out.Timeout == 0 && out.Tasker != nil {
		spec, err := out.Tasker.StepQueueSpec(out.Namespace)
		if err == nil {
			out.Timeout = spec.ConsumerTimeout
		}
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{out.MemoryMB >= 128 && out.MemoryMB <= 10240, fmt.Sprintf("MemoryMB %d must be in [128, 10240]", out.MemoryMB)},
		{out.Timeout >= time.Second && out.Timeout <= maxLambdaTimeout && out.Timeout%time.Second == 0,
			fmt.Sprintf("Timeout %v must be whole seconds in [1s, 15m]", out.Timeout)},
		{out.BatchSize >= 1 && out.BatchSize <= 10, fmt.Sprintf("BatchSize %d must be in [1, 10]", out.BatchSize)},
		{out.MaxConcurrency >= 2 && out.MaxConcurrency <= 1000, fmt.Sprintf("MaxConcurrency %d must be in [2, 1000]", out.MaxConcurrency)},
		{out.ReservedConcurrency >= 0, fmt.Sprintf("ReservedConcurrency %d must not be negative", out.ReservedConcurrency)},
	}
	for _, c := range checks {
		if !c.ok {
			errs = append(errs, errors.New(c.what))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return NamespaceWorkerProps{}, fmt.Errorf("namespace worker %q: %w", out.Namespace, err)
	}
	return out, nil
}
