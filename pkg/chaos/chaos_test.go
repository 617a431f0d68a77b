package chaos_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/chaos"
	"github.com/tasker-go/tasker/pkg/template"
)

var (
	long = flag.Bool("chaos.long", false, "run TestChaosLong (also CHAOS_LONG=1)")
	seed = flag.Uint64("chaos.seed", 0, "seed of the chaos runs (0: the tests' fixed seeds)")
)

var runSeq atomic.Int64

// run runs the harness and fails t on any violation.
func run(t *testing.T, cfg chaos.Config) {
	t.Helper()
	tpls, err := template.LoadDir("../../templates/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	cfg.Env = localtest.Env(t)
	cfg.Templates = tpls
	cfg.Prefix = fmt.Sprintf("chaos-%d-%d", runSeq.Add(1), time.Now().UnixNano()%1000000)
	t.Logf("chaos seed %d (reproduce with -chaos.seed=%d)", cfg.Seed, cfg.Seed)
	rep, err := chaos.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Details())
	for _, v := range rep.Violations {
		t.Error(v)
	}
	fmt.Println(rep)
}

// TestChaosShort runs a few dozen tasks under faults; it runs in go test ./...
func TestChaosShort(t *testing.T) {
	t.Parallel()
	run(t, chaos.Config{Seed: 20261127, Tasks: 100, ThrottleRate: 0.03, DuplicateRate: 0.05,
		PanicRate: 0.04, TimeoutRate: 0.04, FailRate: 0.2, Settle: 90 * time.Second})
}

// TestChaosLong runs a few hundred tasks; it runs with -chaos.long or
// CHAOS_LONG=1 (make chaos).
func TestChaosLong(t *testing.T) {
	if !*long && os.Getenv("CHAOS_LONG") != "1" {
		t.Skip("long chaos run: use -chaos.long or CHAOS_LONG=1 (make chaos)")
	}
	run(t, chaos.Config{Seed: 7, Tasks: 400, ThrottleRate: 0.05, DuplicateRate: 0.05,
		PanicRate: 0.05, TimeoutRate: 0.05, FailRate: 0.2, Settle: 4 * time.Minute})
}
