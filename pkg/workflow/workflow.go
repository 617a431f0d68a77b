// Package workflow holds Tasker's domain records: tasks, steps, their
// transition records and the errors callers branch on. It has no I/O; the
// store (package dynamo) persists these records and the engine (package
// engine) decides how they change.
package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
)

// Errors callers branch on. Adapters map backend errors to these.
var (
	// ErrNotFound means the task, step, template or payload does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a guarded write lost: the record was not in the
	// expected state or version (a duplicate delivery, a race, a stale message).
	ErrConflict = errors.New("conflict")
	// ErrDuplicateTask means a task with the same identity already exists.
	ErrDuplicateTask = errors.New("duplicate task")
	// ErrTooLarge means a record would exceed a storage or message size limit.
	ErrTooLarge = errors.New("too large")
)

// Transition is one entry of the audit trail of a task or a step. Each state
// change appends its transition records in the same conditional write, so the
// trail cannot drift from the stored state.
type Transition struct {
	From          string    `json:"from" dynamodbav:"from"`
	To            string    `json:"to" dynamodbav:"to"`
	Event         string    `json:"event" dynamodbav:"event"`
	Attempt       int       `json:"attempt,omitempty" dynamodbav:"attempt,omitempty"`
	At            time.Time `json:"at" dynamodbav:"at"`
	Processor     string    `json:"processor,omitempty" dynamodbav:"processor,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty" dynamodbav:"correlation_id,omitempty"`
	Reason        string    `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
}

// Task is a workflow instance.
type Task struct {
	UUID                string
	Namespace           string
	Name                string
	Version             string
	State               statemachine.TaskState
	Rev                 int64 // optimistic-concurrency revision, +1 on every write
	Context             json.RawMessage
	Initiator           string
	SourceSystem        string
	Reason              string
	Tags                []string
	Priority            int
	CorrelationID       string
	ParentCorrelationID string
	IdempotencyKey      string
	IdentityHash        string
	Paused              bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
	CompletedAt         *time.Time
	// Compensating is set while a saga undoes the task's completed steps.
	Compensating bool
	// CompensationFailed lists compensation steps that failed for good.
	CompensationFailed []string
	History            []Transition
	// FirstCheckAt, on creation only, is when the sweeper first looks at
	// the task (start recovery, then its running checks); zero: one minute
	// after creation.
	FirstCheckAt time.Time
	// StepUUIDsDerived says the task's initial steps have the UUIDs
	// DerivedStepUUID gives, so the engine can build the message of such a
	// step without reading it.
	StepUUIDsDerived bool
	// FirstCheckSent, on creation only, says the first check travels as a
	// delayed check_task message, so the task item is written without a
	// sweep entry (docs/data-model.md).
	FirstCheckSent bool
}

// Step is one step of a task. Steps are keyed by name within their task;
// batch worker instances are named "<template step>_<batch id>".
type Step struct {
	TaskUUID     string
	UUID         string
	Name         string
	TemplateStep string // the template step this step instantiates
	Handler      string
	Type         string
	State        statemachine.StepState
	Attempts     int
	MaxAttempts  int
	Retryable    bool
	TimeoutSecs  int
	Dependencies []string // effective dependencies (deferred convergence: declared ∩ created)
	// Released marks a failure that no longer holds its task open and
	// releases its dependents (a batch worker under continue_on_failure, a
	// compensation given up).
	Released  bool
	Satisfied []string // dependencies that have completed (a set)
	// CountsDependencies marks a step that counts its completed
	// dependencies instead of listing them (convergence steps, which may
	// wait for thousands of batch workers): Remaining is how many are left.
	CountsDependencies bool
	Remaining          int
	// DependenciesRef, when set, is where a long dependency list is stored
	// out of line (a convergence after thousands of batch workers), so the
	// step item that each completion decrements stays small. Reads resolve
	// it into Dependencies.
	DependenciesRef  *protocol.PayloadRef
	CreatedBy        string // decision or batchable step that created it, "" at task start
	CreatedByAttempt int    // the attempt of CreatedBy whose outcome created it
	Inputs           json.RawMessage
	Result           json.RawMessage
	ResultRef        *protocol.PayloadRef
	Error            *protocol.StepError
	Checkpoint       json.RawMessage
	WorkerID         string
	CreatedAt        time.Time
	UpdatedAt        time.Time // last change of the step (any transition)
	EnqueuedAt       *time.Time
	ClaimedAt        *time.Time
	LastFailure      *time.Time
	NextRetryAt      *time.Time
	ResentAt         *time.Time // the sweeper last sent the message again (while enqueued)
	CompletedAt      *time.Time
	// SweepAt is the step's sweep_at: the claim's deadline while in
	// progress (claim time + timeout + grace), the retry time while waiting
	// for a retry beyond SQS's delay; nil when unset.
	SweepAt *time.Time
	History []Transition
}

// DeriveSatisfied adds to the Satisfied list of each step that lists its
// dependencies those that, in the same listing of a task's steps, release
// their dependents (ReleasesDependents). The engine records a completion on a
// dependent's item only on some paths (it reads the parents instead), so a
// listing derives the rest.
func DeriveSatisfied(steps []*Step) {
	byName := make(map[string]*Step, len(steps))
	for _, s := range steps {
		byName[s.Name] = s
	}
	for _, s := range steps {
		if s.CountsDependencies {
			continue
		}
		for _, d := range s.Dependencies {
			if p := byName[d]; p != nil && p.ReleasesDependents() && !s.HasSatisfied(d) {
				s.Satisfied = append(s.Satisfied, d)
			}
		}
	}
}

// ReleasesDependents reports whether the step lets its dependents run: it
// completed (or was resolved by hand), or failed and was released.
func (s *Step) ReleasesDependents() bool {
	return s.State.SatisfiesDependency() || s.Released
}

// HasSatisfied reports whether dependency d is recorded as completed on the
// step's item.
func (s *Step) HasSatisfied(d string) bool {
	for _, x := range s.Satisfied {
		if x == d {
			return true
		}
	}
	return false
}

// DependenciesMet reports whether every dependency has completed.
func (s *Step) DependenciesMet() bool {
	if s.CountsDependencies {
		return s.Remaining <= 0
	}
	if len(s.Satisfied) < len(s.Dependencies) {
		return false
	}
	done := make(map[string]bool, len(s.Satisfied))
	for _, d := range s.Satisfied {
		done[d] = true
	}
	for _, d := range s.Dependencies {
		if !done[d] {
			return false
		}
	}
	return true
}

// FillCorrelation gives the step's transition records that carry no
// correlation ID the task's, id. A step's records always belong to its
// task's correlation, so the store keeps them without it (docs/data-model.md)
// and whoever serves a step's trail, holding the task, fills it in.
func (s *Step) FillCorrelation(id string) {
	for i := range s.History {
		if s.History[i].CorrelationID == "" {
			s.History[i].CorrelationID = id
		}
	}
}

// DerivedStepUUID is the UUID of a task's initial step: a version 8 UUID
// from the SHA-256 of the task's UUID and the step's name, the same however
// often it is computed.
func DerivedStepUUID(taskUUID, name string) string {
	sum := sha256.Sum256([]byte(taskUUID + "/" + name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
