package soak

import (
	"strings"
	"testing"
	"time"
)

// The check must catch each kind of growth, or a passing soak proves nothing.
func TestCheck(t *testing.T) {
	t.Parallel()
	base := Sample{Tasks: 100, P50: 100 * time.Millisecond, P95: 200 * time.Millisecond, HeapMiB: 20, Goroutines: 100, FDs: 40}
	cases := []struct {
		name string
		edit func(*Sample)
		want string
	}{
		{"steady", func(*Sample) {}, ""},
		{"within tolerance", func(s *Sample) { s.HeapMiB, s.Goroutines, s.FDs, s.P95 = 40, 150, 72, 600*time.Millisecond }, ""},
		{"heap", func(s *Sample) { s.HeapMiB = 47 }, "heap grew"},
		{"goroutines", func(s *Sample) { s.Goroutines = 151 }, "goroutines grew"},
		{"fds", func(s *Sample) { s.FDs = 73 }, "open fds grew"},
		{"p50", func(s *Sample) { s.P50 = 500 * time.Millisecond }, "p50 latency"},
		{"p95", func(s *Sample) { s.P95 = 700 * time.Millisecond }, "p95 latency"},
		{"stalled", func(s *Sample) { s.Tasks = 0 }, "no task finished"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			last := base
			c.edit(&last)
			got := check(base, last, DefaultTolerance)
			if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)) {
				t.Fatalf("got %q, want one failure containing %q", got, c.want)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	d := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	var s Sample
	percentiles(&s, d)
	if s.P50 != 50*time.Millisecond || s.P95 != 95*time.Millisecond || s.P99 != 99*time.Millisecond {
		t.Fatalf("got p50 %s p95 %s p99 %s", s.P50, s.P95, s.P99)
	}
}
