package awsconn_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/awsconn"
)

// isolateEnv clears the variables that would let the user's own AWS setup
// leak into a test. Tests using it cannot be parallel.
func isolateEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
}

func TestLoadRegion(t *testing.T) {
	tests := []struct {
		name, envRegion, optRegion, want string
	}{
		{"default", "", "", "us-east-1"},
		{"from env", "eu-west-1", "", "eu-west-1"},
		{"explicit wins", "eu-west-1", "ap-south-1", "ap-south-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("AWS_DEFAULT_REGION", tt.envRegion)
			cfg, err := awsconn.Load(t.Context(), awsconn.Options{Region: tt.optRegion})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.want {
				t.Errorf("Region = %q, want %q", cfg.Region, tt.want)
			}
		})
	}
}

func TestLoadLocalCredentials(t *testing.T) {
	isolateEnv(t)
	cfg, err := awsconn.Load(t.Context(), awsconn.Options{Local: true})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "test" {
		t.Errorf("local credentials = %+v, %v; want the static test ones", creds, err)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDMINE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cfg, err = awsconn.Load(t.Context(), awsconn.Options{Local: true})
	if err != nil {
		t.Fatal(err)
	}
	if creds, err := cfg.Credentials.Retrieve(t.Context()); err != nil || creds.AccessKeyID != "AKIDMINE" {
		t.Errorf("credentials = %+v, %v; want the configured ones", creds, err)
	}
}

// An explicit endpoint wins over the service-specific variables, which the
// SDK would otherwise prefer.
func TestExplicitEndpointWins(t *testing.T) {
	isolateEnv(t)
	env := localtest.Env(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1")
	o := awsconn.Options{Endpoint: env.InternalEndpoint, Local: true}
	cfg, err := awsconn.Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := awsconn.DynamoDB(cfg, o).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("DynamoDB: %v", err)
	}
	if _, err := awsconn.SQS(cfg, o).ListQueues(t.Context(), &sqs.ListQueuesInput{}); err != nil {
		t.Errorf("SQS: %v", err)
	}
}

// The SDK's own resolution of AWS_ENDPOINT_URL works when Endpoint is empty.
func TestSDKEndpointVariable(t *testing.T) {
	isolateEnv(t)
	env := localtest.Env(t)
	t.Setenv("AWS_ENDPOINT_URL", env.InternalEndpoint)
	o := awsconn.FromEnv()
	if !o.Local || o.Endpoint != "" {
		t.Fatalf("FromEnv() = %+v", o)
	}
	cfg, err := awsconn.Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := awsconn.DynamoDB(cfg, o).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("DynamoDB: %v", err)
	}
}

// logBuffer records the SDK's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Logf(c logging.Classification, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, "%s "+format+"\n", append([]any{c}, v...)...)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Clients reach the emulator over the wire, with the caller's middleware on
// the stack and without SDK warnings about the emulator's responses.
func TestClientsAgainstEmulator(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	var calls atomic.Int64
	count := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				calls.Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	o := awsconn.Options{Endpoint: env.InternalEndpoint, Local: true, APIOptions: []func(*middleware.Stack) error{count}}
	cfg, err := awsconn.Load(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cfg.Logger = logs

	ddb, sq := awsconn.DynamoDB(cfg, o), awsconn.SQS(cfg, o)
	if _, err := ddb.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	name := "awsconn-" + strings.ReplaceAll(t.Name(), "/", "-")
	q, err := sq.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if _, err := sq.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("hi")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("middleware counted %d calls, want 3", got)
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Errorf("SDK warnings:\n%s", logs)
	}
}

func TestNewHTTPClientPool(t *testing.T) {
	t.Parallel()
	tr := awsconn.NewHTTPClient().GetTransport()
	if tr.MaxIdleConnsPerHost < 64 || tr.DisableKeepAlives {
		t.Errorf("transport keeps %d idle connections per host, keep-alives disabled %v", tr.MaxIdleConnsPerHost, tr.DisableKeepAlives)
	}
	var _ aws.HTTPClient = (*http.Client)(nil)
}
