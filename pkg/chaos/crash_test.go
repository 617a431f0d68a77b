package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/awsconn"
)

// faultClients returns DynamoDB and SQS clients for the test emulator with
// only the given Initialize middleware.
func faultClients(t *testing.T, mw middleware.InitializeMiddleware) (*dynamodb.Client, *sqs.Client) {
	t.Helper()
	f := localtest.New(t)
	o := f.Env.ClientOptions
	o.APIOptions = append(slices.Clone(o.APIOptions), func(st *middleware.Stack) error { return st.Initialize.Add(mw, middleware.Before) })
	cfg, err := awsconn.Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return awsconn.DynamoDB(cfg, o), awsconn.SQS(cfg, o)
}

func itemExists(t *testing.T, ddb *dynamodb.Client, table, pk string) bool {
	t.Helper()
	out, err := ddb.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// Inside an invocation a crash before a write leaves no item, a crash after
// it leaves the item, and every later call of the invocation fails unsent.
func TestCrashKillsTheInvocation(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	table := f.Provisioned.Table
	cr := &crashes{rate: 1, rng: newLockedRand(1, 1), log: newFaultLog()}
	cr.armed.Store(true)
	ddb, _ := faultClients(t, cr.middleware())
	put := func(ctx context.Context, pk string) error {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "x"}}})
		return err
	}
	for i := range 8 {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprint("req-", i)})
		before := cr.log.snapshot()[FaultCrashBeforeDynamoDBWrite]
		pk := fmt.Sprint("crash-", i)
		if err := put(ctx, pk); !errors.Is(err, errCrash) {
			t.Fatalf("call %d: got %v, want a crash", i, err)
		}
		crashedBefore := cr.log.snapshot()[FaultCrashBeforeDynamoDBWrite] > before
		if got := itemExists(t, f.Env.DynamoDB, table, pk); got == crashedBefore {
			t.Fatalf("call %d: item exists %v after a crash before=%v", i, got, crashedBefore)
		}
		if err := put(ctx, pk+"-later"); !errors.Is(err, errCrash) || itemExists(t, f.Env.DynamoDB, table, pk+"-later") {
			t.Fatalf("call %d: a call after the crash got %v and was sent", i, err)
		}
	}
	n := cr.log.snapshot()
	if n[FaultCrashBeforeDynamoDBWrite] == 0 || n[FaultCrashAfterDynamoDBWrite] == 0 || cr.suppressed.Load() != 8 {
		t.Fatalf("faults %v, suppressed %d: want both kinds and 8 suppressed", n, cr.suppressed.Load())
	}
}

// Outside an invocation a DynamoDB write crashes before it is sent and an
// SQS send after it (see crashes); nothing is suppressed afterwards.
func TestCrashOutsideAnInvocation(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	cr := &crashes{rate: 1, rng: newLockedRand(2, 1), log: newFaultLog()}
	cr.armed.Store(true)
	ddb, sq := faultClients(t, cr.middleware())
	ctx := context.Background()
	_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.Provisioned.Table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "w"}, "sk": &types.AttributeValueMemberS{Value: "x"}}})
	if !errors.Is(err, errCrash) || itemExists(t, f.Env.DynamoDB, f.Provisioned.Table, "w") {
		t.Fatalf("write: %v, want a crash before the call", err)
	}
	url := f.QueueURL(f.Names.OrchestrationQueue())
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("m")}); !errors.Is(err, errCrash) {
		t.Fatalf("send: %v, want a crash", err)
	}
	out, err := f.Env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("the crashed send must have been sent: %v, %d messages", err, len(out.Messages))
	}
	n := cr.log.snapshot()
	if n[FaultCrashBeforeDynamoDBWrite] != 1 || n[FaultCrashAfterSQSSend] != 1 || cr.suppressed.Load() != 0 {
		t.Fatalf("faults %v, suppressed %d", n, cr.suppressed.Load())
	}
}

// A held-back message reaches the queue after a message sent later.
func TestReorderHoldsAMessageBack(t *testing.T) {
	t.Parallel()
	f := localtest.New(t)
	url := f.QueueURL(f.Names.ResultsQueue())
	d := &delivery{reorderRate: 1, rng: newLockedRand(3, 1), log: newFaultLog(), clean: f.Env.SQS,
		kindOf: queueKind, held: map[string][]*sqs.SendMessageInput{}}
	_, sq := faultClients(t, d.middleware())
	ctx := context.Background()
	send := func(body string) {
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	send("first")
	d.reorderRate = 0 // the middleware reads it per call; no send is in flight
	send("second")
	d.close()
	var got []string
	for len(got) < 2 {
		out, err := f.Env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
		}
	}
	if !slices.Equal(got, []string{"second", "first"}) || d.log.snapshot()["reorder_result"] != 1 {
		t.Fatalf("received %v, faults %v", got, d.log.snapshot())
	}
}
