// Package conformance is the worker conformance suite: it drives any worker
// process, written in any language, through the wire contract of
// docs/protocol.md on the embedded local AWS and checks what the engine sees.
//
// Run starts the engine side (intake, scheduler, results consumer and
// sweeper, no in-process workers) for namespace "conformance", launches the
// worker with the contract's environment, waits for its READY line and runs
// one subtest per behaviour: happy path, claim write, retryable and permanent
// errors, duplicate delivery, large payloads, decision and batch outcomes,
// malformed messages and graceful shutdown. The checks read the engine's
// state through its HTTP API and the state table, the wire traffic through
// the engine's SQS client, and the worker's EFFECT lines; none depend on how
// a particular SDK is built.
//
// The worker side of the contract (environment, stdout lines, the handlers
// a conformance worker registers) is described in docs/protocol.md,
// "Conformance suite". RegisterGoHandlers holds the Go SDK's handlers, which
// cmd/conformance-worker hosts.
package conformance

import (
	"context"
	"embed"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/localrun"
	"github.com/tasker-go/tasker/pkg/template"
)

// Namespace is the template namespace of the suite.
const Namespace = "conformance"

// Environment variables the suite gives the worker, besides the standard
// AWS ones (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY).
const (
	EnvPrefix          = "TASKER_PREFIX"
	EnvNamespace       = "TASKER_NAMESPACE"
	EnvStateTable      = "TASKER_STATE_TABLE"
	EnvStepQueueURL    = "TASKER_STEP_QUEUE_URL"
	EnvResultsQueueURL = "TASKER_RESULTS_QUEUE_URL"
)

// ShutdownBudget is how long a worker may take to exit after SIGTERM.
const ShutdownBudget = 10 * time.Second

// Config says which worker to test.
type Config struct {
	// Argv is the worker command line, e.g. {"node", "dist/conformance/worker.js"}.
	Argv []string
	// Env holds extra "KEY=value" entries for the worker's environment
	// (e.g. NODE_OPTIONS); the contract's variables win over them.
	Env []string
	// ReadyTimeout bounds the wait for READY; default 30 s.
	ReadyTimeout time.Duration
}

//go:embed templates/*.yaml
var templateFS embed.FS

// Templates returns the suite's templates (namespace "conformance").
func Templates() ([]*template.Template, error) {
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	var out []*template.Template
	for _, e := range entries {
		body, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			return nil, err
		}
		t, err := template.Parse(body, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// suite is one run against one worker process.
type suite struct {
	stack  *devstack.Stack
	api    *client.Client
	tap    *tap
	worker *workerProcess
	sqs    *sqs.Client // untapped: what the suite itself sends

	stepQueueURL string
	dlqURL       string
	engineLog    *lineBuffer
}

// Run runs the conformance suite against the worker cfg describes. It
// fails t when the environment cannot be set up, the worker does not start,
// or any check fails; each behaviour is a subtest.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	s := setUp(t, cfg)
	// Independent tasks run side by side, as they would in production.
	t.Run("independent", func(t *testing.T) {
		t.Run("happy_path_chain", s.testChain)
		t.Run("happy_path_diamond", s.testDiamond)
		t.Run("claim_write", s.testClaimWrite)
		t.Run("retryable_error", s.testRetryable)
		t.Run("permanent_error", s.testPermanent)
		t.Run("large_payloads", s.testLargePayloads)
		t.Run("decision_outcome", s.testDecision)
		t.Run("batch_outcome", s.testBatch)
	})
	// These wait for the step queue to drain, so they run alone.
	t.Run("duplicate_delivery", s.testDuplicate)
	t.Run("malformed_messages", s.testMalformed)
	t.Run("graceful_shutdown", s.testShutdown)
}

func setUp(t *testing.T, cfg Config) *suite {
	t.Helper()
	fx := localtest.New(t, Namespace)
	s := &suite{sqs: fx.Env.SQS, engineLog: &lineBuffer{keep: 40}}
	s.stepQueueURL = fx.QueueURL(fx.Names.StepQueue(Namespace))
	s.dlqURL = fx.QueueURL(fx.Names.StepQueue(Namespace) + "-dlq")
	resultsURL := fx.QueueURL(fx.Names.ResultsQueue())
	s.tap = newTap(s.stepQueueURL, resultsURL)
	s.startEngine(t, fx)
	s.launchWorker(t, cfg, append(filteredEnviron(), cfg.Env...),
		"AWS_ENDPOINT_URL="+fx.Env.Endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		EnvPrefix+"="+fx.Names.Prefix, EnvNamespace+"="+Namespace,
		EnvStateTable+"="+fx.Names.StateTable(), EnvStepQueueURL+"="+reachableURL(fx.Env, s.stepQueueURL),
		EnvResultsQueueURL+"="+reachableURL(fx.Env, resultsURL))
	return s
}

// startEngine runs the engine side on the fixture's resources, with the tap
// on its SQS client and no in-process workers, and serves its HTTP API.
func (s *suite) startEngine(t *testing.T, fx *localtest.Fixture) {
	t.Helper()
	tpls, err := Templates()
	if err != nil {
		t.Fatalf("suite templates: %v", err)
	}
	tapped := sqs.NewFromConfig(fx.Env.AWS, func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, s.tap.register)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{
		Env: fx.Env, Prefix: fx.Names.Prefix, Templates: tpls, SQS: tapped,
		SweepEvery: 2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(s.engineLog, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := httptest.NewServer(api.HTTPHandler(localrun.Handler(st.API.Handle)))
	t.Cleanup(srv.Close)
	s.stack, s.api = st, client.New(srv.URL)
}

// launchWorker starts the worker process with base plus the contract's
// variables and waits for its READY line.
func (s *suite) launchWorker(t *testing.T, cfg Config, base []string, contract ...string) {
	t.Helper()
	wp, err := startWorker(cfg.Argv, append(base, contract...))
	if err != nil {
		t.Fatal(err)
	}
	s.worker = wp
	t.Cleanup(wp.kill)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker stderr (last lines):\n%s", wp.stderrTail())
			t.Logf("engine warnings (last lines):\n%s", s.engineLog.String())
		}
	})
	readyTimeout := cfg.ReadyTimeout
	if readyTimeout <= 0 {
		readyTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := wp.waitReady(ctx); err != nil {
		t.Fatalf("worker %v: %v", cfg.Argv, err)
	}
}

// reachableURL points a queue URL of the embedded emulator at the
// emulator's endpoint. kumo names its queues http://localhost:4566/… whatever
// port it listens on; SDKs that send to the queue URL's host (the AWS SDK for
// JavaScript does by default) would miss it.
func reachableURL(env *localstack.Env, queueURL string) string {
	if !env.Embedded {
		return queueURL
	}
	u, err := url.Parse(queueURL)
	e, err2 := url.Parse(env.Endpoint)
	if err != nil || err2 != nil {
		return queueURL
	}
	u.Scheme, u.Host = e.Scheme, e.Host
	return u.String()
}

// filteredEnviron is the test process's environment without AWS and Tasker
// settings, which the suite sets itself.
func filteredEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "TASKER_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// lineBuffer keeps the last lines written to it.
type lineBuffer struct {
	mu    sync.Mutex
	keep  int
	lines []string
}

var _ io.Writer = (*lineBuffer)(nil)

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, strings.Split(strings.TrimRight(string(p), "\n"), "\n")...)
	if len(b.lines) > b.keep {
		b.lines = b.lines[len(b.lines)-b.keep:]
	}
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
