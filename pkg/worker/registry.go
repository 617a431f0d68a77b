package worker

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Handler runs one attempt of a step. It returns the step's result, or an
// error: a *Error says whether the attempt may be retried; any other error
// is treated as retryable. The context carries the step's deadline
// (timeout_seconds from the template, 30 s by default).
type Handler interface {
	Handle(ctx context.Context, step *Step) (Result, error)
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, step *Step) (Result, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, step *Step) (Result, error) { return f(ctx, step) }

// Registry maps callables (the template's handler.callable, e.g.
// "orders.validate") to handlers. It is safe for concurrent use; handlers are
// normally registered once at start-up.
type Registry struct {
	mu       sync.RWMutex
	handlers map[string]Handler
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{handlers: map[string]Handler{}} }

// Register adds h under name. It panics when name is empty, h is nil or
// name is already registered: these are programming errors.
func (r *Registry) Register(name string, h Handler) {
	if name == "" {
		panic("worker: Register with an empty handler name")
	}
	if h == nil {
		panic(fmt.Sprintf("worker: Register %q with a nil handler", name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[name]; dup {
		panic(fmt.Sprintf("worker: handler %q registered twice", name))
	}
	r.handlers[name] = h
}

// RegisterFunc adds fn under name; it panics like Register.
func (r *Registry) RegisterFunc(name string, fn func(ctx context.Context, step *Step) (Result, error)) {
	if fn == nil {
		panic(fmt.Sprintf("worker: RegisterFunc %q with a nil function", name))
	}
	r.Register(name, HandlerFunc(fn))
}

// Lookup returns the handler registered under name.
func (r *Registry) Lookup(name string) (Handler, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.handlers[name]
	return h, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.handlers))
	for n := range r.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
