package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Store is the part of the state store a worker uses; *dynamo.Store
// satisfies it. ClaimStep (and ClaimPendingStep, for a message sent
// without a stored enqueue) returns workflow.ErrConflict for a duplicate or
// stale delivery; SaveCheckpoint returns it when the attempt is no longer in
// progress; SavePayload returns workflow.ErrTooLarge for a payload the store
// cannot hold; LoadPayload returns workflow.ErrNotFound for a missing one.
type Store interface {
	ClaimStep(ctx context.Context, taskUUID, stepName string, attempt int, timeout time.Duration,
		workerID, correlationID string, now time.Time) (*workflow.Step, error)
	ClaimPendingStep(ctx context.Context, taskUUID, stepName string, attempt int, timeout time.Duration,
		workerID, correlationID string, enqueuedAt, now time.Time) (*workflow.Step, error)
	SavePayload(ctx context.Context, taskUUID, id string, data []byte) (*protocol.PayloadRef, error)
	LoadPayload(ctx context.Context, ref *protocol.PayloadRef) ([]byte, error)
	SaveCheckpoint(ctx context.Context, taskUUID, name string, attempt int, checkpoint json.RawMessage, now time.Time) error
}

// SQSAPI is the part of the SQS client a worker uses; *sqs.Client satisfies
// it. The Lambda host (HandleSQSEvent) only sends; Poll also receives,
// deletes and changes visibility.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// ResultSink applies a step result; *engine.Engine implements it.
type ResultSink interface {
	HandleResult(ctx context.Context, msg *protocol.ResultMessage) error
}

// DefaultTimeout is a step's deadline when its message names none; it
// matches the store's default claim timeout.
const DefaultTimeout = 30 * time.Second

// DefaultConcurrency bounds the messages a worker processes at once, both in
// HandleSQSEvent and in Poll, unless configured otherwise.
const DefaultConcurrency = 10

// Config configures a Worker. Store, SQS, ResultsQueueURL and Registry are
// required.
type Config struct {
	// Store claims steps and holds large payloads and checkpoints.
	Store Store
	// SQS sends results (and, for Poll, receives step messages).
	SQS SQSAPI
	// ResultsQueueURL is the URL of the results queue.
	ResultsQueueURL string
	// Registry maps callables to handlers.
	Registry *Registry
	// WorkerID identifies this worker in the step's history and results;
	// default "<hostname>-<pid>-<random>".
	WorkerID string
	// Clock is the time source for claims, checkpoints and result
	// timestamps; default time.Now.
	Clock func() time.Time
	// Logger receives one line per attempt; default slog.Default().
	Logger *slog.Logger
	// OnMalformed, if set, is called for each message that is not a valid
	// step message. Such a message is logged and acknowledged (deleted): it
	// can never succeed. Use the hook for a metric or an alarm.
	OnMalformed func(ctx context.Context, body []byte, err error)
	// ResultSink, when set, applies results in this process (the engine's
	// HandleResult) instead of sending them to the results queue: one queue
	// hop and three SQS requests less per step. If the sink fails, the
	// result is sent to the results queue as usual, where applying it again
	// is safe. Workers in other languages, or without state-table write
	// access beyond their claims, leave it nil.
	ResultSink ResultSink
	// EventConcurrency bounds how many records of one SQS event
	// HandleSQSEvent processes at once; default DefaultConcurrency.
	EventConcurrency int
	// Observer, when set, is told about every attempt (spans, metrics:
	// pkg/telemetry), and the worker then continues traces from the step
	// messages' attributes and passes them on with its results.
	Observer Observer
}

// Worker runs step handlers for step messages. It is safe for concurrent
// use.
type Worker struct {
	store            Store
	sqs              SQSAPI
	resultsURL       string
	registry         *Registry
	id               string
	clock            func() time.Time
	log              *slog.Logger
	onMalformed      func(ctx context.Context, body []byte, err error)
	eventConcurrency int
	sink             ResultSink
	observer         Observer
}

// New validates cfg and returns a worker. The error wraps ErrInvalidConfig
// and names every missing field.
func New(cfg Config) (*Worker, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if cfg.SQS == nil {
		errs = append(errs, errors.New("SQS is required"))
	}
	if cfg.ResultsQueueURL == "" {
		errs = append(errs, errors.New("ResultsQueueURL is required"))
	}
	if cfg.Registry == nil {
		errs = append(errs, errors.New("Registry is required"))
	}
	if cfg.EventConcurrency < 0 {
		errs = append(errs, fmt.Errorf("EventConcurrency must be >= 0, got %d", cfg.EventConcurrency))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	w := &Worker{
		store: cfg.Store, sqs: cfg.SQS, resultsURL: cfg.ResultsQueueURL, registry: cfg.Registry,
		id: cfg.WorkerID, clock: cfg.Clock, log: cfg.Logger, onMalformed: cfg.OnMalformed,
		eventConcurrency: cfg.EventConcurrency, sink: cfg.ResultSink, observer: cfg.Observer,
	}
	if w.id == "" {
		w.id = defaultWorkerID()
	}
	if w.clock == nil {
		w.clock = time.Now
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.eventConcurrency == 0 {
		w.eventConcurrency = DefaultConcurrency
	}
	return w, nil
}

// ID returns the worker's ID as recorded in step histories.
func (w *Worker) ID() string { return w.id }

func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
