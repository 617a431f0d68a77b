package breaker

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Defaults of Config's fields, Tasker Core's: 5 failures, 30 s, 2 successes.
const (
	DefaultFailureThreshold = 5
	DefaultCoolDown         = 30 * time.Second
	DefaultSuccessThreshold = 2
)

// Config holds one breaker's thresholds. A zero field takes its default.
type Config struct {
	// FailureThreshold is the number of consecutive failures that opens a
	// closed breaker; default DefaultFailureThreshold.
	FailureThreshold int
	// CoolDown is how long an open breaker rejects calls before it admits
	// probes; it also bounds a probe round (see Record.ProbeUntil); default
	// DefaultCoolDown.
	CoolDown time.Duration
	// SuccessThreshold is the number of successful probes that closes a
	// half-open breaker, and the number of probe calls a half-open breaker
	// admits per round across all processes; default DefaultSuccessThreshold.
	SuccessThreshold int
	// IsFailure reports whether an error of the protected call counts
	// against the dependency; default DefaultIsFailure. An error it rejects
	// counts neither as a failure nor as a success.
	IsFailure func(error) bool
}

// DefaultIsFailure counts every non-nil error as a failure except a
// cancelled context, which says nothing about the dependency.
func DefaultIsFailure(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.CoolDown == 0 {
		c.CoolDown = DefaultCoolDown
	}
	if c.SuccessThreshold == 0 {
		c.SuccessThreshold = DefaultSuccessThreshold
	}
	if c.IsFailure == nil {
		c.IsFailure = DefaultIsFailure
	}
	return c
}

// Validate returns an error wrapping ErrInvalidConfig that names every
// negative field, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.FailureThreshold < 0 {
		errs = append(errs, fmt.Errorf("FailureThreshold must be >= 0, got %d", c.FailureThreshold))
	}
	if c.CoolDown < 0 {
		errs = append(errs, fmt.Errorf("CoolDown must be >= 0, got %s", c.CoolDown))
	}
	if c.SuccessThreshold < 0 {
		errs = append(errs, fmt.Errorf("SuccessThreshold must be >= 0, got %d", c.SuccessThreshold))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}
