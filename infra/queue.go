package infra

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/pkg/resources"
)

// Queue is a deployed main queue with its dead-letter queue.
type Queue struct {
	// Spec is the definition the queue was built from.
	Spec resources.QueueSpec
	// Queue is the main queue; DLQ receives its messages after
	// Spec.MaxReceiveCount receives.
	Queue awssqs.Queue
	DLQ   awssqs.Queue
}

// newQueue builds the queue of spec and its DLQ with exactly the attributes
// the local provisioner sets (visibility, retention, long-poll wait,
// redrive). On top, in AWS only: server-side encryption with SQS-managed
// keys (no KMS key to grant to producers such as EventBridge Scheduler),
// and a policy denying requests without TLS. A prod stage keeps its DLQs,
// which may hold the only copy of a failed message, when the stack goes.
func newQueue(scope constructs.Construct, id string, spec resources.QueueSpec, prod bool) (*Queue, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.DLQ == nil {
		return nil, fmt.Errorf("queue %s: every main queue needs a dead-letter queue", spec.Name)
	}
	dlq := awssqs.NewQueue(scope, jsii.String(id+"DLQ"), queueProps(*spec.DLQ, removalPolicy(prod)))
	props := queueProps(spec, awscdk.RemovalPolicy_DESTROY)
	props.DeadLetterQueue = &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(spec.MaxReceiveCount))}
	q := awssqs.NewQueue(scope, jsii.String(id), props)
	return &Queue{Spec: spec, Queue: q, DLQ: dlq}, nil
}

func queueProps(spec resources.QueueSpec, removal awscdk.RemovalPolicy) *awssqs.QueueProps {
	return &awssqs.QueueProps{
		QueueName:              jsii.String(spec.Name),
		VisibilityTimeout:      seconds(spec.VisibilityTimeout),
		RetentionPeriod:        seconds(spec.Retention),
		ReceiveMessageWaitTime: seconds(spec.ReceiveWait),
		Encryption:             awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		RemovalPolicy:          removal,
	}
}

// seconds converts a whole-second duration (the specs validate that).
func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(float64(d / time.Second)))
}

// queueSpec returns the spec named name among resources.Queues(n, namespaces).
func queueSpec(n resources.Names, namespaces []string, name string) (resources.QueueSpec, error) {
	for _, q := range resources.Queues(n, namespaces) {
		if q.Name == name {
			return q, nil
		}
	}
	return resources.QueueSpec{}, fmt.Errorf("no queue %s in resources.Queues", name)
}
