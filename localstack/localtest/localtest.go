// Package localtest gives tests anywhere in the repository a local AWS and
// isolated Tasker resources on it:
//
//	f := localtest.New(t, "billing")
//	store := dynamo.New(f.Env.DynamoDB, f.Names.StateTable())
//
// By default one embedded kumo emulator is started per test binary, on a
// random port. With TASKER_TEST_ENDPOINT (or AWS_ENDPOINT_URL) set, the same
// tests run against that endpoint instead, e.g. LocalStack.
package localtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/resources"
)

// EnvEndpoint names the variable that points tests at an external endpoint.
// AWS_ENDPOINT_URL is used when it is not set.
const EnvEndpoint = "TASKER_TEST_ENDPOINT"

// setupTimeout bounds starting the environment and provisioning a fixture.
const setupTimeout = 2 * time.Minute

var (
	envOnce sync.Once
	env     *localstack.Env
	envErr  error
)

// Env returns the test binary's local AWS, starting it on first use. It is
// never closed: it lives as long as the test binary. It fails t when the
// environment cannot be started.
func Env(t testing.TB) *localstack.Env {
	t.Helper()
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		endpoint := os.Getenv(EnvEndpoint)
		if endpoint == "" {
			endpoint = os.Getenv("AWS_ENDPOINT_URL")
		}
		env, envErr = localstack.Start(ctx, localstack.Options{Addr: "127.0.0.1:0", Endpoint: endpoint, Quiet: true})
	})
	if envErr != nil {
		t.Fatalf("local AWS: %v", envErr)
	}
	return env
}

// Fixture is one test's own set of Tasker resources.
type Fixture struct {
	Env         *localstack.Env
	Names       resources.Names
	Provisioned *resources.Provisioned

	t testing.TB
}

// New provisions the table and queues (with step queues for namespaces)
// under a fresh prefix "t-<8 hex digits>", and deletes them when the test
// ends. It fails t when provisioning fails.
func New(t testing.TB, namespaces ...string) *Fixture {
	t.Helper()
	e := Env(t)
	names := resources.Names{Prefix: "t-" + randomHex(4)}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	p, err := e.Provision(ctx, names, namespaces)
	if err != nil {
		t.Fatalf("provision %s: %v", names.Prefix, err)
	}
	f := &Fixture{Env: e, Names: names, Provisioned: p, t: t}
	t.Cleanup(f.cleanup)
	return f
}

// QueueURL returns the URL of the fixture's queue with physical name name
// (e.g. f.Names.ResultsQueue()); it fails the test for an unknown name.
func (f *Fixture) QueueURL(name string) string {
	f.t.Helper()
	url, ok := f.Provisioned.QueueURLs[name]
	if !ok {
		f.t.Fatalf("fixture %s has no queue %q", f.Names.Prefix, name)
	}
	return url
}

// cleanup deletes the fixture's resources, so runs against LocalStack or AWS
// leave nothing behind; on kumo it frees memory in a long test binary.
func (f *Fixture) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for name, url := range f.Provisioned.QueueURLs {
		if _, err := f.Env.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil && !awsconn.IsQueueMissing(err) {
			errs = append(errs, fmt.Errorf("delete queue %s: %w", name, err))
		}
	}
	_, err := f.Env.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(f.Provisioned.Table)})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		errs = append(errs, fmt.Errorf("delete table %s: %w", f.Provisioned.Table, err))
	}
	if err := errors.Join(errs...); err != nil {
		f.t.Errorf("clean up fixture %s: %v", f.Names.Prefix, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
