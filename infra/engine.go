package infra

import (
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"
)

// IAM actions by use. No wildcards: each list names what the code calls.
var (
	// engineTableActions are the DynamoDB calls of pkg/dynamo.Store that the
	// engine makes (TransactWriteItems is authorised per item as PutItem,
	// UpdateItem, DeleteItem or ConditionCheckItem; BatchWriteItem, which
	// writes a new task's steps, as itself). TestEngineActionsCoverStoreCalls
	// keeps the list in step with the store's code.
	engineTableActions = []string{
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
		"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
		"dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem",
	}
	// intakeTableActions are the API's own: listing tasks of every
	// namespace (GET /v1/tasks without a namespace) scans the table.
	intakeTableActions = []string{"dynamodb:Scan"}
	// workerTableActions are what a worker's store calls make: claim and
	// checkpoint (UpdateItem), save and load payloads (PutItem, GetItem).
	workerTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	// sendActions send to a queue found by name (pkg/sqsqueue looks the URL
	// up once; SendMessageBatch is authorised as SendMessage).
	sendActions = []string{"sqs:GetQueueUrl", "sqs:SendMessage"}
)

// Engine function sizing. Memory also buys CPU (a full vCPU at 1,769 MB),
// so the numbers weigh per-invocation cost against latency.
const (
	// intakeMemoryMB: validating a context of up to 256 KiB against a JSON
	// schema and marshalling the transaction is CPU work on the request path.
	intakeMemoryMB = 256
	// intakeTimeout stays well under API Gateway's 30 s integration limit,
	// so a stuck call ends as the function's error rather than a gateway 503.
	// A create is one transaction and a few writes: ~50 ms.
	intakeTimeout = 15 * time.Second
	// schedulerMemoryMB: orchestration messages are small and rare (retries,
	// recovery); the least memory that keeps cold starts short.
	schedulerMemoryMB = 256
	// schedulerConcurrency caps concurrent orchestration batches; retries
	// arrive spread by backoff, so few are needed, and a redrive storm must
	// not crowd out result processing on the table.
	schedulerConcurrency = 10
	// resultsMemoryMB: the busiest function (one invocation per batch of up
	// to 10 results, processed concurrently, each result up to 200 KiB):
	// more CPU shortens every step's critical path.
	resultsMemoryMB = 512
	// resultsConcurrency caps concurrent result batches. Each result costs
	// ~5 writes, so 50 batches of 10 can reach several thousand writes per
	// second: within a new on-demand table's 4,000 WRU/s burst and the
	// 40,000 WRU/s table quota, while a backlog drains steadily instead of
	// throttling the table every other function also writes to.
	resultsConcurrency = 50
	// sweeperMemoryMB: a sweep queries 8 index shards and acts on what is due.
	sweeperMemoryMB = 256
	// sweeperTimeout is below the one-minute schedule, so sweeps never
	// overlap; the next sweep picks up what this one did not finish.
	sweeperTimeout = 50 * time.Second
	// engineBatchSize is the largest batch that needs no batching window;
	// with no window Lambda invokes as soon as a poll returns messages, the
	// lowest latency, and handlers process a batch's records concurrently.
	engineBatchSize = 10
)

// addEngineFunctions builds intake, scheduler, results, sweeper and the
// authorizer, with their permissions and event sources.
func (t *Tasker) addEngineFunctions() error {
	var err error
	if t.Intake, err = t.engineFunction("Intake", functionSpec{
		short: "intake", description: "Tasker HTTP API: create and query tasks; the dashboard under /ui",
		memoryMB: intakeMemoryMB, timeout: intakeTimeout,
		// The dashboard authenticates its session cookie as the authorizer
		// authenticates requests, from the same configuration.
		env: t.authEnvironment(),
	}); err != nil {
		return err
	}
	t.Intake.allow(intakeTableActions, t.Table.ARN())
	if t.Scheduler, err = t.engineFunction("Scheduler", functionSpec{
		short: "scheduler", description: "Tasker orchestration queue: task starts, retries, redrives, schedules",
		memoryMB: schedulerMemoryMB, timeout: t.Orchestration.Spec.ConsumerTimeout, reserved: schedulerConcurrency,
	}); err != nil {
		return err
	}
	if t.ResultsFn, err = t.engineFunction("ResultsFn", functionSpec{
		short: "results", description: "Tasker results queue: apply step results",
		memoryMB: resultsMemoryMB, timeout: t.Results.Spec.ConsumerTimeout, reserved: resultsConcurrency,
	}); err != nil {
		return err
	}
	if t.Sweeper, err = t.engineFunction("Sweeper", functionSpec{
		short: "sweeper", description: "Tasker sweeper: time-based recovery, every minute",
		memoryMB: sweeperMemoryMB, timeout: sweeperTimeout, reserved: 1,
	}); err != nil {
		return err
	}
	// A failed sweep is not retried: the next one starts within a minute.
	t.Sweeper.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(0),
		MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(1)),
	})
	addSQSSource(t.Scheduler, t.Orchestration, schedulerConcurrency)
	addSQSSource(t.ResultsFn, t.Results, resultsConcurrency)
	return t.addAuthorizer()
}

// engineFunction builds one of the functions that run the engine: each may
// take any engine path (intake starts tasks, the sweeper retries steps), so
// each gets the engine's table actions and sends to the orchestration queue
// and every step queue.
func (t *Tasker) engineFunction(id string, s functionSpec) (*Function, error) {
	code, err := t.code(s.short)
	if err != nil {
		return nil, err
	}
	s.code = code
	f := t.newFunction(t.Scope, id, s)
	f.allow(engineTableActions, append([]*string{t.Table.ARN()}, t.Table.IndexARNs()...)...)
	send := f.allow(sendActions, t.Orchestration.Queue.QueueArn())
	for _, ns := range slices.Sorted(maps.Keys(t.stepQueues)) {
		send.AddResources(t.stepQueues[ns].Queue.QueueArn())
	}
	t.sends = append(t.sends, send)
	return f, nil
}

// addSQSSource subscribes f to q: batches of up to 10 with no batching
// window (latency first), partial batch failures reported so one failed
// record does not redeliver the batch, and at most maxConcurrency
// concurrent invocations. The mapping grants f receive, delete and
// visibility changes on q only.
func addSQSSource(f *Function, q *Queue, maxConcurrency int) {
	f.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(q.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(engineBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(float64(maxConcurrency)),
	}))
}
