// Package bench measures Tasker on the embedded local AWS: end-to-end latency
// of single order-fulfillment tasks (submit over HTTP until the engine's
// completion notification) and where it goes hop by hop, steps per second at
// 8 and 32 concurrent tasks, AWS requests per step by operation (counted with
// SDK middleware) and DynamoDB request units per step (priced from the sizes
// of the items each request touches, since the emulator reports no consumed
// capacity). It backs `make bench`, which writes the report to
// .bench/report.json.
package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/resources"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// Options sizes a run.
type Options struct {
	TemplatePath string // the order fulfillment template
	Warmup       int    // tasks run before measuring (default 20)
	Single       int    // sequential tasks for latency (default 200)
	PerWorker    int    // tasks per concurrent submitter in throughput runs (default 25)
	BatchSizes   []int  // batch tasks to run, by worker count (default 98, 998, 9998: 100, 1,000, 10,000 steps)
	Endpoint     string // benchmark a running AWS endpoint (e.g. LocalStack) instead of the embedded emulator
	CPUProfile   string // when set, write a CPU profile of the single-task phase to this file
	C32Profile   string // when set, write a CPU profile of the 32-concurrent-task phase to this file
	// GCPercent is the Go GC target of the benchmark process (debug.SetGCPercent);
	// 0 leaves the runtime's setting (GOGC) alone. The embedded emulator keeps
	// every item it ever stored in this process's heap, so with the default
	// target the collector spends its time rescanning the emulator's data,
	// a cost no AWS client pays.
	GCPercent int
	Out       io.Writer
}

