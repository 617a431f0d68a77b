package devstack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// TestResultsQueuePath runs the acceptance chain with workers that send
// their results through the results queue (the path of workers in other
// languages) instead of applying them in process.
func TestResultsQueuePath(t *testing.T) {
	t.Parallel()
	tpls, err := template.LoadDir("../../templates/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptance(reg)
	st, err := devstack.Start(context.Background(), devstack.Options{Env: localtest.Env(t), Prefix: "rq-" + time.Now().Format("150405.000000")[7:],
		Templates: tpls, Registry: reg, APIAddr: "127.0.0.1:0", ResultsViaQueue: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cl := client.New(st.APIURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := cl.CreateTask(ctx, engine.TaskRequest{Namespace: "acceptance_tree", Name: "hierarchical_tree", Context: json.RawMessage(`{"even_number": 6}`)})
	if err != nil {
		t.Fatal(err)
	}
	done, err := cl.WaitForTask(ctx, created.TaskUUID, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "complete" {
		t.Fatalf("task %s", done.Status)
	}
	for _, s := range done.Steps {
		if s.Name == "tree_final_convergence" && string(s.Results) != `{"result":"63340286662973277706162286946811886609896461828096"}` {
			t.Fatalf("result %s", s.Results)
		}
	}
}
