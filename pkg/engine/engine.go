// Package engine is Tasker's orchestration logic: it creates tasks, decides
// which steps are ready, enqueues them, applies step results (including
// decision and batch outcomes), schedules retries and finalizes tasks. It is
// the same code in every Lambda function and in `tasker dev`; the functions
// only feed it events.
//
// Every change goes through the store's guarded writes, so each entry point
// is safe to run again on a redelivered message: a change that was already
// applied is detected (workflow.ErrConflict plus a read) and the follow-up
// work (propagating to dependents, finalizing) is redone idempotently.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// Queue is what the engine needs from the message queue.
type Queue interface {
	Send(ctx context.Context, queue string, m sqsqueue.Message) error
	SendBatch(ctx context.Context, queue string, msgs []sqsqueue.Message) error
}

// Event is published after the engine changed a task or a step, for live
// progress displays and completion notifications. Publishing is best effort
// and never blocks the engine.
type Event struct {
	TaskUUID  string
	Namespace string // the task's namespace
	StepName  string // "" for task events
	State     string
	Attempt   int
	At        time.Time
}

// Config wires an engine.
type Config struct {
	Store *dynamo.Store
	Queue Queue
	Names resources.Names
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// NewID returns a new UUID string; default UUIDv7.
	NewID func() string
	// Processor identifies this process in transition records.
	Processor string
	Logger    *slog.Logger
	// Notify, when set, receives events (must not block).
	Notify func(Event)
	// Checked, when set, receives what a task's first check did when it
	// came as a check_task message rather than in a sweep (telemetry counts
	// it with the sweeper's recoveries).
	Checked func(context.Context, SweepReport)
	// IndexFirstCheck puts a new task's first check in the sweep index (as
	// when its check_task message cannot be sent) instead of sending it as a
	// delayed message: for callers that drive every check with Sweep (tests
	// on a fake clock).
	IndexFirstCheck bool
	// MaxStepsPerDecision bounds the steps one decision may create (default 100).
	MaxStepsPerDecision int
	// MaxDecisionDepth bounds nested decisions (default 10).
	MaxDecisionDepth int
	// MaxBatchWorkers bounds the workers one batchable step may create (default 10000).
	MaxBatchWorkers int
	// DeadLetters, when set, lets the sweeper turn dead-lettered messages into DLQ entries.
	DeadLetters DeadLetters
	// EnqueueResendAfter is how long a step may sit enqueued before the sweeper
	// sends its message again (default 15 minutes).
	EnqueueResendAfter time.Duration
	// SweepBatch is how many due items a sweep reads at a time (default
	// 500); a sweep takes several rounds when more are due.
	SweepBatch int
}

// Engine orchestrates tasks.
type Engine struct {
	cfg       Config
	store     *dynamo.Store
	queue     Queue
	log       *slog.Logger
	templates sync.Map // key → *template.Template
	sinks     sync.Map // template key → its covering sink, "" when none
	initial   sync.Map // template key → map[string]bool of its initial steps
	contexts  *contextCache
}

// New returns an engine; it returns an error naming a missing field.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: Config.Store is required")
	}
	if cfg.Queue == nil {
		return nil, errors.New("engine: Config.Queue is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Processor == "" {
		cfg.Processor = "engine"
	}
	if cfg.MaxStepsPerDecision <= 0 {
		cfg.MaxStepsPerDecision = 100
	}
	if cfg.MaxDecisionDepth <= 0 {
		cfg.MaxDecisionDepth = 10
	}
	if cfg.MaxBatchWorkers <= 0 {
		cfg.MaxBatchWorkers = 10000
	}
	if cfg.EnqueueResendAfter <= 0 {
		cfg.EnqueueResendAfter = 15 * time.Minute
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = defaultSweepBatch
	}
	return &Engine{cfg: cfg, store: cfg.Store, queue: cfg.Queue, log: cfg.Logger, contexts: newContextCache(4096)}, nil
}

// Store returns the engine's store.
func (e *Engine) Store() *dynamo.Store { return e.store }

func (e *Engine) now() time.Time { return e.cfg.Clock().UTC() }

func (e *Engine) notify(ev Event) {
	if e.cfg.Notify != nil {
		e.cfg.Notify(ev)
	}
}

// ErrTemplateNotFound means no template is registered under the requested
// namespace, name and version.
var ErrTemplateNotFound = errors.New("template not found")

// ErrNoStepQueue means a template's namespace has no step queue, so its
// steps could never be enqueued (in AWS: deploy a worker for the namespace).
var ErrNoStepQueue = errors.New("no step queue for the namespace")

// queueChecker is implemented by queues that can tell whether a queue exists.
type queueChecker interface {
	URL(ctx context.Context, name string) (string, error)
}

// RegisterTemplate stores a template version so tasks can be created from it.
// Registering the same template again is a no-op; a different template under
// an existing version returns workflow.ErrConflict; a namespace without a
// step queue returns ErrNoStepQueue.
func (e *Engine) RegisterTemplate(ctx context.Context, t *template.Template) error {
	if qc, ok := e.queue.(queueChecker); ok {
		if _, err := qc.URL(ctx, e.cfg.Names.StepQueue(t.Namespace)); err != nil {
			if errors.Is(err, sqsqueue.ErrQueueMissing) {
				return fmt.Errorf("register %s: %w %q (queue %s); provision it or deploy a worker for it first",
					t.Key(), ErrNoStepQueue, t.Namespace, e.cfg.Names.StepQueue(t.Namespace))
			}
			return fmt.Errorf("register %s: %w", t.Key(), err)
		}
	}
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("register template %s: %w", t.Key(), err)
	}
	if err := e.store.PutTemplate(ctx, t.Namespace, t.Name, t.Version, body); err != nil {
		return err
	}
	e.templates.Store(t.Key(), t)
	return nil
}

// Template returns a registered template version, cached per process
// (versions are immutable). It returns ErrTemplateNotFound when missing.
func (e *Engine) Template(ctx context.Context, namespace, name, version string) (*template.Template, error) {
	k := namespace + "/" + name + ":" + version
	if t, ok := e.templates.Load(k); ok {
		return t.(*template.Template), nil
	}
	rec, err := e.store.GetTemplate(ctx, namespace, name, version)
	if err != nil {
		if errors.Is(err, workflow.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", k, ErrTemplateNotFound)
		}
		return nil, err
	}
	t, err := template.ParseJSON(rec.Body)
	if err != nil {
		return nil, fmt.Errorf("stored template %s: %w", k, err)
	}
	e.templates.Store(k, t)
	return t, nil
}

func (e *Engine) taskTemplate(ctx context.Context, t *workflow.Task) (*template.Template, error) {
	return e.Template(ctx, t.Namespace, t.Name, t.Version)
}

// taskContext returns a task's context, cached (contexts are immutable).
func (e *Engine) taskContext(ctx context.Context, taskUUID string) (json.RawMessage, error) {
	if c, ok := e.contexts.get(taskUUID); ok {
		return c, nil
	}
	c, err := e.store.GetContext(ctx, taskUUID)
	if err != nil {
		return nil, err
	}
	e.contexts.put(taskUUID, c)
	return c, nil
}

// contextCache is a small bounded cache of task contexts.
type contextCache struct {
	mu    sync.Mutex
	limit int
	m     map[string]json.RawMessage
	order []string
}

func newContextCache(limit int) *contextCache {
	return &contextCache{limit: limit, m: make(map[string]json.RawMessage)}
}

func (c *contextCache) get(k string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *contextCache) put(k string, v json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) >= c.limit {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}