// Report is what `make bench` prints and writes as JSON.
type Report struct {
	Machine          map[string]string  `json:"machine"`
	Backend          string             `json:"backend"`
	Tasks            int                `json:"single_tasks"`
	StepsPerTask     int                `json:"steps_per_task"`
	OrderP50ms       float64            `json:"order_p50_ms"`
	OrderP95ms       float64            `json:"order_p95_ms"`
	OrderP99ms       float64            `json:"order_p99_ms"`
	StepsPerSecC8    float64            `json:"steps_per_s_c8"`
	StepsPerSecC32   float64            `json:"steps_per_s_c32"`
	TaskP99msC32     float64            `json:"task_p99_ms_c32"`
	RequestsPerStep  map[string]float64 `json:"aws_requests_per_step"`
	RequestsTotalPer float64            `json:"aws_requests_per_step_total"`
	Fanout20P50ms    float64            `json:"fanout20_p50_ms"`
	Chain4P50ms      float64            `json:"chain4_p50_ms"`
	// Batches maps a batch task's step count to its time and requests.
	Batches        map[string]BatchRun `json:"batches"`
	Batch10000Secs float64             `json:"batch_10000_seconds"`
	USDPerMillion  float64             `json:"usd_per_million_steps"`
	Cost           CostModel           `json:"cost_model"`
	// Units is DynamoDB capacity per step of the order workflow, measured
	// from item sizes over a separate 8-task run (the measuring reads slow
	// requests, so the timed runs go without it).
	Units *Units `json:"dynamodb_units"`
	// BatchUnits is the same for the smallest batch task.
	BatchUnits *Units `json:"dynamodb_units_batch,omitempty"`
	// Hops is where the single-task phase's time goes, hop by hop.
	Hops        []Hop     `json:"step_hops"`
	CPUProfile  string    `json:"cpu_profile,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
}

// BatchRun is one batch task: a batchable step, N no-op workers, a convergence.
type BatchRun struct {
	Steps           int     `json:"steps"`
	Seconds         float64 `json:"seconds"`
	Requests        int     `json:"aws_requests"`
	RequestsPerStep float64 `json:"aws_requests_per_step"`
}

// counter counts AWS requests by service and operation.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("tasker-bench-count",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			key := middleware.GetServiceID(ctx) + "." + middleware.GetOperationName(ctx)
			c.mu.Lock()
			c.m[key]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Run starts a local stack with no-op handlers and measures it.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Warmup == 0 {
		o.Warmup = 20
	}
	if o.Single == 0 {
		o.Single = 200
	}
	if o.PerWorker == 0 {
		o.PerWorker = 25
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.GCPercent > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(o.GCPercent))
	}
	if o.BatchSizes == nil {
		o.BatchSizes = []int{98, 998, 9998}
	}
	tpl, err := template.ParseFile(o.TemplatePath)
	if err != nil {
		return nil, err
	}
	env, err := localstack.Start(ctx, localstack.Options{Addr: "127.0.0.1:0", Endpoint: o.Endpoint, Quiet: true})
	if err != nil {
		return nil, err
	}
	defer env.Close()
	cnt := &counter{m: map[string]int{}}
	names := resources.Names{Prefix: "bench"}
	units := newMeter(env.DynamoDB, resources.StateTable(names).GSIs)
	opts := env.ClientOptions
	opts.APIOptions = append(append([]func(*middleware.Stack) error(nil), opts.APIOptions...), cnt.middleware, units.middleware)
	cfg, err := awsconn.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	reg := worker.NewRegistry()
	reg.RegisterFunc("bench.split", splitHandler)
	tpls := []*template.Template{tpl}
	for _, y := range shapesYAML() {
		st, err := template.Parse([]byte(y), "bench")
		if err != nil {
			return nil, err
		}
		tpls = append(tpls, st)
	}
	tr := newHopTracer()
	noop := func(_ context.Context, s *worker.Step) (res worker.Result, err error) {
		tr.handler(s.TaskUUID, s.Name, func() { res, err = worker.Success(map[string]bool{"ok": true}) })
		return res, err
	}
	reg.RegisterFunc("noop", noop)
	for _, s := range tpl.Steps {
		if _, ok := reg.Lookup(s.Handler); !ok {
			reg.RegisterFunc(s.Handler, noop)
		}
	}
	w := engine.NewTaskWaiter()
	notify := func(ev engine.Event) { tr.notify(ev); w.Notify(ev) }
	st, err := devstack.Start(ctx, devstack.Options{Env: env, Prefix: names.Prefix, Templates: tpls, Registry: reg, EngineConfig: engine.Config{MaxBatchWorkers: 20000},
		APIAddr: "127.0.0.1:0", Notify: notify, WorkerConcurrency: 64, Pollers: 4,
		DynamoDB: awsconn.DynamoDB(cfg, opts), SQS: awsconn.SQS(cfg, opts),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cl := client.New(st.APIURL)
	var seq atomic.Int64
	submit := func(ctx context.Context, ns, name, version string, body []byte) (time.Duration, error) {
		start := time.Now()
		t, err := cl.CreateTask(ctx, engine.TaskRequest{Namespace: ns, Name: name, Version: version, Context: body,
			IdempotencyKey: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), seq.Add(1))})
		if err != nil {
			return 0, err
		}
		tr.submitted(t.TaskUUID, start)
		state, err := w.Wait(ctx, t.TaskUUID)
		if err != nil {
			return 0, err
		}
		if state != "complete" {
			return 0, fmt.Errorf("task %s ended %s", t.TaskUUID, state)
		}
		return time.Since(start), nil
	}
	runTask := func(ctx context.Context) (time.Duration, error) {
		body, _ := json.Marshal(map[string]any{"order_id": fmt.Sprintf("BENCH-%d", seq.Add(1)), "customer_id": "C-1",
			"items": []any{map[string]any{"sku": "A", "quantity": 1}}, "amount": 10})
		return submit(ctx, tpl.Namespace, tpl.Name, tpl.Version, body)
	}
	rep := &Report{Machine: machine(o.GCPercent), StepsPerTask: len(tpl.Steps), GeneratedAt: time.Now().UTC(), Tasks: o.Single,
		Backend: "embedded kumo"}
	if o.Endpoint != "" {
		rep.Backend = o.Endpoint
	}
	fmt.Fprintf(o.Out, "warming up (%d tasks)…\n", o.Warmup)
	for range o.Warmup {
		if _, err := runTask(ctx); err != nil {
			return nil, err
		}
	}
	// The batch tasks run first, on a table that holds only the warm-up:
	// the embedded emulator keeps every item in this process (in the heap
	// the collector walks, in tables its Queries walk whole), so a batch run
	// after the thousands of tasks of the other phases would take longer for
	// the emulator's sake, not Tasker's.
	rep.Batches = map[string]BatchRun{}
	if err := runBatches(ctx, o, rep, submit, cnt); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "single-task latency (%d sequential %s tasks, %d steps each)…\n", o.Single, tpl.Name, len(tpl.Steps))
	lat, err := singleTasks(ctx, o, tr, runTask)
	if err != nil {
		return nil, err
	}
	rep.OrderP50ms, rep.OrderP95ms, rep.OrderP99ms = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	if err := tr.readClaims(ctx, env.DynamoDB, names.StateTable()); err != nil {
		return nil, err
	}
	rep.Hops, rep.CPUProfile = tr.hops(tpl), o.CPUProfile
	before := cnt.snapshot()
	sps8, _, err := throughput(ctx, 8, o.PerWorker, len(tpl.Steps), runTask)
	if err != nil {
		return nil, err
	}
	after := cnt.snapshot()
	steps := float64(8 * o.PerWorker * len(tpl.Steps))
	rep.RequestsPerStep = map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			rep.RequestsPerStep[k] = round2(float64(d) / steps)
			rep.RequestsTotalPer += float64(d) / steps
		}
	}
	rep.RequestsTotalPer = round2(rep.RequestsTotalPer)
	rep.StepsPerSecC8 = round2(sps8)
	fmt.Fprintf(o.Out, "throughput at 32 concurrent tasks…\n")
	stop, err := startProfile(o.C32Profile)
	if err != nil {
		return nil, err
	}
	sps32, p99, err := throughput(ctx, 32, o.PerWorker, len(tpl.Steps), runTask)
	stop()
	if err != nil {
		return nil, err
	}
	rep.StepsPerSecC32, rep.TaskP99msC32 = round2(sps32), p99
	fmt.Fprintf(o.Out, "DynamoDB units from item sizes (8 concurrent tasks, measured)…\n")
	u, err := metered(units, 8*o.PerWorker*len(tpl.Steps), func() error {
		_, _, err := throughput(ctx, 8, o.PerWorker, len(tpl.Steps), runTask)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Units = &u
	rep.Cost = costModel(rep.RequestsPerStep, rep.Units, rep.OrderP50ms/float64(len(tpl.Steps)), 1/float64(len(tpl.Steps)))
	rep.USDPerMillion = rep.Cost.TotalUSDPerMillion
	if err := runShapes(ctx, o, rep, submit, cnt); err != nil {
		return nil, err
	}
	if len(o.BatchSizes) > 0 {
		workers := o.BatchSizes[0]
		for _, n := range o.BatchSizes {
			workers = min(workers, n)
		}
		fmt.Fprintf(o.Out, "DynamoDB units of a batch task with %d workers (measured)…\n", workers)
		bu, err := metered(units, workers+2, func() error {
			_, err := submit(ctx, "bench_shapes", "batch", "1.0.0", []byte(fmt.Sprintf(`{"workers": %d, "run": %d}`, workers, time.Now().UnixNano())))
			return err
		})
		if err != nil {
			return nil, err
		}
		rep.BatchUnits = &bu
	}
	return rep, nil
}

// startProfile starts the CPU profiler writing to path ("" does nothing) and
// returns the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// singleTasks runs the latency phase with the hop tracer on and, when asked,
// the CPU profiler.
func singleTasks(ctx context.Context, o Options, tr *hopTracer, runTask func(context.Context) (time.Duration, error)) ([]time.Duration, error) {
	stop, err := startProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	defer stop()
	tr.setOn(true)
	defer tr.setOn(false)
	lat := make([]time.Duration, 0, o.Single)
	for range o.Single {
		d, err := runTask(ctx)
		if err != nil {
			return nil, err
		}
		lat = append(lat, d)
	}
	return lat, nil
}

// metered runs fn with the unit meter on and returns its units per step.
func metered(m *meter, steps int, fn func() error) (Units, error) {
	m.reset()
	m.on.Store(true)
	err := fn()
	m.on.Store(false)
	if err != nil {
		return Units{}, err
	}
	return m.snapshot().perStep(steps), nil
}

// shapesYAML are the extra workloads: a 4-step chain, a 1→20→1 fan-out and
// a batch whose size comes from the context.
func shapesYAML() []string {
	fan := "namespace: bench_shapes\nname: fanout20\nversion: \"1.0.0\"\nsteps:\n  - {name: start, handler: noop}\n"
	deps := ""
	for i := range 20 {
		fan += fmt.Sprintf("  - {name: leaf%02d, handler: noop, dependencies: [start]}\n", i)
		if i > 0 {
			deps += ", "
		}
		deps += fmt.Sprintf("leaf%02d", i)
	}
	fan += "  - {name: end, handler: noop, dependencies: [" + deps + "]}\n"
	chain := "namespace: bench_shapes\nname: chain4\nversion: \"1.0.0\"\nsteps:\n  - {name: s1, handler: noop}\n" +
		"  - {name: s2, handler: noop, dependencies: [s1]}\n  - {name: s3, handler: noop, dependencies: [s2]}\n" +
		"  - {name: s4, handler: noop, dependencies: [s3]}\n"
	batch := "namespace: bench_shapes\nname: batch\nversion: \"1.0.0\"\nsteps:\n  - {name: split, type: batchable, handler: bench.split}\n" +
		"  - {name: work, type: batch_worker, handler: noop, dependencies: [split], batch_config: {worker_template: work}}\n" +
		"  - {name: agg, type: deferred_convergence, handler: noop, dependencies: [work]}\n"
	return []string{chain, fan, batch}
}

type submitFunc func(ctx context.Context, ns, name, version string, body []byte) (time.Duration, error)

func runShapes(ctx context.Context, o Options, rep *Report, submit submitFunc, cnt *counter) error {
	p50 := func(name string, n int) (float64, error) {
		var lat []time.Duration
		for range n {
			d, err := submit(ctx, "bench_shapes", name, "1.0.0", []byte(`{}`))
			if err != nil {
				return 0, err
			}
			lat = append(lat, d)
		}
		return pct(lat, 50), nil
	}
	fmt.Fprintf(o.Out, "4-step chain and 1→20→1 fan-out…\n")
	var err error
	if rep.Chain4P50ms, err = p50("chain4", 50); err != nil {
		return err
	}
	if rep.Fanout20P50ms, err = p50("fanout20", 30); err != nil {
		return err
	}
	return nil
}

// runBatches runs one batch task of each size, with its time and requests.
func runBatches(ctx context.Context, o Options, rep *Report, submit submitFunc, cnt *counter) error {
	for _, workers := range o.BatchSizes {
		fmt.Fprintf(o.Out, "batch task with %d workers…\n", workers)
		before := total(cnt.snapshot())
		d, err := submit(ctx, "bench_shapes", "batch", "1.0.0", []byte(fmt.Sprintf(`{"workers": %d, "run": %d}`, workers, time.Now().UnixNano())))
		if err != nil {
			return err
		}
		steps := workers + 2
		req := total(cnt.snapshot()) - before
		rep.Batches[fmt.Sprint(steps)] = BatchRun{Steps: steps, Seconds: round2(d.Seconds()), Requests: req,
			RequestsPerStep: round2(float64(req) / float64(steps))}
		if steps == 10000 {
			rep.Batch10000Secs = round2(d.Seconds())
		}
	}
	return nil
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// splitHandler is the batchable step of the batch workload.
func splitHandler(_ context.Context, s *worker.Step) (worker.Result, error) {
	var c struct{ Workers int }
	if err := s.DecodeContext(&c); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	return worker.Batches("work", int64(c.Workers), worker.RangeCursors(int64(c.Workers), 1, c.Workers)...)
}

func throughput(ctx context.Context, conc, per, stepsPerTask int, run func(context.Context) (time.Duration, error)) (float64, float64, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  []time.Duration
		ferr error
	)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				d, err := run(ctx)
				mu.Lock()
				if err != nil && ferr == nil {
					ferr = err
				}
				lat = append(lat, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if ferr != nil {
		return 0, 0, ferr
	}
	el := time.Since(start).Seconds()
	return float64(conc*per*stepsPerTask) / el, pct(lat, 99), nil
}

func pct(d []time.Duration, p int) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return round2(float64(s[i].Microseconds()) / 1000)
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func machine(gcPercent int) map[string]string {
	m := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(),
		"cpus": fmt.Sprint(runtime.NumCPU()), "gogc": os.Getenv("GOGC")}
	if gcPercent > 0 {
		m["gogc"] = fmt.Sprint(gcPercent)
	} else if m["gogc"] == "" {
		m["gogc"] = "100"
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if host, err := os.Hostname(); err == nil {
		m["host"] = host
	}
	return m
}

// Print writes the report as a table.
func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "\nTasker benchmark — %s, %s cpus, %s, GOGC %s\n", r.Machine["cpu"], r.Machine["cpus"], r.Machine["go"], r.Machine["gogc"])
	fmt.Fprintf(w, "order fulfillment (%d steps, no-op handlers), single task, %d runs:\n", r.StepsPerTask, r.Tasks)
	fmt.Fprintf(w, "  p50 %.2f ms   p95 %.2f ms   p99 %.2f ms\n", r.OrderP50ms, r.OrderP95ms, r.OrderP99ms)
	fmt.Fprintf(w, "throughput: %.0f steps/s at 8 concurrent tasks, %.0f steps/s at 32 (task p99 %.2f ms)\n", r.StepsPerSecC8, r.StepsPerSecC32, r.TaskP99msC32)
	fmt.Fprintf(w, "AWS requests per step (%.2f total):\n", r.RequestsTotalPer)
	keys := make([]string, 0, len(r.RequestsPerStep))
	for k := range r.RequestsPerStep {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-40s %.2f\n", k, r.RequestsPerStep[k])
	}
	c := r.Cost
	fmt.Fprintf(w, "from request counts (assuming items < 1 KB): %.2f DynamoDB write units, %.2f read units per step\n", c.CountWriteUnits, c.CountReadUnits)
	if r.Units != nil {
		printUnits(w, "order workflow", *r.Units)
	}
	fmt.Fprintf(w, "per step: %.2f SQS requests, %.2f DynamoDB write units, %.2f read units (measured: %v; with each task's first check, modeled: %.2f SQS requests, %.2f read units)\n",
		c.SQSRequestsPerStep, c.WriteUnitsPerStep, c.ReadUnitsPerStep, c.Measured, c.FirstCheckSQSPerStep, c.FirstCheckReadUnitsPerStep)
	fmt.Fprintf(w, "cost: $%.2f per million steps (SQS %.2f, DynamoDB %.2f, Lambda %.2f); Step Functions Standard: $%.0f per million transitions\n",
		c.TotalUSDPerMillion, c.SQSUSDPerMillion, c.DynamoUSDPerMillion, c.LambdaUSDPerMillion, c.StepFunctionsStandard)
	fmt.Fprintf(w, "4-step chain p50 %.2f ms; 1→20→1 fan-out p50 %.2f ms\n", r.Chain4P50ms, r.Fanout20P50ms)
	sizes := make([]string, 0, len(r.Batches))
	for k := range r.Batches {
		sizes = append(sizes, k)
	}
	sort.Slice(sizes, func(i, j int) bool { return r.Batches[sizes[i]].Steps < r.Batches[sizes[j]].Steps })
	var prev *BatchRun
	for _, k := range sizes {
		b := r.Batches[k]
		line := fmt.Sprintf("batch task, %6d steps: %7.2f s, %7d AWS requests (%.2f per step)", b.Steps, b.Seconds, b.Requests, b.RequestsPerStep)
		if prev != nil {
			line += fmt.Sprintf("; vs %d steps: %.2f× requests, %.2f× time", prev.Steps, float64(b.Requests)/float64(prev.Requests), b.Seconds/prev.Seconds)
		}
		fmt.Fprintln(w, line)
		bb := b
		prev = &bb
	}
	if r.BatchUnits != nil {
		printUnits(w, "batch task", *r.BatchUnits)
	}
	printHops(w, r.Hops)
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "CPU profile of the single-task phase: %s (go tool pprof -top %s)\n", r.CPUProfile, r.CPUProfile)
	}
}
