package resources

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// The numbers behind every queue. Each is decided here for all environments.
const (
	// EngineConsumerTimeout is the Lambda timeout of the orchestration and
	// results consumers: they only read and conditionally write a few
	// DynamoDB items per message, so 30 s is ample even for a full batch.
	EngineConsumerTimeout = 30 * time.Second
	// DefaultStepConsumerTimeout is the Lambda timeout of a step worker
	// unless its namespace configures another one (see WithConsumerTimeout).
	DefaultStepConsumerTimeout = 60 * time.Second
	// VisibilityPerConsumerTimeout is AWS's guidance for a queue feeding a
	// Lambda event source: a visibility timeout of at least six times the
	// function timeout, so a message is not redelivered while a throttled
	// or retried invocation still holds it.
	VisibilityPerConsumerTimeout = 6
	// MainRetention is how long an unconsumed message lives (the SQS
	// default). Messages only nudge work along; DynamoDB holds the truth and
	// the sweeper re-sends anything stuck, so an older message has no value.
	MainRetention = 4 * 24 * time.Hour
	// DLQRetention is the SQS maximum. A standard queue's DLQ keeps each
	// message's original enqueue time, so it must retain longer than the
	// main queue, and 14 days leaves an operator time to inspect and redrive.
	DLQRetention = 14 * 24 * time.Hour
	// ReceiveWait is the longest SQS long poll: fewest empty receives (they
	// are billed) and a consumer wakes as soon as a message arrives. Lambda
	// event sources poll on their own; this is the default for SDK consumers.
	ReceiveWait = 20 * time.Second
	// MaxReceiveCount is how often a message is received before SQS moves it
	// to the DLQ. AWS advises at least 5 for Lambda event sources so that
	// throttled or briefly failing invocations do not dead-letter messages;
	// handlers retry failed steps themselves, so a message that fails five
	// deliveries is poison.
	MaxReceiveCount = 5
	// dlqVisibility is the SQS default; nothing consumes a DLQ automatically,
	// an operator's tool inspects or redrives it.
	dlqVisibility = 30 * time.Second
)

// Queue purposes, as QueueSpec.Purpose.
const (
	PurposeOrchestration = "orchestration"
	PurposeResults       = "results"
	PurposeSteps         = "steps"
	PurposeDeadLetter    = "dead-letter"
)

// Limits SQS puts on queue attributes.
const (
	maxVisibility      = 12 * time.Hour
	maxReceiveWait     = 20 * time.Second
	minRetention       = time.Minute
	maxRetention       = 14 * 24 * time.Hour
	maxMaxReceiveCount = 1000
)

var queueNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// QueueSpec describes a standard SQS queue. Durations are whole seconds.
type QueueSpec struct {
	Name string
	// VisibilityTimeout is VisibilityPerConsumerTimeout × ConsumerTimeout
	// for queues consumed by Lambda.
	VisibilityTimeout time.Duration
	// ReceiveWait is the queue's default long-poll duration.
	ReceiveWait time.Duration
	// Retention is how long SQS keeps an unconsumed message.
	Retention time.Duration
	// MaxReceiveCount is the number of receives after which SQS moves a
	// message to DLQ. Used only when DLQ is set.
	MaxReceiveCount int
	// DLQ is the dead-letter queue, nil for none.
	DLQ *QueueSpec
	// Purpose is one of the Purpose constants.
	Purpose string
	// ConsumerTimeout is the Lambda timeout of the queue's consumer; zero
	// for a queue without one (a DLQ).
	ConsumerTimeout time.Duration
}

// Queues returns the specs of every queue of an installation, in a stable
// order: orchestration, results, then one step queue per namespace (sorted,
// deduplicated). Each has its DLQ in QueueSpec.DLQ. Namespaces are not
// validated here; Provision validates them.
func Queues(n Names, namespaces []string) []QueueSpec {
	ns := slices.Clone(namespaces)
	slices.Sort(ns)
	ns = slices.Compact(ns)
	queues := []QueueSpec{
		mainQueue(n.OrchestrationQueue(), PurposeOrchestration, EngineConsumerTimeout),
		mainQueue(n.ResultsQueue(), PurposeResults, EngineConsumerTimeout),
	}
	for _, namespace := range ns {
		queues = append(queues, mainQueue(n.StepQueue(namespace), PurposeSteps, DefaultStepConsumerTimeout))
	}
	return queues
}

