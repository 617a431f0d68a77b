package soak

import (
	"fmt"
	"time"
)

// Tolerance is how far the last window may move from the baseline window.
type Tolerance struct {
	// Heap: last ≤ baseline × HeapFactor + HeapSlackMiB.
	HeapFactor   float64
	HeapSlackMiB float64
	// Goroutines and FDs: last ≤ baseline + these.
	Goroutines int
	FDs        int
	// Latency (p50 and p95): last ≤ baseline × LatencyFactor + LatencySlack.
	LatencyFactor float64
	LatencySlack  time.Duration
}

// DefaultTolerance allows for a shared 2-core machine: other processes
// change latency from window to window, so latency gets a wide margin; a
// leak of one goroutine or descriptor per task still fails by far.
var DefaultTolerance = Tolerance{HeapFactor: 1.5, HeapSlackMiB: 16, Goroutines: 50, FDs: 32,
	LatencyFactor: 2, LatencySlack: 250 * time.Millisecond}

// check compares the last sample with the baseline and returns what grew
// beyond tol.
func check(base, last Sample, tol Tolerance) []string {
	var out []string
	if limit := base.HeapMiB*tol.HeapFactor + tol.HeapSlackMiB; last.HeapMiB > limit {
		out = append(out, fmt.Sprintf("heap grew from %.1f to %.1f MiB (limit %.1f)", base.HeapMiB, last.HeapMiB, limit))
	}
	if limit := base.Goroutines + tol.Goroutines; last.Goroutines > limit {
		out = append(out, fmt.Sprintf("goroutines grew from %d to %d (limit %d)", base.Goroutines, last.Goroutines, limit))
	}
	if limit := base.FDs + tol.FDs; last.FDs > limit {
		out = append(out, fmt.Sprintf("open fds grew from %d to %d (limit %d)", base.FDs, last.FDs, limit))
	}
	lat := func(name string, b, l time.Duration) {
		limit := time.Duration(float64(b)*tol.LatencyFactor) + tol.LatencySlack
		if l > limit {
			out = append(out, fmt.Sprintf("%s latency drifted from %s to %s (limit %s)", name, ms(b), ms(l), ms(limit)))
		}
	}
	lat("p50", base.P50, last.P50)
	lat("p95", base.P95, last.P95)
	if last.Tasks == 0 {
		out = append(out, "no task finished in the last window")
	}
	return out
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
