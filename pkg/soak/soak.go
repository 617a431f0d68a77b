package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// Options configures a soak run.
type Options struct {
	// Env is the local AWS (required); EmulatorPID, when set, is sampled too.
	Env         *localstack.Env
	EmulatorPID int
	// Prefix names the run's table and queues (required).
	Prefix string
	// Templates must include the acceptance linear and diamond templates.
	Templates []*template.Template
	// Duration bounds the run (default 4 min); Window is the sampling
	// interval (default 15 s).
	Duration, Window time.Duration
	// MaxTasks stops submitting after this many tasks (0: no limit).
	MaxTasks int
	// Concurrency is the number of submitters, each waiting for its task
	// to finish before the next (default 8).
	Concurrency int
	// Warmup is the number of windows before the baseline window (default 1).
	Warmup    int
	Tolerance Tolerance
	Logger    *slog.Logger
}

// Report is a run's samples and verdict.
type Report struct {
	Samples   []Sample
	Baseline  int // index in Samples
	Tasks     int
	Errors    int
	Failures  []string
	Tolerance Tolerance
}

// taskTimeout bounds the wait for one task; a task that takes longer counts
// as an error.
const taskTimeout = time.Minute

// Run starts the system on o.Env, submits tasks over the HTTP API until
// o.Duration passes (or o.MaxTasks were submitted), samples every window and
// checks the last window against the baseline. It returns an error when the
// run cannot start or yields too few windows; growth beyond the tolerance is
// in Report.Failures.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = withDefaults(o)
	w := engine.NewTaskWaiter()
	st, err := devstack.Start(ctx, devstack.Options{Env: o.Env, Prefix: o.Prefix, Templates: o.Templates,
		Registry: registry(), APIAddr: "127.0.0.1:0", Notify: w.Notify, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	defer func() { _ = st.Close() }()
	api := client.New(st.APIURL)

	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	lat := &latencies{}
	var submitted, seq atomic.Int64
	var wg sync.WaitGroup
	for i := range o.Concurrency {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for runCtx.Err() == nil {
				if o.MaxTasks > 0 && submitted.Add(1) > int64(o.MaxTasks) {
					return
				}
				d, err := runTask(runCtx, api, w, r, seq.Add(1))
				lat.add(d, err, runCtx.Err() != nil)
			}
		})
	}
	rep := &Report{Baseline: o.Warmup, Tolerance: o.Tolerance}
	start := time.Now()
	var prevEnd time.Duration
	emu := strconv.Itoa(o.EmulatorPID)
	prevCPU, prevEmuCPU := cpuTime("self"), cpuTime(emu)
	tick := time.NewTicker(o.Window)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-runCtx.Done():
			done = true
		case <-tick.C:
		}
		s := lat.take()
		s.Window, s.End = len(rep.Samples)+1, time.Since(start).Round(time.Second)
		if done && s.End-prevEnd < o.Window*3/4 {
			break // a short tail: not a full window
		}
		prevEnd = s.End
		measure(&s, o.EmulatorPID)
		cpu, emuCPU := cpuTime("self"), cpuTime(emu)
		if s.Tasks > 0 {
			s.CPUPerTask, s.EmulatorCPUPerTask = (cpu-prevCPU)/time.Duration(s.Tasks), (emuCPU-prevEmuCPU)/time.Duration(s.Tasks)
		}
		prevCPU, prevEmuCPU = cpu, emuCPU
		rep.Samples = append(rep.Samples, s)
		rep.Tasks += s.Tasks
		rep.Errors += s.Errors
	}
	wg.Wait()
	if len(rep.Samples) < o.Warmup+2 {
		return rep, fmt.Errorf("only %d windows: need at least %d (warmup, baseline, one more)", len(rep.Samples), o.Warmup+2)
	}
	rep.Failures = check(rep.Samples[o.Warmup], rep.Samples[len(rep.Samples)-1], o.Tolerance)
	if rep.Errors > 0 {
		rep.Failures = append(rep.Failures, fmt.Sprintf("%d tasks failed or timed out; the first: %v", rep.Errors, lat.first))
	}
	return rep, nil
}

