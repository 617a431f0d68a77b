package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/telemetry"
	"github.com/tasker-go/tasker/pkg/worker"
)

// EnvPrefix names the variable carrying the resource prefix (table and queue
// names derive from it, see resources.Names).
const EnvPrefix = "TASKER_PREFIX"

// Deps are the clients and engine a function builds once per cold start.
type Deps struct {
	Names  resources.Names
	SQS    *sqs.Client
	Queue  *sqsqueue.Sender // the engine's sender (queue URLs cached once per cold start)
	Store  *dynamo.Store
	Engine *engine.Engine
	Logger *slog.Logger
	// Telemetry is the function's metrics and tracing (see
	// telemetry.FromEnv); flush it after each invocation (WithFlush).
	Telemetry *telemetry.Telemetry
}

// FromEnv builds a function's dependencies from its environment: the
// resource prefix (TASKER_PREFIX, default "tasker"), the AWS SDK's
// standard settings (region, credentials, AWS_ENDPOINT_URL*), JSON logs on
// stdout (TASKER_LOG_LEVEL, TASKER_LOG_REDACT_KEYS) and telemetry
// (TASKER_METRICS, TASKER_TRACING; see docs/observability.md).
func FromEnv(ctx context.Context, processor string) (*Deps, error) {
	log := telemetry.LoggerFromEnv().With("function", processor)
	tel, err := telemetry.FromEnv(ctx, processor, processor == "intake")
	if err != nil {
		return nil, err
	}
	names := resources.Names{Prefix: os.Getenv(EnvPrefix)}
	if names.Prefix == "" {
		names.Prefix = "tasker"
	}
	opts := awsconn.FromEnv()
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	store := dynamo.New(awsconn.DynamoDB(cfg, opts), names.StateTable())
	sq := awsconn.SQS(cfg, opts)
	sender := sqsqueue.New(sq, nil)
	eng, err := engine.New(engine.Config{Store: store, Queue: sender, DeadLetters: sender, Names: names,
		Processor: processor, Logger: log, Notify: tel.EngineNotify(nil), Checked: tel.EngineChecked()})
	if err != nil {
		return nil, err
	}
	return &Deps{Names: names, SQS: sq, Queue: sender, Store: store, Engine: eng, Logger: log, Telemetry: tel}, nil
}

// EnvInlineResults, set to "true", makes a worker function apply results in
// process with the engine (one queue hop less per step); its role then needs
// the engine's permissions, not only a worker's. By default results go
// through the results queue, so a worker holds least privilege.
const EnvInlineResults = "TASKER_INLINE_RESULTS"

// NewWorker builds a worker for the handlers in reg that sends results to
// the stack's results queue (its URL is looked up once, at cold start), or
// applies them in process when TASKER_INLINE_RESULTS=true.
func (d *Deps) NewWorker(ctx context.Context, reg *worker.Registry) (*worker.Worker, error) {
	url, err := d.Queue.URL(ctx, d.Names.ResultsQueue())
	if err != nil {
		return nil, err
	}
	cfg := worker.Config{Store: d.Store, SQS: d.SQS, ResultsQueueURL: url, Registry: reg, Logger: d.Logger,
		Observer: d.Telemetry.WorkerObserver()}
	if os.Getenv(EnvInlineResults) == "true" {
		cfg.ResultSink = d.Telemetry.ResultSink(d.Engine)
	}
	return worker.New(cfg)
}
