package breaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultCacheTTL is how long a Breaker trusts the record it last read or
// wrote before reading it again.
const DefaultCacheTTL = time.Second

// MaxNameBytes bounds a breaker's name.
const MaxNameBytes = 255

// recordTimeout bounds the write that records a call's outcome; it runs
// even when the call's context has ended.
const recordTimeout = 5 * time.Second

// Option configures a Breaker beyond its Config: the settings a process
// shares across its breakers.
type Option func(*options)

type options struct {
	clock    func() time.Time
	cacheTTL time.Duration
	log      *slog.Logger
}

// WithClock sets the time source for cool-downs, probe rounds and the
// cache; default time.Now.
func WithClock(clock func() time.Time) Option { return func(o *options) { o.clock = clock } }

// WithCacheTTL sets how long a Breaker trusts its cached record; default
// DefaultCacheTTL. Zero or less turns the cache off: every call reads the
// store.
func WithCacheTTL(d time.Duration) Option { return func(o *options) { o.cacheTTL = d } }

// WithLogger sets where store errors met while recording an outcome are
// logged (they never replace the call's own result); default
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Breaker guards calls to one dependency with the breaker of its name in a
// shared Store. It is safe for concurrent use; create one per name and
// process and keep it (its cache lives in it).
type Breaker struct {
	name  string
	store Store
	cfg   Config
	opts  options
	cache cache
}

// New returns the breaker name over store with cfg's thresholds (zero
// fields take their defaults). It returns an error wrapping ErrInvalidConfig
// for an empty or over-long name, a nil store or a negative config field.
func New(store Store, name string, cfg Config, opts ...Option) (*Breaker, error) {
	var errs []error
	if name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if len(name) > MaxNameBytes {
		errs = append(errs, fmt.Errorf("name is %d bytes, at most %d allowed", len(name), MaxNameBytes))
	}
	if store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		if !errors.Is(err, ErrInvalidConfig) {
			err = fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		return nil, fmt.Errorf("breaker %q: %w", name, err)
	}
	o := options{clock: time.Now, cacheTTL: DefaultCacheTTL, log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return &Breaker{name: name, store: store, cfg: cfg.WithDefaults(), opts: o}, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// Config returns the breaker's config with defaults applied.
func (b *Breaker) Config() Config { return b.cfg }

// Record returns the breaker's record, from the cache while it is fresh.
// It returns the store's error if the read fails.
func (b *Breaker) Record(ctx context.Context) (Record, error) {
	return b.view(ctx, b.opts.clock())
}

// Do calls fn unless the breaker rejects the call, and records fn's outcome
// in the store: nil is a success, an error IsFailure accepts a failure, any
// other error neither. It returns fn's error unchanged.
//
// While the breaker is open (or half-open with every probe slot taken), Do
// returns an *OpenError, matching ErrOpen, without calling fn. When the
// store cannot be read or a probe slot cannot be taken, Do returns that
// error without calling fn. A store error while recording the outcome is
// logged, never returned: fn has already run.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	admitted, err := b.admit(ctx)
	if err != nil {
		return err
	}
	err = fn(ctx)
	b.record(ctx, admitted, err)
	return err
}

// admit returns the record the call was admitted under, or why it was not.
func (b *Breaker) admit(ctx context.Context) (Record, error) {
	now := b.opts.clock()
	rec, err := b.view(ctx, now)
	if err != nil {
		return rec, err
	}
	a := Admit(rec, b.cfg, now)
	if !a.Allow {
		return rec, b.openError(rec, a.RetryAfter)
	}
	if !a.Probe {
		return rec, nil
	}
	rec, granted, err := b.store.TryBreakerProbe(ctx, b.name, b.cfg, now)
	if err != nil {
		return rec, fmt.Errorf("circuit breaker %s: probe: %w", b.name, err)
	}
	b.cache.put(rec, now)
	if !granted {
		return rec, b.openError(rec, RetryAfter(rec, b.cfg, now))
	}
	return rec, nil
}

func (b *Breaker) openError(rec Record, retryAfter time.Duration) *OpenError {
	return &OpenError{Name: b.name, State: rec.state(), RetryAfter: retryAfter}
}

// record writes the outcome of a call admitted under admitted.
func (b *Breaker) record(ctx context.Context, admitted Record, callErr error) {
	var write func(ctx context.Context, name string, cfg Config, now time.Time) (Record, error)
	switch {
	case callErr == nil:
		if _, ok := OnSuccess(admitted); !ok {
			return // closed without failures: nothing to reset
		}
		write = b.store.RecordBreakerSuccess
	case b.cfg.IsFailure(callErr):
		write = b.store.RecordBreakerFailure
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := b.opts.clock()
	rec, err := write(ctx, b.name, b.cfg, now)
	if err != nil {
		b.cache.drop()
		b.opts.log.WarnContext(ctx, "circuit breaker: record outcome", "breaker", b.name, "error", err)
		return
	}
	b.cache.put(rec, now)
}

// view returns the cached record while it is fresh, else reads the store.
func (b *Breaker) view(ctx context.Context, now time.Time) (Record, error) {
	if rec, ok := b.cache.get(now, b.opts.cacheTTL); ok {
		return rec, nil
	}
	rec, err := b.store.GetBreaker(ctx, b.name)
	if err != nil {
		return Record{Name: b.name}, fmt.Errorf("circuit breaker %s: %w", b.name, err)
	}
	b.cache.put(rec, now)
	return b.cache.latest(rec), nil
}