func withDefaults(o Options) Options {
	if o.Duration <= 0 {
		o.Duration = 4 * time.Minute
	}
	if o.Window <= 0 {
		o.Window = 15 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Warmup <= 0 {
		o.Warmup = 1
	}
	if o.Tolerance == (Tolerance{}) {
		o.Tolerance = DefaultTolerance
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func registry() *worker.Registry {
	r := worker.NewRegistry()
	samplehandlers.RegisterAcceptance(r)
	return r
}

// runTask creates one linear or diamond task over the API and waits for it
// to complete; it returns the submit-to-complete latency. seq makes the
// context unique (identical requests are deduplicated).
func runTask(ctx context.Context, api *client.Client, w *engine.TaskWaiter, r *rand.Rand, seq int64) (time.Duration, error) {
	req := engine.TaskRequest{Namespace: "acceptance_linear", Name: "mathematical_sequence"}
	if r.IntN(2) == 0 {
		req = engine.TaskRequest{Namespace: "acceptance_diamond", Name: "diamond_pattern"}
	}
	req.Context, _ = json.Marshal(map[string]int64{"even_number": 2 + 2*int64(r.IntN(10)), "soak_seq": seq})
	start := time.Now()
	t, err := api.CreateTask(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("create task: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, taskTimeout)
	defer cancel()
	state, err := w.Wait(waitCtx, t.TaskUUID)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return 0, fmt.Errorf("task %s did not finish within %s", t.TaskUUID, taskTimeout)
	}
	if err != nil {
		return 0, err
	}
	if state != string(statemachine.TaskComplete) {
		return 0, fmt.Errorf("task %s ended %s", t.TaskUUID, state)
	}
	return time.Since(start), nil
}

// latencies collects the current window's task latencies.
type latencies struct {
	mu     sync.Mutex
	d      []time.Duration
	errors int
	first  error // the run's first task error
}

// add records one task; an error caused by the run's end is not counted.
func (l *latencies) add(d time.Duration, err error, ending bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.d = append(l.d, d)
	case !ending:
		l.errors++
		if l.first == nil {
			l.first = err
		}
	}
}

// take returns the window's sample (tasks, errors, percentiles) and starts
// the next window.
func (l *latencies) take() Sample {
	l.mu.Lock()
	d, errs := l.d, l.errors
	l.d, l.errors = nil, 0
	l.mu.Unlock()
	s := Sample{Tasks: len(d), Errors: errs}
	percentiles(&s, d)
	return s
}

// Print writes the samples as a table and the verdict.
func Print(out io.Writer, r *Report) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "window\tend\ttasks\terrors\tp50\tp95\tp99\theap MiB\tRSS MiB\tgoroutines\tfds\tCPU/task\temulator RSS MiB\temulator CPU/task\t")
	for i, s := range r.Samples {
		mark := ""
		if i == r.Baseline {
			mark = " (baseline)"
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%d\t%d\t%s\t%s\t%s\t%.1f\t%.1f\t%d\t%d\t%s\t%.1f\t%s\t\n", s.Window, mark, s.End, s.Tasks, s.Errors,
			ms(s.P50), ms(s.P95), ms(s.P99), s.HeapMiB, s.RSSMiB, s.Goroutines, s.FDs, s.CPUPerTask.Round(10*time.Microsecond),
			s.EmulatorRSSMiB, s.EmulatorCPUPerTask.Round(10*time.Microsecond))
	}
	_ = tw.Flush()
	if len(r.Failures) == 0 {
		fmt.Fprintf(out, "soak: %d tasks, %d windows, within tolerance\n", r.Tasks, len(r.Samples))
		return
	}
	fmt.Fprintf(out, "soak: %d tasks, %d windows, %d failures:\n", r.Tasks, len(r.Samples), len(r.Failures))
	for _, f := range r.Failures {
		fmt.Fprintln(out, "  -", f)
	}
}
