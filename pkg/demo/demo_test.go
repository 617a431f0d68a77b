package demo_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/demo"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// TestDemoPasses runs what `make demo` runs: every sample case must reach
// its expected final state, and the report must show progress, results and
// the audit trail.
func TestDemoPasses(t *testing.T) {
	t.Parallel()
	tpls, err := template.LoadDir("../../templates")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	progress := demo.NewProgress(&out)
	reg := worker.NewRegistry()
	samplehandlers.Register(reg)
	goTpls, tsTpls := demo.SplitTemplates(tpls)
	st, err := devstack.Start(context.Background(), devstack.Options{Env: localtest.Env(t), Prefix: "demo-test", Templates: goTpls,
		Registry: reg, APIAddr: "127.0.0.1:0", Notify: progress.Notify, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	stopTS, err := demo.StartTypeScriptWorker(context.Background(), &out, st, tsTpls, reg, "../../sdk/typescript")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopTS)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	outcomes, ok := demo.Run(ctx, &out, client.New(st.APIURL), progress, demo.Cases())
	if !ok {
		for _, o := range outcomes {
			if !o.OK {
				t.Errorf("case %q failed: err=%v task=%+v", o.Case.Title, o.Err, o.Task)
			}
		}
		t.Fatalf("demo failed:\n%s", out.String())
	}
	report := out.String()
	// The confirmation step ran on the TypeScript worker when the SDK is
	// built and node is installed; otherwise the demo said so and ran the Go
	// fallback.
	switch {
	case strings.Contains(report, "TypeScript worker (node"):
		if !strings.Contains(report, `{"worker":"typescript"`) {
			t.Errorf("the TypeScript worker started but did not run send_order_confirmation:\n%s", report)
		}
	case !strings.Contains(report, "notice: TypeScript worker not started"):
		t.Errorf("report says neither that the TypeScript worker runs nor why not")
	}
	for _, want := range []string{"demo: PASS", "process_payment", "→ waiting_for_retry", "audit trail", "blocked_by_failures", "compensated"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
