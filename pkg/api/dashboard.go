package api

import "net/http"

// WithDashboard serves /ui and every path under /ui/ with ui (the operator
// dashboard, package dashboard) and every other path with next.
func WithDashboard(next, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/ui" || len(p) > 3 && p[:4] == "/ui/" {
			ui.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
