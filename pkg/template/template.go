package template

// StepType says how the engine treats a step.
type StepType string

// The step types. The YAML aliases `decision_point` and `deferred` load as
// StepDecision and StepDeferredConvergence.
const (
	// StepStandard is an ordinary step; it runs once its dependencies are complete.
	StepStandard StepType = "standard"
	// StepDecision is a decision point: its result names which of its
	// descendants the engine creates.
	StepDecision StepType = "decision"
	// StepDeferredConvergence waits for those of its dependencies that exist
	// (the intersection of its declared dependencies and the created steps).
	StepDeferredConvergence StepType = "deferred_convergence"
	// StepBatchable analyses a data set and asks for batch workers.
	StepBatchable StepType = "batchable"
	// StepBatchWorker is the blueprint of the workers a batchable step creates;
	// it never runs itself.
	StepBatchWorker StepType = "batch_worker"
)

// Backoff is the growth of the delay between retries.
type Backoff string

// The backoff strategies.
const (
	// BackoffNone retries after the base delay every time.
	BackoffNone Backoff = "none"
	// BackoffLinear grows the delay by the base delay each attempt.
	BackoffLinear Backoff = "linear"
	// BackoffExponential doubles the delay each attempt (the default).
	BackoffExponential Backoff = "exponential"
	// BackoffFibonacci grows the delay along the Fibonacci sequence.
	BackoffFibonacci Backoff = "fibonacci"
)

// Identity strategies decide when two task requests are the same task.
const (
	// IdentityStrict (the default) identifies a task by its template and context.
	IdentityStrict = "strict"
	// IdentityCallerProvided identifies a task by the request's idempotency key.
	IdentityCallerProvided = "caller_provided"
	// IdentityAlwaysUnique makes every request a new task.
	IdentityAlwaysUnique = "always_unique"
)

// Batch failure strategies.
const (
	// FailureContinue lets a failed worker complete with partial-failure data (the default).
	FailureContinue = "continue_on_failure"
	// FailureFailFast errors the worker, which blocks convergence.
	FailureFailFast = "fail_fast"
	// FailureIsolate holds the worker for manual resolution.
	FailureIsolate = "isolate"
)

// Staleness actions.
const (
	// StalenessDLQ sends a stale task to the dead-letter queue (the default).
	StalenessDLQ = "dlq"
	// StalenessError moves a stale task to error.
	StalenessError = "error"
	// StalenessNone only reports stale tasks.
	StalenessNone = "none"
)

// Retry is a step's retry policy. Parse fills every field: unset keys take
// their defaults (retryable, 3 attempts, exponential backoff from 1000 ms up
// to 30000 ms, with jitter).
type Retry struct {
	Retryable     bool    `json:"retryable"`
	MaxAttempts   int     `json:"max_attempts"`
	Backoff       Backoff `json:"backoff"`
	BackoffBaseMS int64   `json:"backoff_base_ms"`
	MaxBackoffMS  int64   `json:"max_backoff_ms"`
	Jitter        bool    `json:"jitter"`
}

// BatchConfig configures batch workers. Parse fills the defaults: batch size
// 1000, parallelism 10, cursor field "id", failure strategy
// continue_on_failure; on a batch_worker step the worker template defaults to
// the step itself.
type BatchConfig struct {
	BatchSize       int    `json:"batch_size"`
	Parallelism     int    `json:"parallelism"`
	CursorField     string `json:"cursor_field"`
	WorkerTemplate  string `json:"worker_template"`
	FailureStrategy string `json:"failure_strategy"`
}

// Lifecycle overrides the engine's staleness thresholds for one template.
// A zero threshold means "not set": the engine's default applies.
// StalenessAction defaults to "dlq".
type Lifecycle struct {
	MaxDurationMinutes               int    `json:"max_duration_minutes,omitempty"`
	MaxWaitingForDependenciesMinutes int    `json:"max_waiting_for_dependencies_minutes,omitempty"`
	MaxWaitingForRetryMinutes        int    `json:"max_waiting_for_retry_minutes,omitempty"`
	MaxStepsInProcessMinutes         int    `json:"max_steps_in_process_minutes,omitempty"`
	StalenessAction                  string `json:"staleness_action"`
	AutoFailOnTimeout                bool   `json:"auto_fail_on_timeout,omitempty"`
	AutoDLQOnTimeout                 bool   `json:"auto_dlq_on_timeout,omitempty"`
}

