package resources_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/resources"
)

// uniqueNames gives a test its own prefix: kumo's state is shared by every
// test in the binary.
func uniqueNames(t *testing.T) resources.Names {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return resources.Names{Prefix: "r-" + hex.EncodeToString(b)}
}

func TestProvisionIsIdempotent(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	namespaces := []string{"billing", "ml_train", "billing"}

	first, err := env.Provision(t.Context(), n, namespaces)
	if err != nil {
		t.Fatalf("first Provision: %v", err)
	}
	second, err := env.Provision(t.Context(), n, namespaces)
	if err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Provision = %+v, first %+v", second, first)
	}
	if first.Table != n.StateTable() {
		t.Errorf("Table = %q", first.Table)
	}
	wantQueues := []string{n.OrchestrationQueue(), n.ResultsQueue(), n.StepQueue("billing"), n.StepQueue("ml_train")}
	if len(first.QueueURLs) != 2*len(wantQueues) {
		t.Errorf("QueueURLs = %v, want %d queues", first.QueueURLs, 2*len(wantQueues))
	}
	for _, q := range wantQueues {
		for _, name := range []string{q, resources.DLQName(q)} {
			if first.QueueURLs[name] == "" {
				t.Errorf("no URL for %s", name)
			}
		}
	}
}

func TestProvisionedTable(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	if _, err := env.Provision(t.Context(), n, nil); err != nil {
		t.Fatal(err)
	}
	out, err := env.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(n.StateTable())})
	if err != nil {
		t.Fatal(err)
	}
	table := out.Table
	if table.TableStatus != ddbtypes.TableStatusActive {
		t.Errorf("status %s", table.TableStatus)
	}
	if got := keyNames(table.KeySchema); got != "pk,sk" {
		t.Errorf("table keys %s", got)
	}
	if bm := table.BillingModeSummary; bm == nil || bm.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing %+v", bm)
	}
	want := map[string]string{resources.IndexByNamespace: "gsi1pk,gsi1sk", resources.IndexSweep: "sweep_shard,sweep_at"}
	got := map[string]string{}
	for _, g := range table.GlobalSecondaryIndexes {
		got[aws.ToString(g.IndexName)] = keyNames(g.KeySchema)
		wantProjection := ddbtypes.ProjectionTypeAll
		if aws.ToString(g.IndexName) == resources.IndexSweep {
			wantProjection = ddbtypes.ProjectionTypeInclude
		}
		if g.Projection == nil || g.Projection.ProjectionType != wantProjection {
			t.Errorf("index %s projection %+v", aws.ToString(g.IndexName), g.Projection)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indexes %v, want %v", got, want)
	}

	ttl, err := env.DynamoDB.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(n.StateTable())})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != resources.AttrTTL {
		t.Errorf("ttl %+v", d)
	}
}

func keyNames(ks []ddbtypes.KeySchemaElement) string {
	var hash, rng string
	for _, k := range ks {
		if k.KeyType == ddbtypes.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		} else {
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash + "," + rng
}

func TestProvisionedQueues(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	p, err := env.Provision(t.Context(), n, []string{"billing"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		queue      string
		visibility string
	}{
		{n.OrchestrationQueue(), "180"},
		{n.ResultsQueue(), "180"},
		{n.StepQueue("billing"), "360"},
	}
	for _, tt := range tests {
		attrs := queueAttributes(t, env, p.QueueURLs[tt.queue])
		dlqAttrs := queueAttributes(t, env, p.QueueURLs[resources.DLQName(tt.queue)])
		if attrs["VisibilityTimeout"] != tt.visibility || attrs["MessageRetentionPeriod"] != "345600" || attrs["ReceiveMessageWaitTimeSeconds"] != "20" {
			t.Errorf("%s: attributes %v", tt.queue, attrs)
		}
		wantRedrive := `"deadLetterTargetArn":"` + dlqAttrs["QueueArn"] + `"`
		if !strings.Contains(attrs["RedrivePolicy"], wantRedrive) || !strings.Contains(attrs["RedrivePolicy"], `"maxReceiveCount":5`) {
			t.Errorf("%s: RedrivePolicy %s, want %s and maxReceiveCount 5", tt.queue, attrs["RedrivePolicy"], wantRedrive)
		}
		if dlqAttrs["MessageRetentionPeriod"] != "1209600" || dlqAttrs["RedrivePolicy"] != "" {
			t.Errorf("%s DLQ: attributes %v", tt.queue, dlqAttrs)
		}
	}
}

func queueAttributes(t *testing.T, env *localstack.Env, url string) map[string]string {
	t.Helper()
	out, err := env.SQS.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("attributes of %s: %v", url, err)
	}
	return out.Attributes
}

// A message received MaxReceiveCount times without being deleted lands in
// the DLQ.
func TestRedriveToDeadLetterQueue(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	spec := resources.Queues(n, nil)[0]
	spec.Name = n.Prefix + "-redrive"
	spec.DLQ.Name = resources.DLQName(spec.Name)
	spec.VisibilityTimeout = time.Second
	spec.MaxReceiveCount = 2
	urls, err := resources.ProvisionQueues(t.Context(), env.SQS, []resources.QueueSpec{spec})
	if err != nil {
		t.Fatal(err)
	}
	mainURL, dlqURL := urls[spec.Name], urls[spec.DLQ.Name]
	if _, err := env.SQS.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(mainURL), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}

	// Receive without deleting until the message shows up in the DLQ. SQS
	// moves it on the first receive after its last visibility timeout; a
	// kumo long poll does not wake when a message becomes visible again, so
	// the polls are short.
	received := 0
	var dead []sqstypes.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(dead) == 0 && time.Now().Before(deadline) {
		received += len(receive(t, env, mainURL, 1))
		dead = receive(t, env, dlqURL, 0)
	}
	if received != spec.MaxReceiveCount {
		t.Errorf("received %d times from the main queue, want %d", received, spec.MaxReceiveCount)
	}
	if len(dead) != 1 || aws.ToString(dead[0].Body) != "poison" {
		t.Fatalf("DLQ got %+v, want the poison message", dead)
	}
}

