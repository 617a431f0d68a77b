package devstack

import "net/http"

// withTelemetry serves the stack's telemetry beside h, when it has some:
// GET /metrics (Prometheus text format) and GET /debug/traces (recent
// spans as JSON). Neither asks for credentials, like Tasker Core's
// /metrics: bind the listener to loopback.
func (s *Stack) withTelemetry(h http.Handler) http.Handler {
	if s.tel == nil {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
	mux.Handle("GET /debug/traces", s.tel.TracesHandler())
	return mux
}
