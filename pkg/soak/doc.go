// Package soak runs the whole local system (pkg/devstack) under sustained
// load for a bounded time and watches it for leaks and drift: every window
// it samples the heap (after a GC), the resident set size, goroutines and
// open file descriptors of this process, and the task latency percentiles of
// the tasks that finished in the window. Run compares every figure of the
// last window with the first steady window and reports what grew beyond
// the tolerances. Load goes through the HTTP API on loopback only.
//
// The emulator runs in a child process (chaos.StartEmulator), so the
// figures are the system's, not the emulator's growing store.
package soak