// Step is one step of a template.
type Step struct {
	// Name is 1 to 64 letters, digits or '_', unique within the template.
	Name        string
	Description string
	// Handler is the callable the worker resolves: `handler: name` in the
	// seed form, `handler.callable` in the Tasker form.
	Handler string
	// HandlerMethod is handler.method; empty means the handler's default entry point ("call").
	HandlerMethod string
	// HandlerResolver is handler.resolver, a hint naming the resolver to use.
	HandlerResolver string
	// Initialization is handler.initialization, passed to the handler as
	// configuration; nil when absent or empty.
	Initialization map[string]any
	// Type is the step type; StepStandard when not given.
	Type StepType
	// Dependencies are the names of the steps this step waits for
	// (`dependencies` or `depends_on`), in the order given.
	Dependencies []string
	// Retry is the retry policy with defaults filled.
	Retry Retry
	// TimeoutSeconds is the step's timeout; 0 means not set (the engine's default applies).
	TimeoutSeconds int
	// BatchConfig is set on batchable and batch_worker steps that declare one.
	BatchConfig *BatchConfig
	// PublishesEvents are the events the step declares, as given.
	PublishesEvents []map[string]any
	// SystemDependency names the external system the step talks to.
	SystemDependency string
	// ResultSchema is a JSON Schema describing the step's result, for tooling only.
	ResultSchema map[string]any
	// Composition is Tasker Core's composition blob, kept as given and not interpreted.
	Composition map[string]any
	// Compensation undoes this step in a saga; nil when the step has none.
	Compensation *Compensation
}

// Template is a parsed and validated workflow template.
type Template struct {
	// Namespace groups templates; it becomes part of queue names, so it is
	// 1 to 29 lower-case letters, digits or '_' (`namespace` or `namespace_name`).
	Namespace string
	// Name is 1 to 255 letters, digits, '_', '.' or '-'.
	Name string
	// Version is MAJOR.MINOR or MAJOR.MINOR.PATCH, optionally with a pre-release.
	Version     string
	Description string
	// IdentityStrategy is "strict" (the default), "caller_provided" or "always_unique".
	IdentityStrategy string
	// InputSchema is the JSON Schema a task's context must satisfy; nil when absent.
	InputSchema map[string]any
	// Steps are the template's steps in the order written.
	Steps []Step
	// Lifecycle overrides staleness thresholds; nil when absent.
	Lifecycle *Lifecycle
	// Metadata is free-form documentation (author, tags, ...), kept as given.
	Metadata map[string]any
	// SystemDependencies is `{primary, secondary}`, kept as given.
	SystemDependencies map[string]any
	// DomainEvents are the template's event declarations `{name, description, schema}`, kept as given.
	DomainEvents []map[string]any
	// Environments holds per-environment step overrides, validated and kept as given.
	Environments map[string]any
	// Schedules start tasks of this template on a schedule, in the order
	// written; nil when absent or empty.
	Schedules []Schedule
	// LoadedFrom is the template's own `loaded_from` key. Parse does not fill
	// it from the source name, so a template's JSON form does not depend on
	// where it was read from.
	LoadedFrom string
	// CompensateOnFailure runs the completed steps' compensations whenever
	// the task fails for good, not only when a handler asks for it.
	CompensateOnFailure bool
}

// Key returns the template's routing key, "namespace/name:version".
func (t *Template) Key() string {
	return t.Namespace + "/" + t.Name + ":" + t.Version
}

// Step returns the step with the given name, or false when there is none.
// The pointer refers to the template's own copy.
func (t *Template) Step(name string) (*Step, bool) {
	for i := range t.Steps {
		if t.Steps[i].Name == name {
			return &t.Steps[i], true
		}
	}
	return nil, false
}
