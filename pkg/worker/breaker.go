package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/tasker-go/tasker/pkg/breaker"
)

// ErrorTypeCircuitOpen is the error type of an attempt a circuit breaker
// rejected without calling its dependency (see FromBreaker).
const ErrorTypeCircuitOpen = "circuit_open"

// Breakers is a process's circuit breakers, one per dependency name, over
// one shared breaker store (a *dynamo.Store on the state table), so that
// every Lambda instance of a worker agrees on each dependency's state.
// Create it once per cold start, next to the Worker, and use it from
// handlers. It is safe for concurrent use.
//
// A handler wraps each call of a dependency:
//
//	err := breakers.Do(ctx, "payment-gateway", func(ctx context.Context) error {
//		return gateway.Charge(ctx, charge)
//	})
//
// While the breaker is open, Do returns a retryable *Error of type
// "circuit_open" whose RetryAfter is the rest of the cool-down, without
// calling the function, so the engine retries the step later.
type Breakers struct {
	store   breaker.Store
	configs map[string]breaker.Config
	opts    []breaker.Option

	mu     sync.Mutex
	byName map[string]*breaker.Breaker
}

// NewBreakers returns the breakers over store, with configs holding each
// dependency's thresholds (keyed by breaker name; a name not in configs gets
// breaker.Config's defaults: 5 failures, 30 s, 2 successes). opts apply to
// every breaker (clock, cache TTL, logger). It returns an error wrapping
// ErrInvalidConfig and breaker.ErrInvalidConfig for a nil store, an invalid
// name or a negative threshold.
func NewBreakers(store breaker.Store, configs map[string]breaker.Config, opts ...breaker.Option) (*Breakers, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: breakers: store is required", ErrInvalidConfig)
	}
	bs := &Breakers{store: store, configs: maps.Clone(configs), opts: opts, byName: make(map[string]*breaker.Breaker, len(configs))}
	var errs []error
	for name, cfg := range configs {
		b, err := breaker.New(store, name, cfg, opts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		bs.byName[name] = b
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return bs, nil
}

// Get returns the breaker of the named dependency, creating it with the
// default config if configs did not name it. It returns an error wrapping
// breaker.ErrInvalidConfig for an empty or over-long name.
func (bs *Breakers) Get(name string) (*breaker.Breaker, error) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.byName[name]; ok {
		return b, nil
	}
	b, err := breaker.New(bs.store, name, bs.configs[name], bs.opts...)
	if err != nil {
		return nil, err
	}
	bs.byName[name] = b
	return b, nil
}

// Do calls fn through the named breaker (see breaker.Breaker.Do) and turns
// a rejection into a retryable *Error with FromBreaker. fn's own error is
// returned unchanged; so are an invalid name's error and a breaker store
// error (both retryable as plain errors).
func (bs *Breakers) Do(ctx context.Context, name string, fn func(context.Context) error) error {
	b, err := bs.Get(name)
	if err != nil {
		return err
	}
	return FromBreaker(b.Do(ctx, fn))
}

// FromBreaker returns err as a handler should report it: an error holding a
// *breaker.OpenError becomes RetryAfter(err, open.RetryAfter) of type
// ErrorTypeCircuitOpen, with the breaker's name and state as context, so
// the engine retries the step once the breaker may admit calls again
// (subject to the template's max_attempts and max backoff). Any other error,
// and nil, is returned unchanged.
func FromBreaker(err error) error {
	var open *breaker.OpenError
	if !errors.As(err, &open) {
		return err
	}
	return RetryAfter(err, open.RetryAfter).WithType(ErrorTypeCircuitOpen).WithContext(map[string]any{
		"breaker":        open.Name,
		"state":          open.State,
		"retry_after_ms": open.RetryAfter.Milliseconds(),
	})
}
