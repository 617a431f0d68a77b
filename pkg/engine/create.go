package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// TaskRequest is the body of POST /v1/tasks, with Tasker Core's fields.
type TaskRequest struct {
	Name                string          `json:"name"`
	Namespace           string          `json:"namespace"`
	Version             string          `json:"version,omitempty"`
	Context             json.RawMessage `json:"context,omitempty"`
	Initiator           string          `json:"initiator,omitempty"`
	SourceSystem        string          `json:"source_system,omitempty"`
	Reason              string          `json:"reason,omitempty"`
	Tags                []string        `json:"tags,omitempty"`
	Priority            *int            `json:"priority,omitempty"`
	CorrelationID       string          `json:"correlation_id,omitempty"`
	ParentCorrelationID string          `json:"parent_correlation_id,omitempty"`
	IdempotencyKey      string          `json:"idempotency_key,omitempty"`
	RequestedAt         string          `json:"requested_at,omitempty"`
	Options             json.RawMessage `json:"options,omitempty"`
}

// InvalidRequestError names the request field that is wrong and why. Callers
// answer it with 400.
type InvalidRequestError struct {
	Field  string
	Reason string
}

func (e *InvalidRequestError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &InvalidRequestError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

var namespacePattern = regexp.MustCompile(`^[a-z0-9_]{1,29}$`)

// Limits on request fields.
const (
	maxReasonLen = 500
	maxTags      = 50
	maxTagLen    = 128
)

func (r *TaskRequest) validate() error {
	if r.Namespace == "" {
		return invalid("namespace", "required")
	}
	if !namespacePattern.MatchString(r.Namespace) {
		return invalid("namespace", "must match %s", namespacePattern)
	}
	if r.Name == "" {
		return invalid("name", "required")
	}
	if len(r.Reason) > maxReasonLen {
		return invalid("reason", "at most %d characters", maxReasonLen)
	}
	if len(r.Tags) > maxTags {
		return invalid("tags", "at most %d tags", maxTags)
	}
	for i, t := range r.Tags {
		if len(t) > maxTagLen {
			return invalid(fmt.Sprintf("tags[%d]", i), "at most %d characters", maxTagLen)
		}
	}
	if r.Priority != nil && (*r.Priority < -100 || *r.Priority > 100) {
		return invalid("priority", "must be between -100 and 100, got %d", *r.Priority)
	}
	for field, v := range map[string]string{"correlation_id": r.CorrelationID, "parent_correlation_id": r.ParentCorrelationID} {
		if v != "" {
			if _, err := uuid.Parse(v); err != nil {
				return invalid(field, "must be a UUID")
			}
		}
	}
	if len(r.IdempotencyKey) > 255 {
		return invalid("idempotency_key", "at most 255 characters")
	}
	if len(r.Context) > 0 {
		trimmed := bytes.TrimSpace(r.Context)
		if !bytes.Equal(trimmed, []byte("null")) && (len(trimmed) == 0 || trimmed[0] != '{') {
			return invalid("context", "must be a JSON object")
		}
	}
	return nil
}

// CreateTask validates a request against its template and creates the task
// with its initial steps, already started and with its root steps already
// enqueued, then sends the roots' messages. If that send fails after the
// task was stored, the task's first check sends them; CreateTask still
// returns the task.
//
// Errors: *InvalidRequestError (bad field), *template.ContextError (context
// violates the template's input_schema), ErrTemplateNotFound,
// workflow.ErrDuplicateTask (identity exists), workflow.ErrTooLarge.
func (e *Engine) CreateTask(ctx context.Context, req TaskRequest) (*workflow.Task, error) {
	t, _, err := e.CreateTaskWithSteps(ctx, req)
	return t, err
}

// CreateTaskWithSteps is CreateTask that also returns the task's initial
// steps as it left them (the root steps enqueued), so a caller answering
// with the steps need not read them back. Errors as CreateTask.
func (e *Engine) CreateTaskWithSteps(ctx context.Context, req TaskRequest) (*workflow.Task, []*workflow.Step, error) {
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	version := req.Version
	if version == "" {
		v, err := e.store.LatestTemplateVersion(ctx, req.Namespace, req.Name)
		if err != nil {
			if errors.Is(err, workflow.ErrNotFound) {
				return nil, nil, fmt.Errorf("%s/%s: %w", req.Namespace, req.Name, ErrTemplateNotFound)
			}
			return nil, nil, err
		}
		version = v
	}
	tpl, err := e.Template(ctx, req.Namespace, req.Name, version)
	if err != nil {
		return nil, nil, err
	}
	taskCtx := normalizeContext(req.Context)
	if err := tpl.ValidateContext(taskCtx); err != nil {
		return nil, nil, err
	}
	hash, err := identityHash(tpl, req, taskCtx)
	if err != nil {
		return nil, nil, err
	}
	now := e.now()
	t := &workflow.Task{
		UUID: e.cfg.NewID(), Namespace: tpl.Namespace, Name: tpl.Name, Version: tpl.Version,
		State: statemachine.TaskPending, Rev: 1, Context: taskCtx,
		Initiator: orDefault(req.Initiator, "system"), SourceSystem: orDefault(req.SourceSystem, "api"),
		Reason: req.Reason, Tags: req.Tags, CorrelationID: req.CorrelationID,
		ParentCorrelationID: req.ParentCorrelationID, IdempotencyKey: req.IdempotencyKey, IdentityHash: hash,
		CreatedAt: now, UpdatedAt: now,
	}
	if req.Priority != nil {
		t.Priority = *req.Priority
	}
	if t.CorrelationID == "" {
		t.CorrelationID = e.cfg.NewID()
	}
	t.FirstCheckAt = now.Add(e.firstCheck(tpl))
	steps := e.initialSteps(t, tpl, now)
	t.StepUUIDsDerived = true // initialSteps derives them
	t.History = []workflow.Transition{{From: "", To: string(statemachine.TaskPending), Event: "create", At: now,
		Processor: e.cfg.Processor, CorrelationID: t.CorrelationID}}
	var roots []*workflow.Step
	for _, s := range steps {
		if len(s.Dependencies) == 0 {
			roots = append(roots, s)
		}
	}
	run := &taskRun{task: t, tpl: tpl}
	if len(roots) > 0 {
		// The task starts, and its roots are enqueued, in the write that
		// creates them: the records of the start and of the roots' enqueue
		// join the creation's, so neither costs a write (or an index
		// update) of its own. The roots' messages are sent right after; if
		// that fails, the task's first check sends them.
		trs, to, err := e.taskTransitions(t, now, "", statemachine.TaskEvStart, statemachine.TaskEvReadyStepsFound, statemachine.TaskEvStepsEnqueued)
		if err != nil {
			return nil, nil, err
		}
		t.History, t.State = append(t.History, trs...), to
		for _, r := range roots {
			trs, err := e.stepTransitions(run, r.State, 1, now, "", statemachine.StepEvEnqueue)
			if err != nil {
				return nil, nil, err
			}
			r.History, r.State, r.EnqueuedAt = append(r.History, trs...), statemachine.StepEnqueued, &now
		}
	}
	var sent chan bool
	if len(roots) > 0 && !e.cfg.IndexFirstCheck {
		// The check is sent while the steps and the identity are written,
		// and must be on its way before the task is published.
		sent = make(chan bool, 1)
		go func() { sent <- e.sendFirstCheck(ctx, t.UUID, t.CorrelationID, t.FirstCheckAt.Sub(now)) }()
	}
	beforePublish := func(t *workflow.Task) error {
		if sent != nil {
			t.FirstCheckSent = <-sent
		}
		if took := e.now().Sub(t.CreatedAt); took > PublishWithin {
			return fmt.Errorf("create task: not published, the creation took %s (more than %s): %w", took.Round(time.Millisecond), PublishWithin, ErrCreationTooSlow)
		}
		return nil
	}
	if err := e.store.CreateTaskWith(ctx, t, steps, beforePublish); err != nil {
		return nil, nil, err
	}
	e.contexts.put(t.UUID, taskCtx)
	e.notify(Event{TaskUUID: t.UUID, Namespace: t.Namespace, State: string(statemachine.TaskPending), At: now})
	if len(roots) > 0 {
		e.notify(Event{TaskUUID: t.UUID, Namespace: t.Namespace, State: string(t.State), At: now})
		if err := e.sendEnqueued(ctx, run, roots, nil, now); err != nil {
			e.log.WarnContext(ctx, "task started but its root steps' messages were not sent; its first check sends them",
				"task_uuid", t.UUID, "correlation_id", t.CorrelationID, "error", err)
		}
		return t, steps, nil
	}
	started, err := e.startTask(ctx, t, tpl)
	if err != nil {
		e.log.WarnContext(ctx, "task created but not started; the sweeper will start it",
			"task_uuid", t.UUID, "correlation_id", t.CorrelationID, "error", err)
		return t, steps, nil
	}
	started.Context = taskCtx
	return started, steps, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func normalizeContext(c json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimSpace(c)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(trimmed)
}

// newStep builds a pending step with UUID id for a template step.
func (e *Engine) newStep(t *workflow.Task, ts *template.Step, name, id string, deps []string, now time.Time) *workflow.Step {
	return &workflow.Step{
		TaskUUID: t.UUID, UUID: id, Name: name, TemplateStep: ts.Name, Handler: ts.Handler,
		Type: string(ts.Type), State: statemachine.StepPending, MaxAttempts: ts.Retry.MaxAttempts,
		Retryable: ts.Retry.Retryable, TimeoutSecs: ts.TimeoutSeconds, Dependencies: deps, CreatedAt: now,
		CountsDependencies: ts.Type == template.StepDeferredConvergence,
		History: []workflow.Transition{{From: "", To: string(statemachine.StepPending), Event: "create", At: now,
			Processor: e.cfg.Processor, CorrelationID: t.CorrelationID}},
	}
}

// PublishWithin is how long after its created_at a creation may still
// publish its task; a slower one gives up (ErrCreationTooSlow). It is half
// dynamo.IdentityClaimTimeout, after which another creation with the same
// identity may take the identity over: the slow one must not publish a
// second task then (clocks of the two may differ by up to the other half).
// It is also shorter than any first check's delay (at least 31 s), so a
// check that finds no task is for a creation that will not publish.
const PublishWithin = dynamo.IdentityClaimTimeout / 2

// ErrCreationTooSlow is returned by CreateTask when the creation took longer
// than PublishWithin; nothing was published, and the request may be retried.
var ErrCreationTooSlow = errors.New("task creation too slow")

// sendFirstCheck sends a new task's first check as a check_task message on
// the orchestration queue, delayed until FirstCheckAt, before the write that
// publishes the task: a task that exists always has its check coming, and
// one that never gets published is dropped when its check finds nothing.
// The task item then needs no sweep entry, which would cost two index
// writes (entering at creation, leaving at completion) in a task that is
// done long before its first check. When the send fails, the task item
// carries the entry as before.
func (e *Engine) sendFirstCheck(ctx context.Context, taskUUID, correlationID string, delay time.Duration) bool {
	err := e.sendOrchestration(ctx, protocol.OrchestrationMessage{Kind: protocol.KindCheckTask, TaskUUID: taskUUID,
		CorrelationID: correlationID}, delay)
	if err != nil {
		e.log.WarnContext(ctx, "first check message not sent; the task's first check goes into the sweep index",
			"task_uuid", taskUUID, "correlation_id", correlationID, "error", err)
		return false
	}
	return true
}

// initialSteps builds the steps a task of tpl starts with (all but decision
// descendants and batch workers), with derived UUIDs
// (workflow.DerivedStepUUID).
func (e *Engine) initialSteps(t *workflow.Task, tpl *template.Template, now time.Time) []*workflow.Step {
	initial := tpl.InitialSteps()
	in := make(map[string]bool, len(initial))
	for _, n := range initial {
		in[n] = true
	}
	steps := make([]*workflow.Step, 0, len(initial))
	for _, n := range initial {
		ts, _ := tpl.Step(n)
		deps := ts.Dependencies
		if ts.Type == template.StepDeferredConvergence {
			deps = intersect(deps, in)
		}
		steps = append(steps, e.newStep(t, ts, n, workflow.DerivedStepUUID(t.UUID, n), deps, now))
	}
	return steps
}

func intersect(names []string, set map[string]bool) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

// identityHash computes the task's deduplication identity: SHA-256 over the
// template identity and either the canonical context (strict) or the
// idempotency key (caller_provided, or any request carrying a key). An empty
// hash means no deduplication (always_unique).
func identityHash(tpl *template.Template, req TaskRequest, ctxJSON json.RawMessage) (string, error) {
	strategy := tpl.IdentityStrategy
	if strategy == "" {
		strategy = "strict"
	}
	h := sha256.New()
	h.Write([]byte(tpl.Namespace + "\x00" + tpl.Name + "\x00" + tpl.Version + "\x00"))
	switch {
	case req.IdempotencyKey != "":
		h.Write([]byte("key\x00" + req.IdempotencyKey))
	case strategy == "caller_provided":
		return "", invalid("idempotency_key", "required: template %s uses identity strategy caller_provided", tpl.Key())
	case strategy == "always_unique":
		return "", nil
	default:
		canon, err := canonicalJSON(ctxJSON)
		if err != nil {
			return "", invalid("context", "%v", err)
		}
		h.Write([]byte("ctx\x00"))
		h.Write(canon)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalJSON re-encodes JSON with object keys sorted recursively and
// numbers kept in their literal form, so equal contexts hash equally.
func canonicalJSON(in json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b strings.Builder
	writeCanonical(&b, v)
	return []byte(b.String()), nil
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(x.String())
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}
