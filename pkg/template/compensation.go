package template

import "fmt"

// Compensation is how a completed step is undone when its task fails with
// compensation requested (a saga): the handler runs with the step's result,
// after every completed step that depended on it was undone.
type Compensation struct {
	// Handler is the callable of the compensation handler.
	Handler string
	// Initialization is passed to the handler as its configuration.
	Initialization map[string]any
	// Retry governs the compensation's own attempts.
	Retry Retry
	// TimeoutSeconds bounds one attempt (0: the engine's default).
	TimeoutSeconds int
}

// compensationJSON is the canonical JSON form of a compensation.
type compensationJSON struct {
	Handler        handlerJSON `json:"handler"`
	Retry          Retry       `json:"retry"`
	TimeoutSeconds int         `json:"timeout_seconds,omitempty"`
}

func (c *Compensation) toJSON() *compensationJSON {
	if c == nil {
		return nil
	}
	return &compensationJSON{Handler: handlerJSON{Callable: c.Handler, Initialization: c.Initialization},
		Retry: c.Retry, TimeoutSeconds: c.TimeoutSeconds}
}

// readCompensation reads a step's `compensation`: a handler name, or a
// mapping {handler: name | {callable, initialization}, retry, timeout_seconds}.
func readCompensation(f *fields) *Compensation {
	v, ok := f.get("compensation")
	if !ok {
		return nil
	}
	path := f.at("compensation")
	c := &Compensation{Retry: defaultRetry()}
	switch x := v.(type) {
	case string:
		c.Handler = x
	case map[string]any:
		cf := &fields{c: f.c, path: path, m: x}
		var s Step
		readHandler(cf, &s)
		c.Handler, c.Initialization = s.Handler, s.Initialization
		c.Retry = readRetry(cf)
		timeout, _ := cf.integer("timeout_seconds", 1, 86400, 0)
		c.TimeoutSeconds = int(timeout)
		cf.done()
	default:
		f.c.addf(path, "must be a handler name or a mapping with handler, got %s", describe(v))
		return nil
	}
	if c.Handler == "" {
		f.c.addf(path, "%s", fmt.Sprint("needs a handler"))
	}
	return c
}

func defaultRetry() Retry {
	return Retry{Retryable: true, MaxAttempts: 3, Backoff: BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true}
}