func receive(t *testing.T, env *localstack.Env, url string, wait int32) []sqstypes.Message {
	t.Helper()
	out, err := env.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(url),
		MaxNumberOfMessages: 10,
		WaitTimeSeconds:     wait,
	})
	if err != nil {
		t.Fatalf("receive from %s: %v", url, err)
	}
	return out.Messages
}

func TestProvisionQueueMismatch(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	spec := resources.Queues(n, nil)[1]
	if _, err := resources.ProvisionQueues(t.Context(), env.SQS, []resources.QueueSpec{spec}); err != nil {
		t.Fatal(err)
	}
	changed := spec.WithConsumerTimeout(2 * time.Minute)
	_, err := resources.ProvisionQueues(t.Context(), env.SQS, []resources.QueueSpec{changed})
	if !errors.Is(err, resources.ErrMismatch) || !strings.Contains(err.Error(), spec.Name) || !strings.Contains(err.Error(), "VisibilityTimeout") {
		t.Errorf("ProvisionQueues with another visibility = %v, want ErrMismatch naming the queue and attribute", err)
	}
}

func TestProvisionTableMismatch(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	other := resources.StateTable(n)
	other.GSIs = other.GSIs[:1]
	if err := resources.ProvisionTable(t.Context(), env.DynamoDB, other); err != nil {
		t.Fatal(err)
	}
	_, err := env.Provision(t.Context(), n, nil)
	if !errors.Is(err, resources.ErrMismatch) || !strings.Contains(err.Error(), "index sweep is missing") {
		t.Errorf("Provision over a table without the sweep index = %v, want ErrMismatch", err)
	}
}

func TestProvisionTTLMismatch(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	n := uniqueNames(t)
	other := resources.StateTable(n)
	other.TTLAttribute = "ttl"
	if err := resources.ProvisionTable(t.Context(), env.DynamoDB, other); err != nil {
		t.Fatal(err)
	}
	_, err := env.Provision(t.Context(), n, nil)
	if !errors.Is(err, resources.ErrMismatch) || !strings.Contains(err.Error(), "ttl") {
		t.Errorf("Provision over a table with TTL on another attribute = %v, want ErrMismatch", err)
	}
}

func TestProvisionRejectsInvalidNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		names      resources.Names
		namespaces []string
	}{
		{resources.Names{Prefix: "Bad_Prefix"}, nil},
		{resources.Names{Prefix: "ok"}, []string{"bad-namespace"}},
	}
	for _, tt := range tests {
		// Validation comes first: no client is called.
		_, err := resources.Provision(context.Background(), nil, nil, tt.names, tt.namespaces)
		if !errors.Is(err, resources.ErrInvalidName) {
			t.Errorf("Provision(%+v, %v) = %v, want ErrInvalidName", tt.names, tt.namespaces, err)
		}
	}
}

// slowTable reports a table as CREATING for its first DescribeTable calls, as
// AWS does, in front of the real client.
type slowTable struct {
	resources.DynamoAPI
	creating int
	calls    int
	status   ddbtypes.TableStatus
}

func (s *slowTable) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := s.DynamoAPI.DescribeTable(ctx, in, opts...)
	s.calls++
	if err == nil && s.calls <= s.creating {
		out.Table.TableStatus = s.status
	}
	return out, err
}

func TestProvisionTableWaitsUntilActive(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	slow := &slowTable{DynamoAPI: env.DynamoDB, creating: 3, status: ddbtypes.TableStatusCreating}
	if err := resources.ProvisionTable(t.Context(), slow, resources.StateTable(uniqueNames(t))); err != nil {
		t.Fatal(err)
	}
	if slow.calls != 4 {
		t.Errorf("DescribeTable called %d times, want 4", slow.calls)
	}
}

func TestProvisionTableBeingDeleted(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	slow := &slowTable{DynamoAPI: env.DynamoDB, creating: 1, status: ddbtypes.TableStatusDeleting}
	err := resources.ProvisionTable(t.Context(), slow, resources.StateTable(uniqueNames(t)))
	if !errors.Is(err, resources.ErrNotReady) {
		t.Errorf("ProvisionTable on a deleting table = %v, want ErrNotReady", err)
	}
}
