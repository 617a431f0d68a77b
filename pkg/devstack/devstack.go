// Package devstack runs the whole Tasker system on one machine: the local
// AWS (embedded kumo, or an endpoint such as LocalStack), the state table
// and queues, the four Lambda functions driven by local event sources that
// behave like Lambda's, the HTTP API, and in-process workers. `tasker dev`,
// `tasker demo`, the acceptance tests and the benchmark all start it.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/dashboard"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/localrun"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/schedule"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/telemetry"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// localPollWait is the long-poll wait of every local consumer (see runSource).
const localPollWait = 2 * time.Second

// Options configures a local stack.
type Options struct {
	// Env is a running local AWS to use; when nil, Start starts one with AWS.
	Env *localstack.Env
	// AWS configures the local AWS Start starts when Env is nil.
	AWS localstack.Options
	// Prefix names the tables and queues (default "tasker").
	Prefix string
	// Templates are registered at start; their namespaces get step queues.
	Templates []*template.Template
	// Registry holds the in-process workers' handlers; nil runs no workers.
	Registry *worker.Registry
	// WorkerConcurrency bounds in-process handlers per namespace (default 16).
	WorkerConcurrency int
	// APIAddr is where the HTTP API listens ("" = no HTTP listener;
	// "127.0.0.1:0" = a random port).
	APIAddr string
	// SweepEvery is the sweeper's schedule (default 5 s; AWS runs it every minute).
	SweepEvery time.Duration
	// ResultsViaQueue makes in-process workers send results to the results
	// queue instead of applying them in process (the path workers in other
	// languages take); the default applies them in process.
	ResultsViaQueue bool
	// Pollers is the number of concurrent pollers per orchestration/results
	// queue (Lambda scales these with the backlog; default 4).
	Pollers int
	// Notify receives engine events (must not block).
	Notify func(engine.Event)
	// Logger for every component; default slog.Default().
	Logger *slog.Logger
	// Auth, when set, makes the HTTP API authenticate and authorize every
	// request (see pkg/auth); nil serves it without auth.
	Auth *auth.Authenticator
	// EngineConfig customizes the engine (Store, Queue and Names are set by Start).
	EngineConfig engine.Config
	// Telemetry, when set, observes the engine, the functions and the
	// workers (metrics, spans) and, when the API listens, is served there:
	// GET /metrics (Prometheus) and GET /debug/traces (recent spans).
	Telemetry *telemetry.Telemetry
	// DynamoDB and SQS, when set, replace Env's clients (e.g. clients with
	// request-counting middleware for the benchmark).
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
}

// Stack is a running local system.
type Stack struct {
	Env         *localstack.Env
	Names       resources.Names
	Provisioned *resources.Provisioned
	Store       *dynamo.Store
	// DynamoDB and SQS are the clients every component uses.
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	Engine   *engine.Engine
	API      *api.Handler
	// APIURL is the HTTP API's base URL, when it listens.
	APIURL string
	// Worker is the in-process worker, when Registry was given.
	Worker *worker.Worker

	ownsEnv bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	httpSrv *http.Server
	log     *slog.Logger
	tel     *telemetry.Telemetry
}

