package samplehandlers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// templateHandlers returns the handler callables the templates under dir
// name, sorted and without repeats.
func templateHandlers(t *testing.T, dir string) []string {
	t.Helper()
	tpls, err := template.LoadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, tpls)
	var names []string
	for _, tpl := range tpls {
		for _, s := range tpl.Steps {
			require.NotEmptyf(t, s.Handler, "%s step %s has no handler", tpl.Key(), s.Name)
			names = append(names, s.Handler)
			if s.Compensation != nil {
				names = append(names, s.Compensation.Handler)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestRegisterCoversEveryTemplate checks that Register adds a handler for
// every step (and compensation) of every template under templates/, and nothing the templates
// do not use.
func TestRegisterCoversEveryTemplate(t *testing.T) {
	t.Parallel()
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	want := templateHandlers(t, "../../templates")
	for _, name := range want {
		_, ok := reg.Lookup(name)
		require.Truef(t, ok, "no handler registered for %q", name)
	}
	require.Equal(t, want, reg.Names(), "Register adds exactly the templates' handlers")

	// ParseFile, one file at a time, agrees with LoadDir.
	for _, path := range []string{
		"fulfillment/order_fulfillment.yaml", "payments/payment_processing.yaml", "etl/customer_etl.yaml",
		"user_onboarding/user_registration.yaml", "scheduled_jobs/daily_reporting.yaml", "approvals/conditional_approval.yaml",
	} {
		tpl, err := template.ParseFile("../../templates/" + path)
		require.NoError(t, err)
		for _, s := range tpl.Steps {
			_, ok := reg.Lookup(s.Handler)
			require.Truef(t, ok, "%s: no handler for step %s (%q)", path, s.Name, s.Handler)
		}
	}
}

// TestRegisterAcceptanceCoversAcceptanceTemplates checks RegisterAcceptance
// adds exactly the handlers of templates/acceptance.
func TestRegisterAcceptanceCoversAcceptanceTemplates(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	require.Equal(t, templateHandlers(t, "../../templates/acceptance"), reg.Names())
	for _, name := range reg.Names() {
		prefix, _, _ := strings.Cut(name, ".")
		require.Contains(t, []string{"math", "approval", "batch", "faults"}, prefix)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	t.Parallel()
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	require.Panics(t, func() { samplehandlers.RegisterAcceptance(reg) }, "names are registered once")
}

// TestRecorderRecordsRunsAndOverlap runs two branches concurrently with a
// delay and checks the recorder saw both, overlapping, and the failures.
func TestRecorderRecordsRunsAndOverlap(t *testing.T) {
	t.Parallel()
	rec := &samplehandlers.Recorder{}
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptanceWith(reg, samplehandlers.Options{Recorder: rec, Delay: 50 * time.Millisecond})

	h, _ := reg.Lookup("math.square_parents_product")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, name := range []string{"diamond_branch_b", "diamond_branch_c"} {
		s := stepSpec{Name: name, Parents: map[string]string{"diamond_start": `{"result": 36}`}}.step("math.square_parents_product")
		wg.Go(func() { _, errs[i] = h.Handle(context.Background(), s) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for attempt := 1; attempt <= 3; attempt++ {
		_, _ = call(t, reg, "faults.fail_n_times", stepSpec{Name: "fail_twice_then_succeed", Attempt: attempt, Config: `{"fail_count": 2}`})
	}

	runs := rec.TaskRuns("task-0001")
	require.Len(t, runs, 5)
	require.Equal(t, runs, rec.Runs())
	b := rec.StepRuns("task-0001", "diamond_branch_b")
	c := rec.StepRuns("task-0001", "diamond_branch_c")
	require.Len(t, b, 1)
	require.Len(t, c, 1)
	require.True(t, b[0].Overlaps(c[0]), "branches b and c ran in parallel: %+v %+v", b[0], c[0])
	require.Equal(t, "math.square_parents_product", b[0].Handler)
	require.GreaterOrEqual(t, b[0].End.Sub(b[0].Start), 50*time.Millisecond, "the delay is inside the window")
	require.Empty(t, b[0].Err)

	retries := rec.StepRuns("task-0001", "fail_twice_then_succeed")
	require.Len(t, retries, 3)
	for i, run := range retries {
		require.Equal(t, i+1, run.Attempt)
		require.False(t, run.Overlaps(b[0]), "sequential runs do not overlap")
	}
	require.NotEmpty(t, retries[0].Err)
	require.NotEmpty(t, retries[1].Err)
	require.Empty(t, retries[2].Err)

	require.Empty(t, rec.TaskRuns("other-task"))
	rec.Reset()
	require.Empty(t, rec.Runs())
}

func TestRecorderUsesItsClock(t *testing.T) {
	t.Parallel()
	tick := fixedNow
	rec := &samplehandlers.Recorder{Now: func() time.Time { tick = tick.Add(time.Second); return tick }}
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptanceWith(reg, samplehandlers.Options{Recorder: rec})
	mustCall(t, reg, "approval.approve", stepSpec{Name: "auto_approve"})
	runs := rec.Runs()
	require.Len(t, runs, 1)
	require.Equal(t, fixedNow.Add(time.Second), runs[0].Start)
	require.Equal(t, fixedNow.Add(2*time.Second), runs[0].End)
}

func TestDelayStopsWithTheContext(t *testing.T) {
	t.Parallel()
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptanceWith(reg, samplehandlers.Options{Delay: time.Hour})
	h, _ := reg.Lookup("approval.approve")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.Handle(ctx, stepSpec{Name: "auto_approve"}.step("approval.approve"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var we *worker.Error
	require.False(t, errors.As(err, &we), "the worker classifies a deadline itself (retryable timeout)")
}
