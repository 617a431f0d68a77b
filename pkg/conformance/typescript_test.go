package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tasker-go/tasker/pkg/conformance"
)

// requireTSEnv makes a missing node or an unbuilt TypeScript SDK a failure
// instead of a skip (for CI jobs that build the SDK first).
const requireTSEnv = "TASKER_REQUIRE_TS"

// TestTypeScriptWorker runs the conformance suite against the TypeScript
// SDK's conformance worker (sdk/typescript/dist/conformance/worker.js). It
// skips when node or the built worker is missing, unless TASKER_REQUIRE_TS=1.
func TestTypeScriptWorker(t *testing.T) {
	script, err := filepath.Abs("../../sdk/typescript/dist/conformance/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	node, nodeErr := exec.LookPath("node")
	_, scriptErr := os.Stat(script)
	if nodeErr != nil || scriptErr != nil {
		msg := "TypeScript conformance worker unavailable: "
		if nodeErr != nil {
			msg += "node is not on PATH; "
		}
		if scriptErr != nil {
			msg += script + " does not exist (build it with npm run build in sdk/typescript); "
		}
		if os.Getenv(requireTSEnv) == "1" {
			t.Fatal(msg + requireTSEnv + "=1 requires it")
		}
		t.Skip(msg + "set " + requireTSEnv + "=1 to make this a failure")
	}
	conformance.Run(t, conformance.Config{Argv: []string{node, script}})
}
