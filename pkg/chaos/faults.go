package chaos

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// FaultKind names one kind of injected fault.
type FaultKind string

// The faults the harness injects.
const (
	// FaultThrottleDynamoDB: a DynamoDB request failed with ThrottlingException
	// before it was sent; the SDK's retryer retried it.
	FaultThrottleDynamoDB FaultKind = "throttle_dynamodb"
	// FaultThrottleSQS: the same for an SQS request.
	FaultThrottleSQS FaultKind = "throttle_sqs"
	// FaultDuplicateMessage: a message the system sent to a queue was sent a
	// second time, as SQS's at-least-once delivery may do.
	FaultDuplicateMessage FaultKind = "duplicate_message"
	// FaultHandlerPanic: a handler panicked before its effect (retryable).
	FaultHandlerPanic FaultKind = "handler_panic"
	// FaultHandlerTimeout: a handler did its effect and then failed with a
	// deadline error (retryable), like a worker that timed out after writing.
	FaultHandlerTimeout FaultKind = "handler_timeout"
	// FaultPermanent: a handler failed permanently; its task must end in error.
	FaultPermanent FaultKind = "permanent_failure"

	// The process died just before or just after a DynamoDB write, an SQS
	// send or an SQS delete (see crashes). "After" means the call committed.
	FaultCrashBeforeDynamoDBWrite FaultKind = "crash_before_dynamodb_write"
	FaultCrashAfterDynamoDBWrite  FaultKind = "crash_after_dynamodb_write"
	FaultCrashBeforeSQSSend       FaultKind = "crash_before_sqs_send"
	FaultCrashAfterSQSSend        FaultKind = "crash_after_sqs_send"
	FaultCrashBeforeSQSDelete     FaultKind = "crash_before_sqs_delete"
	FaultCrashAfterSQSDelete      FaultKind = "crash_after_sqs_delete"

	// FaultEmulatorRestart: the emulator process was stopped and a new one
	// started on the same data directory and port.
	FaultEmulatorRestart FaultKind = "emulator_restart"
)

// Delayed and reordered messages are counted per message kind, as
// "delay_<kind>" and "reorder_<kind>" with kind step, result or
// orchestration (see delivery).

// faultLog counts injected faults by kind. It is safe for concurrent use.
type faultLog struct {
	mu sync.Mutex
	n  map[FaultKind]int
}

func newFaultLog() *faultLog { return &faultLog{n: map[FaultKind]int{}} }

func (l *faultLog) add(k FaultKind) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[k]++
}

func (l *faultLog) snapshot() map[FaultKind]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.n)
}

// formatFaults renders counts as "kind=n, …" in kind order.
func formatFaults(n map[FaultKind]int) string {
	kinds := slices.Sorted(maps.Keys(n))
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return strings.Join(parts, ", ")
}

// lockedRand is a seeded source shared by concurrent AWS requests. Which
// request draws which number depends on scheduling, so AWS faults are
// reproducible in rate, not request by request.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newLockedRand(seed, stream uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, stream))}
}

// chance reports true with probability p.
func (l *lockedRand) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64() < p
}

// intN returns a number in [0, n).
func (l *lockedRand) intN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}
