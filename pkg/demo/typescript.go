package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// TypeScriptNamespace is the namespace the demo serves with the TypeScript
// SDK's example worker (sdk/typescript/examples/order_confirmation.ts). The
// engine routes every step of a task to its namespace's queue, so the
// TypeScript step has a namespace of its own; the in-process Go workers do
// not poll it.
const TypeScriptNamespace = "notifications"

// typeScriptExample is the built example worker, relative to the SDK directory.
const typeScriptExample = "dist/examples/order_confirmation.js"

// SplitTemplates separates the templates of TypeScriptNamespace (rest) from
// those the in-process Go workers serve (goTpls).
func SplitTemplates(tpls []*template.Template) (goTpls, rest []*template.Template) {
	for _, t := range tpls {
		if t.Namespace == TypeScriptNamespace {
			rest = append(rest, t)
		} else {
			goTpls = append(goTpls, t)
		}
	}
	return goTpls, rest
}

// StartTypeScriptWorker registers tpls (the TypeScriptNamespace templates
// SplitTemplates set aside) on the running stack, provisions their queue and
// starts `node <sdkDir>/dist/examples/order_confirmation.js` to consume it.
// When node or the built SDK is missing, or the worker does not report
// READY, it prints why to out and serves the namespace with the Go handlers
// of reg instead, so the demo runs everywhere. The returned stop function
// stops whichever worker runs (SIGTERM for node, then a bounded wait).
func StartTypeScriptWorker(ctx context.Context, out io.Writer, st *devstack.Stack, tpls []*template.Template,
	reg *worker.Registry, sdkDir string) (stop func(), err error) {
	if len(tpls) == 0 {
		return func() {}, nil
	}
	prov, err := st.Env.Provision(ctx, st.Names, []string{TypeScriptNamespace})
	if err != nil {
		return nil, fmt.Errorf("provision %s: %w", TypeScriptNamespace, err)
	}
	for _, t := range tpls {
		if err := st.Engine.RegisterTemplate(ctx, t); err != nil {
			return nil, err
		}
	}
	stepURL := prov.QueueURLs[st.Names.StepQueue(TypeScriptNamespace)]
	resultsURL := prov.QueueURLs[st.Names.ResultsQueue()]
	stop, err = startNode(ctx, st, sdkDir, stepURL, resultsURL)
	if err == nil {
		fmt.Fprintf(out, "TypeScript worker (node %s) serves namespace %q\n", typeScriptExample, TypeScriptNamespace)
		return stop, nil
	}
	fmt.Fprintf(out, "notice: TypeScript worker not started (%v); namespace %q runs on the Go handlers instead "+
		"(run `make sdk-ts` to build the SDK)\n", err, TypeScriptNamespace)
	return startGoFallback(st, reg, stepURL, resultsURL)
}

// startNode runs the example worker and waits for its READY line.
func startNode(ctx context.Context, st *devstack.Stack, sdkDir, stepURL, resultsURL string) (func(), error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not installed")
	}
	script := filepath.Join(sdkDir, typeScriptExample)
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("%s is not built", script)
	}
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(),
		"AWS_ENDPOINT_URL="+st.Env.Endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TASKER_PREFIX="+st.Names.Prefix, "TASKER_NAMESPACE="+TypeScriptNamespace, "TASKER_STATE_TABLE="+st.Names.StateTable(),
		"TASKER_STEP_QUEUE_URL="+stepURL, "TASKER_RESULTS_QUEUE_URL="+resultsURL,
		"TASKER_WORKER_ID=demo-ts-worker", "TASKER_POLL_WAIT_SECONDS=2", "NODE_NO_WARNINGS=1")
	ready := make(chan bool, 1)
	cmd.Stdout = &readyWriter{ready: ready}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
		select { // no READY before the exit
		case ready <- false:
		default:
		}
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case ok := <-ready:
		if ok {
			return stop, nil
		}
		<-exited
		return nil, fmt.Errorf("node exited before READY: %s", strings.TrimSpace(stderr.String()))
	case <-time.After(30 * time.Second):
		stop()
		return nil, errors.New("node did not report READY within 30s")
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
}

// startGoFallback polls the namespace's queue with the Go handlers.
func startGoFallback(st *devstack.Stack, reg *worker.Registry, stepURL, resultsURL string) (func(), error) {
	w, err := worker.New(worker.Config{Store: st.Store, SQS: st.SQS, ResultsQueueURL: resultsURL, Registry: reg,
		WorkerID: "demo-go-fallback", ResultSink: st.Engine, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Poll(ctx, worker.PollerConfig{QueueURL: stepURL, WaitTime: 2 * time.Second})
	}()
	return func() { cancel(); <-done }, nil
}

// readyWriter watches node's stdout for the READY line and sends true on
// ready once; the rest of the output is dropped.
type readyWriter struct {
	ready chan<- bool
	line  []byte
	seen  bool
}

func (r *readyWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if r.seen {
			break
		}
		if b != '\n' {
			if len(r.line) < 64 {
				r.line = append(r.line, b)
			}
			continue
		}
		if strings.TrimSpace(string(r.line)) == "READY" {
			r.seen = true
			r.ready <- true
		}
		r.line = r.line[:0]
	}
	return len(p), nil
}

// limitedWriter keeps the first n bytes written to it (the start of node's
// stderr, for the notice) and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
