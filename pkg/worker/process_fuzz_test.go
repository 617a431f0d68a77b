package worker_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/tasker-go/tasker/pkg/worker"
)

// FuzzProcess hands a worker step message bodies as anyone able to send to
// a step queue could write them, with a real store on the embedded AWS
// emulator that holds no steps. The worker must consume every one (return
// nil: malformed or naming no step, never left for redelivery), never
// panic, and never run a handler for a step it could not claim.
func FuzzProcess(f *testing.F) {
	for _, p := range []string{"testdata/sqs-event.json", "../protocol/testdata/valid/step-message/inline.json",
		"../protocol/testdata/valid/step-message/payload_ref.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"v":1,"task_uuid":"0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","step_uuid":"0193f0c2-7a42-7d00-8000-000000000002","step_name":"s","handler":"h","namespace":"ns1","attempt":1}`,
		`{"v":1,"task_uuid":"0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","step_uuid":"u","step_name":"S#s","handler":"h","namespace":"ns1","attempt":1}`,
		`{"v":1,"task_uuid":"0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","step_uuid":"u","step_name":"s","handler":"h","namespace":"ns1","attempt":1,` +
			`"payload_ref":{"pk":"T#0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01","sk":"B#x","chunks":99999,"bytes":-1}}`,
	} {
		f.Add([]byte(s))
	}
	h := newHarness(f)
	cfg := h.config()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ran := false
	h.registry.RegisterFunc("h", func(context.Context, *worker.Step) (worker.Result, error) {
		ran = true
		return worker.Success(nil)
	})
	w, err := worker.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<20 {
			return
		}
		if err := w.Process(context.Background(), body); err != nil {
			t.Fatalf("a message naming no stored step was left for redelivery: %v", err)
		}
		if ran {
			t.Fatal("a handler ran for a step that does not exist")
		}
	})
}
