package localstack_test

import (
	"context"
	"errors"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/awsconn"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
// The port is below Linux's ephemeral range (32768-60999), so a listener on
// port 0 elsewhere in this test binary (kumo's own, TestStartBusyPort's)
// cannot take it in between.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+mathrand.IntN(12000)))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		return addr
	}
	t.Fatal("no free port in 20000-31999")
	return ""
}

func start(t *testing.T, o localstack.Options) *localstack.Env {
	t.Helper()
	o.Quiet = true
	env, err := localstack.Start(t.Context(), o)
	if err != nil {
		t.Fatalf("Start(%+v): %v", o, err)
	}
	t.Cleanup(func() { _ = env.Close() })
	return env
}

func clientsFor(t *testing.T, endpoint string) (*dynamodb.Client, *sqs.Client) {
	t.Helper()
	o := awsconn.Options{Endpoint: endpoint, Local: true}
	cfg, err := awsconn.Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return awsconn.DynamoDB(cfg, o), awsconn.SQS(cfg, o)
}

// roundTrip lists tables and sends, receives and deletes one message.
func roundTrip(t *testing.T, ddb *dynamodb.Client, sq *sqs.Client, queue string) {
	t.Helper()
	ctx := t.Context()
	if _, err := ddb.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("ping " + queue)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "ping "+queue {
		t.Fatalf("ReceiveMessage = %+v, %v", out, err)
	}
	if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
}

func TestStartForwardsPublicAddress(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	env := start(t, localstack.Options{Addr: addr})
	if !env.Embedded || env.Endpoint != "http://"+addr || env.InternalEndpoint == env.Endpoint {
		t.Fatalf("Env endpoints: public %s internal %s embedded %v", env.Endpoint, env.InternalEndpoint, env.Embedded)
	}
	t.Run("public", func(t *testing.T) {
		ddb, sq := clientsFor(t, env.Endpoint)
		roundTrip(t, ddb, sq, "ls-public-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	})
	t.Run("internal", func(t *testing.T) {
		ddb, sq := clientsFor(t, env.InternalEndpoint)
		roundTrip(t, ddb, sq, "ls-internal-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	})
	t.Run("env clients", func(t *testing.T) {
		roundTrip(t, env.DynamoDB, env.SQS, "ls-env-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	})
}

func TestStartRandomPortHasNoForwarder(t *testing.T) {
	t.Parallel()
	env := start(t, localstack.Options{Addr: "127.0.0.1:0"})
	if env.Endpoint != env.InternalEndpoint || !strings.HasPrefix(env.Endpoint, "http://127.0.0.1:") {
		t.Errorf("public %s internal %s, want the same kumo URL", env.Endpoint, env.InternalEndpoint)
	}
	roundTrip(t, env.DynamoDB, env.SQS, "ls-random-"+strconv.FormatInt(time.Now().UnixNano(), 36))
}

func TestStartBusyPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, err = localstack.Start(t.Context(), localstack.Options{Addr: addr, Quiet: true})
	if !errors.Is(err, localstack.ErrAddrInUse) || !strings.Contains(err.Error(), addr+" is in use") || !strings.Contains(err.Error(), "--aws-addr") {
		t.Errorf("Start on a busy port = %v, want ErrAddrInUse naming %s and --aws-addr", err, addr)
	}
}

// Close ends relayed connections, even a long poll in flight, and frees the
// port.
func TestCloseEndsForwardedLongPoll(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	env, err := localstack.Start(t.Context(), localstack.Options{Addr: addr, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	_, sq := clientsFor(t, env.Endpoint)
	q, err := sq.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("ls-close-" + strconv.FormatInt(time.Now().UnixNano(), 36))})
	if err != nil {
		t.Fatal(err)
	}
	polled := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// One attempt: a retry would dial the closed port and only add noise.
		_, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20},
			func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
		polled <- err
	}()
	time.Sleep(200 * time.Millisecond) // let the poll reach kumo

	began := time.Now()
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Close took %v with a long poll in flight", took)
	}
	select {
	case err := <-polled:
		if err == nil {
			t.Error("the long poll succeeded after Close")
		}
	case <-time.After(5 * time.Second):
		t.Error("the long poll still runs after Close")
	}
	if err := env.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The port is free again. Retried briefly: another process on the
	// machine may probe ports in the same range.
	var lerr error
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ln net.Listener
		if ln, lerr = net.Listen("tcp", addr); lerr == nil {
			_ = ln.Close()
			return
		}
	}
	t.Errorf("port not freed by Close: %v", lerr)
}

func TestStartExternalEndpoint(t *testing.T) {
	t.Parallel()
	embedded := localtest.Env(t)
	env := start(t, localstack.Options{Endpoint: embedded.Endpoint})
	if env.Embedded || env.Endpoint != embedded.Endpoint || env.InternalEndpoint != embedded.Endpoint {
		t.Errorf("external Env = %+v", env)
	}
	if !env.ClientOptions.Local {
		t.Error("a loopback endpoint is not treated as local")
	}
	roundTrip(t, env.DynamoDB, env.SQS, "ls-external-"+strconv.FormatInt(time.Now().UnixNano(), 36))
}

func TestStartExternalUnreachable(t *testing.T) {
	t.Parallel()
	endpoint := "http://" + freeAddr(t)
	_, err := localstack.Start(t.Context(), localstack.Options{Endpoint: endpoint, Quiet: true})
	if !errors.Is(err, localstack.ErrUnreachable) || !strings.Contains(err.Error(), endpoint) {
		t.Errorf("Start against nothing = %v, want ErrUnreachable naming %s", err, endpoint)
	}
}

// Persistence is per process (KUMO_DATA_DIR is read at start), so it is
// tested by running this test binary twice with the variable set.
const childEnv = "TASKER_LOCALSTACK_PERSIST_STEP"

func TestPersistenceAcrossProcesses(t *testing.T) {
	t.Parallel()
	if os.Getenv(childEnv) != "" {
		t.Skip("running as a child")
	}
	dir := t.TempDir()
	table := "ls-persist-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	for _, step := range []string{"write", "read"} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPersistenceChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KUMO_DATA_DIR="+dir, childEnv+"="+step, "TASKER_PERSIST_TABLE="+table)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s step: %v\n%s", step, err, out)
		}
	}
}

func TestPersistenceChild(t *testing.T) {
	step := os.Getenv(childEnv)
	if step == "" {
		t.Skip("run by TestPersistenceAcrossProcesses")
	}
	if localstack.DataDir() == "" {
		t.Fatal("DataDir is empty with KUMO_DATA_DIR set")
	}
	env := start(t, localstack.Options{Addr: "127.0.0.1:0"})
	table := os.Getenv("TASKER_PERSIST_TABLE")
	switch step {
	case "write":
		_, err := env.DynamoDB.CreateTable(t.Context(), &dynamodb.CreateTableInput{
			TableName:            aws.String(table),
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		})
		if err != nil {
			t.Fatal(err)
		}
	case "read":
		if _, err := env.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
			t.Fatalf("table written by the previous process: %v", err)
		}
	}
}
