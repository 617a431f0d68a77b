package localtest_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/resources"
)

func TestEnvIsShared(t *testing.T) {
	t.Parallel()
	if localtest.Env(t) != localtest.Env(t) {
		t.Error("Env started twice")
	}
}

func TestFixturesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := localtest.New(t, "billing"), localtest.New(t, "billing")
	if a.Names.Prefix == b.Names.Prefix {
		t.Fatalf("both fixtures use prefix %s", a.Names.Prefix)
	}
	for _, f := range []*localtest.Fixture{a, b} {
		if err := f.Names.Validate(); err != nil {
			t.Error(err)
		}
		step := f.Names.StepQueue("billing")
		for _, q := range []string{step, resources.DLQName(step), f.Names.ResultsQueue(), f.Names.OrchestrationQueue()} {
			if f.QueueURL(q) == "" {
				t.Errorf("%s: no URL for %s", f.Names.Prefix, q)
			}
		}
	}
	if a.QueueURL(a.Names.ResultsQueue()) == b.QueueURL(b.Names.ResultsQueue()) {
		t.Error("fixtures share a results queue")
	}

	// A message sent to one fixture's queue is not in the other's.
	ctx := t.Context()
	if _, err := a.Env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(a.QueueURL(a.Names.ResultsQueue())), MessageBody: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	// WaitTimeSeconds 0 is never sent, and the queue long-polls 20 s by default.
	out, err := b.Env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.QueueURL(b.Names.ResultsQueue())), WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("other fixture received %+v, %v", out, err)
	}
}

func TestFixtureCleanup(t *testing.T) {
	t.Parallel()
	var table string
	t.Run("fixture", func(t *testing.T) {
		table = localtest.New(t).Names.StateTable()
	})
	env := localtest.Env(t)
	_, err := env.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var missing *types.ResourceNotFoundException
	if !errors.As(err, &missing) {
		t.Errorf("table %s after its test ended: %v, want ResourceNotFoundException", table, err)
	}
}
