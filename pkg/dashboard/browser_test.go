package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestBrowser runs e2e/dashboard.mjs (playwright-core driving headless
// Chromium) against a stack with auth, the sample templates and handlers:
// it logs in, watches a task's graph turn complete, resolves a failed step
// through the confirmation dialog and saves screenshots to e2e/out. It
// skips when Chromium or e2e/node_modules is missing, unless
// TASKER_REQUIRE_BROWSER=1 (then it fails): `apt-get install -y chromium`
// and `make e2e-deps` provide them.
func TestBrowser(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	node, nodeErr := exec.LookPath("node")
	for _, need := range []struct{ path, hint string }{
		{chromiumPath, "apt-get install -y chromium"},
		{filepath.Join(root, "e2e/node_modules/playwright-core"), "make e2e-deps"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			missing(t, need.path+" is missing ("+need.hint+")")
		}
	}
	if nodeErr != nil {
		missing(t, "node is not on PATH")
	}
	tpls, err := template.LoadDir(filepath.Join(root, "templates"))
	if err != nil {
		t.Fatal(err)
	}
	reg := worker.NewRegistry()
	// A little work per step, so the browser sees the graph change.
	samplehandlers.RegisterWith(reg, samplehandlers.Options{Delay: 250 * time.Millisecond})
	st := startStack(t, testAuth(t), reg, tpls)
	putDeadLetter(t, st, `{"task_uuid":"3f0c…","step_name":"ship_order","attempt":1}`)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/dashboard.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TASKER_URL="+st.APIURL, "TASKER_API_KEY="+adminKey,
		"E2E_OUT="+filepath.Join(root, "e2e/out"), "CHROMIUM="+chromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("node e2e/dashboard.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("browser test: %v", err)
	}
	// The server agrees: every payment task the script resolved is complete.
	page, err := st.Store.ListTasks(context.Background(), dynamo.TaskFilter{Namespace: "dashboard_test"}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	var complete int
	for _, task := range page.Tasks {
		if task.State == statemachine.TaskComplete {
			complete++
		}
	}
	if complete != 1 {
		t.Errorf("%d complete payment tasks, want the 1 resolved in the browser", complete)
	}
}

// missing skips the browser test, or fails it when TASKER_REQUIRE_BROWSER=1.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("TASKER_REQUIRE_BROWSER") == "1" {
		t.Fatalf("browser test cannot run: %s", why)
	}
	t.Skipf("browser test skipped: %s (set TASKER_REQUIRE_BROWSER=1 to make this a failure)", why)
}
