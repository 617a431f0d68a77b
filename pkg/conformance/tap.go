package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
)

// HoldKey is the task context key that makes the suite hold a task's step
// messages: the engine's send is recorded but not delivered, so the suite
// decides when (and how often, and in which form) the worker sees them.
const HoldKey = "conformance_hold"

// tap is SQS client middleware on the engine side. It records every step
// message the engine sends to the step queue (holding back those of tasks
// whose context has HoldKey) and every result message the engine receives
// from the results queue, so the suite can check the wire traffic.
type tap struct {
	stepQueueURL    string
	resultsQueueURL string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever something is recorded
	steps   []capturedStep
	results []capturedResult
}

// capturedStep is one step message the engine sent.
type capturedStep struct {
	Body string
	Msg  stepEnvelope
	Held bool
}

// capturedResult is one result message the engine received.
type capturedResult struct {
	MessageID     string
	Body          string
	Msg           resultEnvelope
	CorrelationID string // the correlation_id message attribute
}

// stepEnvelope is the part of a step message the suite reads.
type stepEnvelope struct {
	V          int             `json:"v"`
	TaskUUID   string          `json:"task_uuid"`
	StepUUID   string          `json:"step_uuid"`
	StepName   string          `json:"step_name"`
	Attempt    int             `json:"attempt"`
	Context    json.RawMessage `json:"context"`
	PayloadRef json.RawMessage `json:"payload_ref"`
}

// resultEnvelope is a result message as the suite reads it.
type resultEnvelope struct {
	V             int             `json:"v"`
	TaskUUID      string          `json:"task_uuid"`
	StepUUID      string          `json:"step_uuid"`
	StepName      string          `json:"step_name"`
	Attempt       int             `json:"attempt"`
	CorrelationID string          `json:"correlation_id"`
	Status        string          `json:"status"`
	Result        json.RawMessage `json:"result"`
	ResultRef     *payloadRef     `json:"result_ref"`
	Error         *stepError      `json:"error"`
	StartedAt     string          `json:"started_at"`
	FinishedAt    string          `json:"finished_at"`
}

type payloadRef struct {
	PK     string `json:"pk"`
	SK     string `json:"sk"`
	Chunks int    `json:"chunks"`
	Bytes  int    `json:"bytes"`
}

type stepError struct {
	Message   string `json:"message"`
	ErrorType string `json:"error_type"`
	Retryable bool   `json:"retryable"`
}

func newTap(stepQueueURL, resultsQueueURL string) *tap {
	return &tap{stepQueueURL: stepQueueURL, resultsQueueURL: resultsQueueURL, changed: make(chan struct{})}
}

// register adds the tap to an SQS client's middleware stack (as an
// sqs.Options.APIOptions entry).
func (tp *tap) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ConformanceTap", tp.handle), middleware.Before)
}

func (tp *tap) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	switch p := in.Parameters.(type) {
	case *sqs.SendMessageInput:
		if aws.ToString(p.QueueUrl) == tp.stepQueueURL && tp.recordStep(aws.ToString(p.MessageBody)) {
			return middleware.InitializeOutput{Result: &sqs.SendMessageOutput{MessageId: aws.String("held")}}, middleware.Metadata{}, nil
		}
	case *sqs.SendMessageBatchInput:
		if aws.ToString(p.QueueUrl) == tp.stepQueueURL {
			return tp.sendBatch(ctx, in, p, next)
		}
	case *sqs.ReceiveMessageInput:
		out, md, err := next.HandleInitialize(ctx, in)
		if r, ok := out.Result.(*sqs.ReceiveMessageOutput); ok && err == nil && aws.ToString(p.QueueUrl) == tp.resultsQueueURL {
			tp.recordResults(r.Messages)
		}
		return out, md, err
	}
	return next.HandleInitialize(ctx, in)
}

// sendBatch records a batch of step messages and sends only those not held.
func (tp *tap) sendBatch(ctx context.Context, in middleware.InitializeInput, p *sqs.SendMessageBatchInput,
	next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	var kept []types.SendMessageBatchRequestEntry
	var held []types.SendMessageBatchResultEntry
	for _, e := range p.Entries {
		if tp.recordStep(aws.ToString(e.MessageBody)) {
			held = append(held, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("held")})
			continue
		}
		kept = append(kept, e)
	}
	if len(held) == 0 {
		return next.HandleInitialize(ctx, in)
	}
	if len(kept) == 0 {
		return middleware.InitializeOutput{Result: &sqs.SendMessageBatchOutput{Successful: held}}, middleware.Metadata{}, nil
	}
	cp := *p
	cp.Entries = kept
	in.Parameters = &cp
	out, md, err := next.HandleInitialize(ctx, in)
	if r, ok := out.Result.(*sqs.SendMessageBatchOutput); ok && err == nil {
		r.Successful = append(r.Successful, held...)
	}
	return out, md, err
}

// recordStep records a step message and reports whether to hold it.
func (tp *tap) recordStep(body string) bool {
	var m stepEnvelope
	_ = json.Unmarshal([]byte(body), &m)
	var ctxFields map[string]json.RawMessage
	_ = json.Unmarshal(m.Context, &ctxFields)
	held := string(ctxFields[HoldKey]) == "true"
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.steps = append(tp.steps, capturedStep{Body: body, Msg: m, Held: held})
	tp.notifyLocked()
	return held
}

func (tp *tap) recordResults(msgs []types.Message) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, m := range msgs {
		c := capturedResult{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)}
		_ = json.Unmarshal([]byte(c.Body), &c.Msg)
		if a, ok := m.MessageAttributes["correlation_id"]; ok {
			c.CorrelationID = aws.ToString(a.StringValue)
		}
		tp.results = append(tp.results, c)
	}
	tp.notifyLocked()
}

func (tp *tap) notifyLocked() {
	close(tp.changed)
	tp.changed = make(chan struct{})
}

// stepsOf returns the step messages sent for a task, in send order.
func (tp *tap) stepsOf(taskUUID string) []capturedStep {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []capturedStep
	for _, s := range tp.steps {
		if s.Msg.TaskUUID == taskUUID {
			out = append(out, s)
		}
	}
	return out
}

// resultsOf returns the result messages the worker sent for a step, in
// order; a message the engine received twice (SQS redelivery) counts once.
func (tp *tap) resultsOf(stepUUID string) []capturedResult {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []capturedResult
	seen := map[string]bool{}
	for _, r := range tp.results {
		if r.Msg.StepUUID == stepUUID && !seen[r.MessageID] {
			seen[r.MessageID] = true
			out = append(out, r)
		}
	}
	return out
}

// waitHeld waits until the engine has sent (and the tap held) a message for
// the task's step, and returns it.
func (tp *tap) waitHeld(ctx context.Context, taskUUID, stepName string) (capturedStep, error) {
	for {
		tp.mu.Lock()
		ch := tp.changed
		for _, s := range tp.steps {
			if s.Held && s.Msg.TaskUUID == taskUUID && s.Msg.StepName == stepName {
				tp.mu.Unlock()
				return s, nil
			}
		}
		tp.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return capturedStep{}, fmt.Errorf("no step message for %s of task %s: %w", stepName, taskUUID, ctx.Err())
		}
	}
}
