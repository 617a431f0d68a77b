package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
)

// Environment variables read by the logging setup.
const (
	// EnvLogLevel is the minimum level logged: debug, info (default), warn or error.
	EnvLogLevel = "TASKER_LOG_LEVEL"
	// EnvRedactKeys is a comma-separated list of JSON keys whose values are
	// replaced by Redacted wherever a context or result appears in a log
	// line; it replaces DefaultRedactKeys.
	EnvRedactKeys = "TASKER_LOG_REDACT_KEYS"
)

// Redacted replaces the value of a redacted key.
const Redacted = "[REDACTED]"

// DefaultRedactKeys are redacted when TASKER_LOG_REDACT_KEYS is unset.
var DefaultRedactKeys = []string{"password", "secret", "token", "authorization", "api_key", "card_number"}

// LogLevelFromEnv returns the level named by TASKER_LOG_LEVEL, or info when
// it is unset or not a level.
func LogLevelFromEnv() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv(EnvLogLevel))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// RedactKeysFromEnv returns the keys named by TASKER_LOG_REDACT_KEYS, or
// DefaultRedactKeys when it is unset. An empty value (set to "") turns
// redaction off.
func RedactKeysFromEnv() []string {
	v, ok := os.LookupEnv(EnvRedactKeys)
	if !ok {
		return DefaultRedactKeys
	}
	var keys []string
	for _, k := range strings.Split(v, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// NewLogger returns a JSON logger writing to w at level, whose attributes
// are redacted with keys (see NewRedactor).
func NewLogger(w io.Writer, level slog.Leveler, keys []string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(NewRedactingHandler(h, NewRedactor(keys)))
}

// LoggerFromEnv is NewLogger on stdout with TASKER_LOG_LEVEL and
// TASKER_LOG_REDACT_KEYS: what every Lambda function logs with.
func LoggerFromEnv() *slog.Logger {
	return NewLogger(os.Stdout, LogLevelFromEnv(), RedactKeysFromEnv())
}

// Redactor hides the values of sensitive keys in JSON documents. Keys match
// case-insensitively and ignoring '_' and '-', so "api_key" also matches
// "apiKey" and "API-KEY"; a key matches when it contains a listed key
// ("db_password" matches "password").
type Redactor struct {
	keys []string // normalized
}

// NewRedactor returns a redactor for keys; with no keys it changes nothing.
func NewRedactor(keys []string) *Redactor {
	r := &Redactor{}
	for _, k := range keys {
		if n := normalizeKey(k); n != "" {
			r.keys = append(r.keys, n)
		}
	}
	return r
}

func normalizeKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for _, c := range strings.ToLower(k) {
		if c != '_' && c != '-' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Sensitive reports whether key is one to redact.
func (r *Redactor) Sensitive(key string) bool {
	if r == nil || len(r.keys) == 0 {
		return false
	}
	n := normalizeKey(key)
	for _, k := range r.keys {
		if strings.Contains(n, k) {
			return true
		}
	}
	return false
}

// JSON returns doc with the value of every sensitive key, at any depth,
// replaced by Redacted. A document that is not valid JSON is returned as a
// JSON string saying so, never as it was.
func (r *Redactor) JSON(doc []byte) json.RawMessage {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return json.RawMessage(`"[invalid JSON]"`)
	}
	out, err := json.Marshal(r.Value(v))
	if err != nil {
		return json.RawMessage(`"[unencodable]"`)
	}
	return out
}

// Value returns v (as decoded by encoding/json: maps, slices, scalars)
// with sensitive keys redacted; v itself is not changed.
func (r *Redactor) Value(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if r.Sensitive(k) {
				out[k] = Redacted
			} else {
				out[k] = r.Value(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = r.Value(x)
		}
		return out
	}
	return v
}

// PayloadAttr describes a context or result for a log line without its
// values: its size and its top-level keys (sensitive ones included by name
// only). Use it instead of logging a payload.
func PayloadAttr(name string, doc json.RawMessage) slog.Attr {
	var obj map[string]json.RawMessage
	attrs := []any{slog.Int("bytes", len(doc))}
	if json.Unmarshal(doc, &obj) == nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		attrs = append(attrs, slog.Any("keys", keys))
	}
	return slog.Group(name, attrs...)
}

// redactingHandler redacts attributes before the wrapped handler sees them.
type redactingHandler struct {
	next slog.Handler
	r    *Redactor
}

// NewRedactingHandler wraps next so that an attribute whose key is
// sensitive is logged as Redacted, and JSON values (json.RawMessage,
// map[string]any, []any) have their sensitive keys redacted at any depth.
func NewRedactingHandler(next slog.Handler, r *Redactor) slog.Handler {
	return &redactingHandler{next: next, r: r}
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	if len(h.r.keys) == 0 {
		return h.next.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), r: h.r}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	if h.r.Sensitive(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = h.attr(x)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch t := v.Any().(type) {
		case json.RawMessage:
			return slog.Any(a.Key, h.r.JSON(t))
		case map[string]any, []any:
			return slog.Any(a.Key, h.r.Value(t))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
