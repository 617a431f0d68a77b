package samplehandlers

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/worker"
)

// Error types the handlers report besides the ones named where they are used.
const (
	// ErrorTypeInvalidInput: the task context, the handler configuration or
	// a parent result is missing a value or holds a wrong one. Permanent.
	ErrorTypeInvalidInput = "invalid_input"
	// ErrorTypeSimulatedFailure: a failure injected on purpose (fail_count,
	// fail_payment_times, …) to demonstrate retries. Retryable.
	ErrorTypeSimulatedFailure = "simulated_failure"
)

// invalid returns a permanent invalid_input error.
func invalid(format string, args ...any) *worker.Error {
	return worker.Permanent(fmt.Errorf(format, args...)).WithType(ErrorTypeInvalidInput)
}

// rejected returns a permanent error of the given business type, e.g.
// "fraud_detected".
func rejected(errType, format string, args ...any) *worker.Error {
	return worker.Permanent(fmt.Errorf(format, args...)).WithType(errType)
}

// simulated returns a retryable injected failure.
func simulated(format string, args ...any) *worker.Error {
	return worker.Retryable(fmt.Errorf(format, args...)).WithType(ErrorTypeSimulatedFailure)
}

// object is a JSON object whose values are kept raw until a handler reads
// them.
type object map[string]json.RawMessage

// contextObject decodes the task context; a context that is not an object
// is a permanent error.
func contextObject(s *worker.Step) (object, error) {
	var o object
	if err := s.DecodeContext(&o); err != nil {
		return nil, invalid("%v", err)
	}
	return o, nil
}

// configObject decodes the handler's configuration; one that is not an
// object is a permanent error.
func configObject(s *worker.Step) (object, error) {
	var o object
	if err := s.DecodeConfig(&o); err != nil {
		return nil, invalid("%v", err)
	}
	return o, nil
}

// parentObject decodes the result of parent name; a missing parent or one
// whose result is not an object is a permanent error.
func parentObject(s *worker.Step, name string) (object, error) {
	var o object
	if err := s.DecodeParent(name, &o); err != nil {
		return nil, invalid("%v", err)
	}
	if o == nil {
		return nil, invalid("parent %q has an empty result", name)
	}
	return o, nil
}

// has reports whether key holds a value other than null.
func (o object) has(key string) bool { return !isAbsent(o[key]) }

// str returns the string under key; a missing or empty value is an
// error when required.
func (o object) str(key string, required bool) (string, error) {
	if !o.has(key) {
		if required {
			return "", invalid("%s is required", key)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(o[key], &s); err != nil {
		return "", invalid("%s must be a string", key)
	}
	if s == "" && required {
		return "", invalid("%s must not be empty", key)
	}
	return s, nil
}

// flag returns the boolean under key, false when absent.
func (o object) flag(key string) (bool, error) {
	if !o.has(key) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(o[key], &b); err != nil {
		return false, invalid("%s must be a boolean", key)
	}
	return b, nil
}

// integer returns the integer under key (a JSON number or numeric string), or
// def when absent.
func (o object) integer(key string, def int64) (int64, error) {
	n, err := parseInt64(o[key])
	switch {
	case errors.Is(err, errMissing):
		return def, nil
	case err != nil:
		return 0, invalid("%s: %v", key, err)
	}
	return n, nil
}

// requiredInteger is integer for a value that must be present.
func (o object) requiredInteger(key string) (int64, error) {
	if !o.has(key) {
		return 0, invalid("%s is required", key)
	}
	return o.integer(key, 0)
}

// decode decodes the value under key into v; absent leaves v as it is.
func (o object) decode(key string, v any) error {
	if !o.has(key) {
		return nil
	}
	if err := json.Unmarshal(o[key], v); err != nil {
		return invalid("%s: %v", key, err)
	}
	return nil
}
