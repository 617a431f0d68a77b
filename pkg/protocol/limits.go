package protocol

import (
	"fmt"
	"regexp"
)

// Limits on what a message may carry. A worker (in any language, possibly
// buggy or hostile) sends results; every bound here is checked by Validate
// or ExtractOutcomes, so an oversized or malformed field becomes a
// permanent failure of the attempt with the reason instead of a value the
// store or another worker chokes on. The Go SDK stays inside them.
const (
	// MaxJSONDepth bounds the nesting of arrays and objects in a result, an
	// error context and a cursor.
	MaxJSONDepth = 64
	// MaxStepNameBytes bounds step_name: a template step name (64) plus a
	// batch id (32) or the compensation prefix fit.
	MaxStepNameBytes = 128
	// MaxIDBytes bounds worker_id and correlation_id.
	MaxIDBytes = 255
	// MaxErrorMessageBytes bounds error.message (the Go SDK truncates at
	// 4 KiB and appends a marker).
	MaxErrorMessageBytes = 8 * 1024
	// MaxErrorTypeBytes bounds error.error_type.
	MaxErrorTypeBytes = 128
	// MaxErrorContextBytes bounds error.context (the Go SDK drops contexts
	// over 32 KiB).
	MaxErrorContextBytes = 64 * 1024
	// MaxRetryAfterSeconds bounds error.retry_after_seconds (one week); the
	// engine caps the delay at the template's max backoff anyway.
	MaxRetryAfterSeconds = 7 * 24 * 3600
	// MaxCursorBytes bounds each of a cursor config's start_cursor and
	// end_cursor: one copy travels with every batch worker.
	MaxCursorBytes = 4 * 1024
	// MaxBatchIDBytes bounds a cursor config's batch_id (the engine also
	// requires [A-Za-z0-9_]).
	MaxBatchIDBytes = 32
)

var (
	// stepNamePattern is what every step name the engine creates matches:
	// template step names, batch worker instances (<worker>_<batch_id>) and
	// compensation steps (compensate_<step>). Step names become DynamoDB
	// sort keys.
	stepNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)
	// uuidPattern is the canonical form the engine writes: task UUIDs
	// become DynamoDB partition keys.
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// checkUUID reports a field that is not a canonical lower-case UUID.
func checkUUID(field, v string) error {
	if !uuidPattern.MatchString(v) {
		return fmt.Errorf("%s: %s is not a canonical lower-case UUID", field, quoteShort(v))
	}
	return nil
}

// checkStepName reports a step name that the engine cannot have created.
func checkStepName(field, v string) error {
	if !stepNamePattern.MatchString(v) {
		return fmt.Errorf("%s: %s must be 1 to %d letters, digits or '_'", field, quoteShort(v), MaxStepNameBytes)
	}
	return nil
}

// checkLen reports a string field longer than limit bytes.
func checkLen(field, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%s: %d bytes, at most %d", field, len(v), limit)
	}
	return nil
}

// quoteShort quotes s, cut to 40 bytes, for an error message.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		return fmt.Sprintf("%q… (%d bytes)", s[:limit], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// CheckJSONDepth returns an error when the JSON text data nests arrays and
// objects more than maxDepth deep. data must be valid JSON (it is scanned,
// not parsed); the check costs one pass and no allocation.
func CheckJSONDepth(data []byte, maxDepth int) error {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			if depth > maxDepth {
				return fmt.Errorf("nested more than %d levels deep", maxDepth)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

// ValidUUID reports whether s is a canonical lower-case UUID, the form of
// every task and step UUID the engine writes.
func ValidUUID(s string) bool { return uuidPattern.MatchString(s) }

// ValidStepName reports whether s can be the name of a step the engine
// created.
func ValidStepName(s string) bool { return stepNamePattern.MatchString(s) }
