package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SpanStore keeps the most recent finished spans in memory and serves them
// as JSON (Handler), grouped by trace: `tasker dev`'s trace viewer, with no
// collector to run. It is a span exporter; it forgets the oldest spans
// beyond its limit.
type SpanStore struct {
	mu    sync.Mutex
	limit int
	spans []SpanJSON // ring buffer
	next  int
	full  bool
}

// SpanJSON is one span as SpanStore serves it.
type SpanJSON struct {
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_span_id,omitempty"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	DurationMS float64        `json:"duration_ms"`
	Status     string         `json:"status"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Events     []EventJSON    `json:"events,omitempty"`
}

// EventJSON is an event recorded on a span.
type EventJSON struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// TraceJSON is one trace: its spans, earliest first.
type TraceJSON struct {
	TraceID string     `json:"trace_id"`
	Spans   []SpanJSON `json:"spans"`
}

// NewSpanStore returns a store keeping the last limit spans (default 10000).
func NewSpanStore(limit int) *SpanStore {
	if limit <= 0 {
		limit = 10000
	}
	return &SpanStore{limit: limit, spans: make([]SpanJSON, limit)}
}

// ExportSpans implements sdktrace.SpanExporter.
func (s *SpanStore) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range spans {
		s.spans[s.next] = spanJSON(sp)
		s.next = (s.next + 1) % s.limit
		if s.next == 0 {
			s.full = true
		}
	}
	return nil
}

// Shutdown implements sdktrace.SpanExporter.
func (s *SpanStore) Shutdown(context.Context) error { return nil }

func spanJSON(sp sdktrace.ReadOnlySpan) SpanJSON {
	out := SpanJSON{
		TraceID: sp.SpanContext().TraceID().String(), SpanID: sp.SpanContext().SpanID().String(),
		Name: sp.Name(), Kind: sp.SpanKind().String(), Start: sp.StartTime(), End: sp.EndTime(),
		DurationMS: float64(sp.EndTime().Sub(sp.StartTime()).Microseconds()) / 1000,
		Status:     sp.Status().Code.String(),
	}
	if p := sp.Parent(); p.IsValid() {
		out.ParentID = p.SpanID().String()
	}
	if attrs := sp.Attributes(); len(attrs) > 0 {
		out.Attributes = make(map[string]any, len(attrs))
		for _, kv := range attrs {
			out.Attributes[string(kv.Key)] = kv.Value.AsInterface()
		}
	}
	for _, ev := range sp.Events() {
		out.Events = append(out.Events, EventJSON{Name: ev.Name, At: ev.Time})
	}
	return out
}

// Traces returns the stored spans grouped by trace, the most recently
// started trace first; traceID, when not empty, keeps only that trace.
func (s *SpanStore) Traces(traceID string) []TraceJSON {
	s.mu.Lock()
	n := s.next
	if s.full {
		n = s.limit
	}
	all := make([]SpanJSON, 0, n)
	for i := 0; i < n; i++ {
		if sp := s.spans[i]; traceID == "" || sp.TraceID == traceID {
			all = append(all, sp)
		}
	}
	s.mu.Unlock()
	byTrace := map[string]*TraceJSON{}
	var out []*TraceJSON
	for _, sp := range all {
		t, ok := byTrace[sp.TraceID]
		if !ok {
			t = &TraceJSON{TraceID: sp.TraceID}
			byTrace[sp.TraceID] = t
			out = append(out, t)
		}
		t.Spans = append(t.Spans, sp)
	}
	res := make([]TraceJSON, len(out))
	for i, t := range out {
		sort.Slice(t.Spans, func(a, b int) bool { return t.Spans[a].Start.Before(t.Spans[b].Start) })
		res[i] = *t
	}
	sort.Slice(res, func(a, b int) bool { return res[a].Spans[0].Start.After(res[b].Spans[0].Start) })
	return res
}

// Handler serves GET requests with {"traces": [...]}; the query parameter
// task_uuid (or trace_id) keeps one task's trace, limit bounds the traces
// returned (default 20).
func (s *SpanStore) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		id := r.URL.Query().Get("trace_id")
		if task := r.URL.Query().Get("task_uuid"); task != "" {
			id = strings.ReplaceAll(strings.ToLower(task), "-", "")
		}
		traces := s.Traces(id)
		limit := 20
		if v := r.URL.Query().Get("limit"); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				limit = n
			}
		}
		if len(traces) > limit {
			traces = traces[:limit]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"traces": traces})
	})
}
