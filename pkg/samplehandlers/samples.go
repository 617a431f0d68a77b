package samplehandlers

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/worker"
)

// samples holds what the use-case handlers share: the clock for the
// timestamps in their results.
type samples struct {
	now func() time.Time
}

func newSamples(now func() time.Time) samples {
	if now == nil {
		now = time.Now
	}
	return samples{now: now}
}

// handlers returns the handlers of the use-case templates.
func (h samples) handlers() []entry {
	var out []entry
	out = append(out, h.fulfillmentHandlers()...)
	out = append(out, h.paymentHandlers()...)
	out = append(out, h.etlHandlers()...)
	out = append(out, h.onboardingHandlers()...)
	out = append(out, h.reportHandlers()...)
	out = append(out, approvalsHandlers()...)
	out = append(out, h.notificationHandlers()...)
	return out
}

// approvalsHandlers returns the approvals.* handlers of the conditional
// approval sample, which share the logic of the approval.* acceptance
// handlers.
func approvalsHandlers() []entry {
	return []entry{
		{"approvals.validate_request", validateRequest},
		{"approvals.route_by_amount", routeByAmount},
		{"approvals.approve", approve},
		{"approvals.finalize", finalizeApproval},
	}
}

// stamp returns the current time for a result, RFC 3339 in UTC.
func (h samples) stamp() string { return h.now().UTC().Format(time.RFC3339) }

// stableID returns prefix followed by 12 hex digits of the SHA-256 of parts:
// the same parts always give the same identifier, so a retried attempt
// reports the identifiers of the first.
func stableID(prefix string, parts ...string) string {
	sum := digest(parts)
	return prefix + hex.EncodeToString(sum[:6])
}

// stableInt returns an integer in [lo, hi] derived from parts, standing in
// for a figure a real handler would look up.
func stableInt(lo, hi int64, parts ...string) int64 {
	sum := digest(parts)
	return lo + int64(binary.BigEndian.Uint64(sum[:8])%uint64(hi-lo+1))
}

func digest(parts []string) [32]byte {
	return sha256.Sum256([]byte(strings.Join(parts, "\x00")))
}

// idempotencyKey returns the step's idempotency key; a step without one
// (no step UUID) cannot make a side effect safely and fails permanently.
func idempotencyKey(s *worker.Step) (string, error) {
	key := s.IdempotencyKey()
	if key == "" {
		return "", invalid("step %s has no idempotency key (step UUID)", s.Name)
	}
	return key, nil
}

// failFirst returns a retryable error of type errType while the attempt is
// at most times, simulating a transient outage of a downstream system.
func failFirst(s *worker.Step, times int64, errType, what string) error {
	if int64(s.Attempt) > times {
		return nil
	}
	return worker.Retryable(fmt.Errorf("%s (simulated, attempt %d of %d failing)", what, s.Attempt, times)).
		WithType(errType).
		WithContext(map[string]any{"attempt": s.Attempt, "planned_failures": times})
}
