package breaker

import (
	"context"
	"time"
)

// Store holds breaker records shared by every process; *dynamo.Store
// satisfies it. Each method makes guarded writes, one per event, each
// conditional on the event's guard (see Allowed), so that concurrent
// callers never apply a transition twice: of many concurrent failures that
// reach the threshold, exactly one trips the breaker. cfg's zero fields take
// their defaults.
type Store interface {
	// GetBreaker returns the named breaker's record; a closed Record when
	// the store holds none.
	GetBreaker(ctx context.Context, name string) (Record, error)
	// RecordBreakerFailure applies a failed call (OnFailure, then Settle)
	// and returns the record after it. A failure while open changes nothing.
	RecordBreakerFailure(ctx context.Context, name string, cfg Config, now time.Time) (Record, error)
	// RecordBreakerSuccess applies a successful call (OnSuccess, then
	// Settle) and returns the record after it.
	RecordBreakerSuccess(ctx context.Context, name string, cfg Config, now time.Time) (Record, error)
	// TryBreakerProbe admits a call to an open or half-open breaker (Admit,
	// then EvProbe). granted reports whether the call may be made; it is
	// also true when the breaker turns out to be closed.
	TryBreakerProbe(ctx context.Context, name string, cfg Config, now time.Time) (rec Record, granted bool, err error)
}
