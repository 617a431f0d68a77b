package conformance_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tasker-go/tasker/pkg/conformance"
)

// TestGoWorker builds cmd/conformance-worker (the Go SDK hosting the
// contract's handlers) and runs the conformance suite against it.
func TestGoWorker(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "conformance-worker")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/conformance-worker")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/conformance-worker: %v\n%s", err, out)
	}
	conformance.Run(t, conformance.Config{Argv: []string{bin}})
}
