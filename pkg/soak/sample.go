package soak

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sample is one window's figures.
type Sample struct {
	Window     int
	End        time.Duration // since the run started
	Tasks      int           // tasks that finished in the window
	Errors     int           // tasks that could not be created or did not complete
	P50        time.Duration // submit-to-complete latency of the window's tasks
	P95        time.Duration
	P99        time.Duration
	HeapMiB    float64 // live heap after a forced GC
	RSSMiB     float64 // VmRSS of this process
	Goroutines int
	FDs        int
	// EmulatorRSSMiB is the emulator child's VmRSS (informational: it
	// holds every task and grows with them).
	EmulatorRSSMiB float64
	// CPUPerTask and EmulatorCPUPerTask are the CPU time (user + system)
	// this process and the emulator spent in the window, per finished task:
	// they tell whose work grows when latency drifts.
	CPUPerTask, EmulatorCPUPerTask time.Duration
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTime reads utime + stime from /proc/<pid>/stat; 0 when it cannot.
func cpuTime(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64) // field 14, utime
	s, _ := strconv.ParseUint(f[12], 10, 64) // field 15, stime
	return time.Duration(u+s) * clockTick
}

// measure fills the process figures of s.
func measure(s *Sample, emulatorPID int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.HeapMiB = mib(ms.HeapAlloc)
	s.RSSMiB = mib(rssBytes("self"))
	s.Goroutines = runtime.NumGoroutine()
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.FDs = len(fds)
	}
	if emulatorPID > 0 {
		s.EmulatorRSSMiB = mib(rssBytes(strconv.Itoa(emulatorPID)))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// rssBytes reads VmRSS from /proc/<pid>/status; 0 when it cannot.
func rssBytes(pid string) uint64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // "123456 kB"
		if len(fields) == 0 {
			return 0
		}
		kb, _ := strconv.ParseUint(fields[0], 10, 64)
		return kb * 1024
	}
	return 0
}

// percentiles sets the latency percentiles of s from d (sorted in place).
func percentiles(s *Sample, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(p int) time.Duration { return d[min(len(d)-1, (len(d)*p+99)/100-1)] }
	s.P50, s.P95, s.P99 = at(50), at(95), at(99)
}
