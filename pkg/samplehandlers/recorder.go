package samplehandlers

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Run is one recorded handler invocation.
type Run struct {
	TaskUUID string
	// Step is the step's name, e.g. "diamond_branch_b" or "process_batch_003".
	Step string
	// Handler is the callable the step ran, e.g. "math.square_parents_product".
	Handler string
	Attempt int
	// Start and End bracket the invocation, including Options.Delay.
	Start, End time.Time
	// Err is the error the handler returned; empty when the attempt succeeded.
	Err string
}

// Overlaps reports whether run and other were executing at the same time:
// each started before the other ended.
func (run Run) Overlaps(other Run) bool {
	return run.Start.Before(other.End) && other.Start.Before(run.End)
}

// Recorder records every invocation of the handlers registered with it (see
// Options.Recorder), so tests can count attempts and check that parallel
// branches overlapped. Its zero value is ready to use and it is safe for
// concurrent use; share one Recorder between workers of the same process.
type Recorder struct {
	// Now is the clock for start and end times; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	runs []Run
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Recorder) add(run Run) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, run)
}

// Runs returns every recorded invocation, ordered by start time (then task,
// step and attempt).
func (r *Recorder) Runs() []Run {
	r.mu.Lock()
	runs := slices.Clone(r.runs)
	r.mu.Unlock()
	slices.SortStableFunc(runs, func(a, b Run) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.TaskUUID, b.TaskUUID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Step, b.Step); c != 0 {
			return c
		}
		return a.Attempt - b.Attempt
	})
	return runs
}

// TaskRuns returns the invocations for one task, ordered like Runs.
func (r *Recorder) TaskRuns(taskUUID string) []Run {
	return r.filter(func(run Run) bool { return run.TaskUUID == taskUUID })
}

// StepRuns returns the invocations of one step of one task (one per attempt
// that reached the handler), ordered like Runs.
func (r *Recorder) StepRuns(taskUUID, step string) []Run {
	return r.filter(func(run Run) bool { return run.TaskUUID == taskUUID && run.Step == step })
}

// Reset forgets every recorded invocation.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = nil
}

func (r *Recorder) filter(keep func(Run) bool) []Run {
	var out []Run
	for _, run := range r.Runs() {
		if keep(run) {
			out = append(out, run)
		}
	}
	return out
}
