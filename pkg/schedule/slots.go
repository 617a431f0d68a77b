package schedule

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Slots returns e's slots in (after, until], earliest first, at most max of
// them; nil when max < 1.
func Slots(e Expression, after, until time.Time, max int) []time.Time {
	var out []time.Time
	for t := after; len(out) < max; {
		next := e.Next(t)
		if next.IsZero() || next.After(until) || !next.After(t) {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

// maxKeyLen is the longest idempotency_key the intake accepts.
const maxKeyLen = 255

// IdempotencyKey returns the key that makes one slot of one schedule create
// one task: "schedule:<namespace>/<name>:<version>:<schedule name>:<slot>",
// templateKey being the template's "<namespace>/<name>:<version>" and the
// slot written in RFC 3339, UTC, whole seconds (as EventBridge Scheduler
// writes <aws.scheduler.scheduled-time>). Should that be longer than the 255
// characters the intake accepts (template names may be long), the middle
// part is replaced by its SHA-256:
// "schedule:sha256:<hex of templateKey:scheduleName>:<slot>".
func IdempotencyKey(templateKey, scheduleName string, slot time.Time) string {
	id := templateKey + ":" + scheduleName
	at := slot.UTC().Format(time.RFC3339)
	if key := "schedule:" + id + ":" + at; len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(id))
	return "schedule:sha256:" + hex.EncodeToString(sum[:]) + ":" + at
}