func mainQueue(name, purpose string, consumerTimeout time.Duration) QueueSpec {
	q := QueueSpec{
		Name:            name,
		ReceiveWait:     ReceiveWait,
		Retention:       MainRetention,
		MaxReceiveCount: MaxReceiveCount,
		Purpose:         purpose,
		DLQ: &QueueSpec{
			Name:              DLQName(name),
			VisibilityTimeout: dlqVisibility,
			Retention:         DLQRetention,
			Purpose:           PurposeDeadLetter,
		},
	}
	return q.WithConsumerTimeout(consumerTimeout)
}

// WithConsumerTimeout returns a copy of q for a consumer with Lambda timeout
// d, with the visibility timeout that goes with it.
func (q QueueSpec) WithConsumerTimeout(d time.Duration) QueueSpec {
	q.ConsumerTimeout = d
	q.VisibilityTimeout = VisibilityPerConsumerTimeout * d
	return q
}

// Validate returns an error wrapping ErrInvalidName for a bad queue name, and
// a descriptive error for an attribute outside SQS's limits or not in whole
// seconds. It validates the DLQ too.
func (q QueueSpec) Validate() error {
	if !queueNamePattern.MatchString(q.Name) {
		return fmt.Errorf("queue name %q must match %s: %w", q.Name, queueNamePattern, ErrInvalidName)
	}
	checks := []struct {
		what     string
		d        time.Duration
		min, max time.Duration
	}{
		{"visibility timeout", q.VisibilityTimeout, 0, maxVisibility},
		{"receive wait", q.ReceiveWait, 0, maxReceiveWait},
		{"retention", q.Retention, minRetention, maxRetention},
	}
	for _, c := range checks {
		if c.d < c.min || c.d > c.max || c.d%time.Second != 0 {
			return fmt.Errorf("queue %s: %s %v must be whole seconds in [%v, %v]", q.Name, c.what, c.d, c.min, c.max)
		}
	}
	if q.DLQ == nil {
		return nil
	}
	if q.MaxReceiveCount < 1 || q.MaxReceiveCount > maxMaxReceiveCount {
		return fmt.Errorf("queue %s: max receive count %d must be in [1, %d]", q.Name, q.MaxReceiveCount, maxMaxReceiveCount)
	}
	return q.DLQ.Validate()
}

// Attributes returns the CreateQueue attributes of q. When q has a DLQ and
// dlqARN is not empty, they include the RedrivePolicy sending messages to
// dlqARN after MaxReceiveCount receives.
func (q QueueSpec) Attributes(dlqARN string) map[string]string {
	attrs := map[string]string{
		attrVisibilityTimeout: seconds(q.VisibilityTimeout),
		attrRetention:         seconds(q.Retention),
		attrReceiveWait:       seconds(q.ReceiveWait),
	}
	if q.DLQ != nil && dlqARN != "" {
		attrs[attrRedrivePolicy] = redrivePolicy{DeadLetterTargetARN: dlqARN, MaxReceiveCount: q.MaxReceiveCount}.String()
	}
	return attrs
}

// SQS attribute names.
const (
	attrVisibilityTimeout = "VisibilityTimeout"
	attrRetention         = "MessageRetentionPeriod"
	attrReceiveWait       = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy     = "RedrivePolicy"
	attrQueueARN          = "QueueArn"
)

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// redrivePolicy is SQS's RedrivePolicy attribute.
type redrivePolicy struct {
	DeadLetterTargetARN string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

func (p redrivePolicy) String() string {
	b, _ := json.Marshal(p) // cannot fail: a string and an int
	return string(b)
}

// parseRedrivePolicy reads a RedrivePolicy as SQS returns it; the count may
// be a JSON number or a string.
func parseRedrivePolicy(s string) (redrivePolicy, error) {
	var raw struct {
		DeadLetterTargetARN string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return redrivePolicy{}, fmt.Errorf("parse redrive policy %q: %w", s, err)
	}
	count, err := strconv.Atoi(string(trimQuotes(raw.MaxReceiveCount)))
	if err != nil {
		return redrivePolicy{}, fmt.Errorf("parse redrive policy %q: maxReceiveCount: %w", s, err)
	}
	return redrivePolicy{DeadLetterTargetARN: raw.DeadLetterTargetARN, MaxReceiveCount: count}, nil
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
