package soak_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/chaos"
	"github.com/tasker-go/tasker/pkg/soak"
	"github.com/tasker-go/tasker/pkg/template"
)

var (
	long        = flag.Bool("soak.long", false, "run TestSoakLong (make soak)")
	duration    = flag.Duration("soak.duration", 4*time.Minute, "how long TestSoakLong loads the system")
	window      = flag.Duration("soak.window", 15*time.Second, "sampling window of TestSoakLong")
	maxTasks    = flag.Int("soak.tasks", 0, "stop submitting after this many tasks (0: no limit)")
	concurrency = flag.Int("soak.concurrency", 8, "concurrent submitters of TestSoakLong")
)

func TestMain(m *testing.M) {
	chaos.ServeEmulatorIfChild()
	flag.Parse()
	os.Exit(m.Run())
}

// run starts the emulator in a child process and soaks the system on it.
func run(t *testing.T, o soak.Options) *soak.Report {
	t.Helper()
	ctx := context.Background()
	em, err := chaos.StartEmulator(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Stop() })
	env, err := localstack.Start(ctx, localstack.Options{Endpoint: em.Endpoint, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	tpls, err := template.LoadDir("../../templates/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	o.Env, o.EmulatorPID, o.Templates = env, em.PID(), tpls
	o.Prefix = fmt.Sprintf("soak-%d", time.Now().UnixNano()%1000000)
	rep, err := soak.Run(ctx, o)
	if rep != nil {
		var b strings.Builder
		soak.Print(&b, rep)
		fmt.Print(b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSoakSmoke runs the soak machinery for a few seconds: every window must
// have finished tasks without errors. Growth is not judged on so short a run.
func TestSoakSmoke(t *testing.T) {
	t.Parallel()
	rep := run(t, soak.Options{Duration: 6 * time.Second, Window: 2 * time.Second, Concurrency: 4})
	if rep.Errors > 0 {
		t.Errorf("%d tasks failed", rep.Errors)
	}
	for _, s := range rep.Samples {
		if s.Tasks == 0 || s.HeapMiB == 0 || s.RSSMiB == 0 || s.Goroutines == 0 || s.FDs == 0 || s.EmulatorRSSMiB == 0 || s.CPUPerTask == 0 || s.EmulatorCPUPerTask == 0 {
			t.Errorf("window %d has an empty figure: %+v", s.Window, s)
		}
	}
}

// TestSoakLong is make soak: minutes of load, failing on growth or drift
// beyond soak.DefaultTolerance.
func TestSoakLong(t *testing.T) {
	if !*long {
		t.Skip("long soak run: use -soak.long (make soak)")
	}
	rep := run(t, soak.Options{Duration: *duration, Window: *window, MaxTasks: *maxTasks, Concurrency: *concurrency})
	for _, f := range rep.Failures {
		t.Error(f)
	}
}
