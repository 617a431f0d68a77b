package resources

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DynamoAPI is the part of the DynamoDB client Provision uses.
type DynamoAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// SQSAPI is the part of the SQS client Provision uses.
type SQSAPI interface {
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, opts ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Provisioned is what Provision created or found.
type Provisioned struct {
	// Table is the state table's name.
	Table string
	// QueueURLs maps each physical queue name, DLQs included, to its URL.
	QueueURLs map[string]string
}

// Provision creates the state table and every queue of installation n with
// one step queue per namespace, or accepts them when they already exist with
// the same settings, so it is safe to run again. It waits until the table
// and its indexes are ACTIVE and enables TTL, and creates each DLQ before
// the queue that redrives to it.
//
// It returns an error wrapping ErrInvalidName for a bad prefix or namespace,
// ErrMismatch when a resource exists with other settings, ErrNotReady when
// the table does not become ACTIVE, or the AWS error wrapped with the
// operation and resource ("create table tasker-state: ...").
func Provision(ctx context.Context, ddb DynamoAPI, sq SQSAPI, n Names, namespaces []string) (*Provisioned, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	for _, ns := range namespaces {
		if err := ValidateNamespace(ns); err != nil {
			return nil, err
		}
	}
	table := StateTable(n)
	if err := ProvisionTable(ctx, ddb, table); err != nil {
		return nil, err
	}
	urls, err := ProvisionQueues(ctx, sq, Queues(n, namespaces))
	if err != nil {
		return nil, err
	}
	return &Provisioned{Table: table.Name, QueueURLs: urls}, nil
}

// ProvisionQueues creates each queue in specs after its DLQ, or accepts it
// when it exists with the same attributes, and returns the URLs by queue name
// (DLQs included). Errors are those of Provision.
func ProvisionQueues(ctx context.Context, sq SQSAPI, specs []QueueSpec) (map[string]string, error) {
	urls := make(map[string]string, 2*len(specs))
	for _, q := range specs {
		if err := q.Validate(); err != nil {
			return nil, err
		}
		var dlqARN string
		if q.DLQ != nil {
			dlq, err := ensureQueue(ctx, sq, *q.DLQ, q.DLQ.Attributes(""))
			if err != nil {
				return nil, err
			}
			urls[q.DLQ.Name], dlqARN = dlq.url, dlq.arn
		}
		got, err := ensureQueue(ctx, sq, q, q.Attributes(dlqARN))
		if err != nil {
			return nil, err
		}
		urls[q.Name] = got.url
	}
	return urls, nil
}

// wrapf wraps err with an operation and resource, keeping the AWS error
// available to errors.As.
func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}
