package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" //nolint:gosec // served only on the loopback address given in TASKER_PPROF
	"os"
)

// startPprof serves Go's profiler on TASKER_PPROF (e.g. 127.0.0.1:6060)
// when set, for profiling `tasker bench` or `tasker dev`.
func startPprof() {
	addr := os.Getenv("TASKER_PPROF")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil { //nolint:gosec // a local diagnostic endpoint
			fmt.Fprintf(os.Stderr, "pprof: %v\n", err)
		}
	}()
}