// Start provisions resources, registers templates and starts every
// component. Close stops them.
func Start(ctx context.Context, o Options) (*Stack, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Stack{Env: o.Env, Names: resources.Names{Prefix: o.Prefix}, log: log}
	if s.Names.Prefix == "" {
		s.Names.Prefix = "tasker"
	}
	if s.Env == nil {
		env, err := localstack.Start(ctx, o.AWS)
		if err != nil {
			return nil, err
		}
		s.Env, s.ownsEnv = env, true
	}
	s.DynamoDB, s.SQS = s.Env.DynamoDB, s.Env.SQS
	if o.DynamoDB != nil {
		s.DynamoDB = o.DynamoDB
	}
	if o.SQS != nil {
		s.SQS = o.SQS
	}
	if err := s.start(ctx, o); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func namespaces(ts []*template.Template) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !seen[t.Namespace] {
			seen[t.Namespace] = true
			out = append(out, t.Namespace)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Stack) start(ctx context.Context, o Options) error {
	nss := namespaces(o.Templates)
	prov, err := s.Env.Provision(ctx, s.Names, nss)
	if err != nil {
		return err
	}
	s.Provisioned = prov
	s.Store = dynamo.New(s.DynamoDB, s.Names.StateTable())
	ecfg := o.EngineConfig
	sender := sqsqueue.New(s.SQS, prov.QueueURLs)
	ecfg.Store, ecfg.Queue, ecfg.DeadLetters, ecfg.Names = s.Store, sender, sender, s.Names
	if ecfg.Logger == nil {
		ecfg.Logger = s.log
	}
	if o.Notify != nil {
		ecfg.Notify = o.Notify
	}
	ecfg.Notify = o.Telemetry.EngineNotify(ecfg.Notify)
	if ecfg.Checked == nil {
		ecfg.Checked = o.Telemetry.EngineChecked()
	}
	if err := o.Telemetry.ObserveQueues(s.SQS, prov.QueueURLs); err != nil {
		return err
	}
	s.tel = o.Telemetry
	if s.Engine, err = engine.New(ecfg); err != nil {
		return err
	}
	for _, t := range o.Templates {
		if err := s.Engine.RegisterTemplate(ctx, t); err != nil {
			return err
		}
	}
	if s.API, err = api.New(api.Config{Engine: s.Engine, Logger: s.log, Auth: o.Auth}); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	pollers := o.Pollers
	if pollers <= 0 {
		pollers = 4
	}
	sched := &lambdafn.Scheduler{Engine: s.Engine, Logger: s.log, Telemetry: o.Telemetry}
	results := &lambdafn.Results{Engine: s.Engine, Logger: s.log, Telemetry: o.Telemetry}
	sweeper := &lambdafn.Sweeper{Engine: s.Engine, Logger: s.log, Telemetry: o.Telemetry}
	s.runSource(runCtx, s.Names.OrchestrationQueue(), localrun.Handler(sched.Handle), pollers)
	s.runSource(runCtx, s.Names.ResultsQueue(), localrun.Handler(results.Handle), pollers)
	sweepEvery := o.SweepEvery
	if sweepEvery <= 0 {
		sweepEvery = 5 * time.Second
	}
	sweepInvoke := localrun.Handler(sweeper.Handle)
	s.goRun(func() {
		localrun.Every(runCtx, sweepEvery, s.log, func(ctx context.Context) error {
			_, err := sweepInvoke(ctx, []byte(`{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
			return err
		})
	})
	var entries []schedule.Entry
	for _, t := range o.Templates {
		es, err := t.ScheduleEntries()
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	if len(entries) > 0 {
		runner := s.Engine.ScheduleRunner(entries)
		s.goRun(func() { runner.Run(runCtx, time.Second) })
	}
	if o.Registry != nil {
		if err := s.startWorkers(runCtx, o, nss); err != nil {
			return err
		}
	}
	if o.APIAddr != "" {
		return s.serveAPI(o.APIAddr, o.Auth)
	}
	return nil
}

func (s *Stack) goRun(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

func (s *Stack) runSource(ctx context.Context, queue string, invoke localrun.Invoker, pollers int) {
	// A short long-poll wait: kumo does not wake a waiting receive for a
	// message whose delay or visibility timeout ends during the wait, so
	// delayed retries would otherwise lag by up to 20 s locally.
	src := &localrun.SQSSource{SQS: s.SQS, QueueURL: s.Provisioned.QueueURLs[queue], Invoke: invoke,
		Pollers: pollers, Logger: s.log, WaitTime: localPollWait, QueueARN: "arn:aws:sqs:us-east-1:000000000000:" + queue}
	s.goRun(func() { _ = src.Run(ctx) })
}

func (s *Stack) startWorkers(ctx context.Context, o Options, nss []string) error {
	wcfg := worker.Config{Store: s.Store, SQS: s.SQS, Registry: o.Registry,
		ResultsQueueURL: s.Provisioned.QueueURLs[s.Names.ResultsQueue()], Logger: s.log, WorkerID: "dev-worker",
		Observer: o.Telemetry.WorkerObserver()}
	if !o.ResultsViaQueue {
		wcfg.ResultSink = o.Telemetry.ResultSink(s.Engine)
	}
	w, err := worker.New(wcfg)
	if err != nil {
		return err
	}
	s.Worker = w
	conc := o.WorkerConcurrency
	if conc <= 0 {
		conc = 16
	}
	for _, ns := range nss {
		pc := worker.PollerConfig{QueueURL: s.Provisioned.QueueURLs[s.Names.StepQueue(ns)], Concurrency: conc, WaitTime: localPollWait}
		s.goRun(func() {
			if err := w.Poll(ctx, pc); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("worker poller stopped", "namespace", ns, "error", err)
			}
		})
	}
	return nil
}

func (s *Stack) serveAPI(addr string, authn *auth.Authenticator) error {
	ui, err := dashboard.New(dashboard.Config{Engine: s.Engine, Auth: authn, Logger: s.log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("API listen on %s: %w (is another tasker dev running? use --api-addr)", addr, err)
	}
	s.APIURL = "http://" + ln.Addr().String()
	handler := api.WithDashboard(api.HTTPHandler(localrun.Handler(s.API.Handle)), ui)
	handler = s.withTelemetry(handler)
	s.httpSrv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	s.goRun(func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("API server stopped", "error", err)
		}
	})
	return nil
}

// Close stops accepting work, lets in-flight invocations and handlers finish
// (their messages are deleted or left for redelivery, so nothing is lost),
// then stops the local AWS if Start started it.
func (s *Stack) Close() error {
	var errs []error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.httpSrv.Shutdown(ctx))
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.ownsEnv && s.Env != nil {
		errs = append(errs, s.Env.Close())
	}
	return errors.Join(errs...)
}
