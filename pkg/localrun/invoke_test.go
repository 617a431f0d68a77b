package localrun_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tasker-go/tasker/pkg/localrun"
)

type echoIn struct {
	N int `json:"n"`
}

type echoOut struct {
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

// TestHandlerIsSafeConcurrently invokes one handler from many goroutines
// and checks that every caller reads its own response, even after other
// invocations ran in between.
func TestHandlerIsSafeConcurrently(t *testing.T) {
	t.Parallel()
	invoke := localrun.Handler(func(_ context.Context, in echoIn) (echoOut, error) {
		return echoOut{N: in.N, Pad: strings.Repeat("x", 64+in.N%64)}, nil
	})
	var wg sync.WaitGroup
	errs := make(chan string, 1)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				n := g*1000 + i
				payload, _ := json.Marshal(echoIn{N: n})
				raw, err := invoke(context.Background(), payload)
				if err != nil {
					t.Error(err)
					return
				}
				runtime.Gosched() // let other invocations run before reading
				var out echoOut
				if err := json.Unmarshal(raw, &out); err != nil || out.N != n {
					select {
					case errs <- string(raw):
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case raw := <-errs:
		t.Fatalf("a caller read another invocation's response: %.80s", raw)
	default:
	}
}
