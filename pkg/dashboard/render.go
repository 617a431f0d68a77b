package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string // the highlighted navigation entry
	Session *session
	Static  string // cache-busting version of the static files
	Data    any
}

// pageNames are the page templates; each defines "content" for base.html.
var pageNames = []string{"login", "tasks", "task", "dlq", "templates", "template", "error"}

var funcs = template.FuncMap{
	"when":     when,
	"ago":      func(t time.Time) string { return ago(t, time.Now()) },
	"duration": duration,
	"short":    shortID,
	"pretty":   prettyJSON,
	"f0":       func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1":       func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"buttons":  func(row stepRow, back string) stepButtons { return stepButtons{Row: row, Return: back} },
}

// stepButtons is the view of one step's action buttons.
type stepButtons struct {
	Row    stepRow
	Return string
}

// parsePages parses base.html and the shared partials with each page.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/base.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = t
	}
	return out, nil
}

// show renders a page inside the layout.
func (h *Handler) show(w http.ResponseWriter, r *http.Request, s *session, status int, page, title, nav string, data any) {
	h.render(w, r, status, page, view{Title: title, Nav: nav, Session: s, Static: h.version, Data: data})
}

// errorData is the error page's view.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// errorPage answers with the error page.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.show(w, r, s, status, "error", http.StatusText(status), "", errorData{Status: status, Heading: http.StatusText(status), Message: msg})
}

// notFound is the page of any unknown dashboard path.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	h.errorPage(w, r, s, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// when formats a time for a table cell ("" for the zero time).
func when(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05.000")
	case *time.Time:
		if v == nil {
			return ""
		}
		return when(*v)
	}
	return ""
}

// ago says how long before now t was, coarsely.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// duration formats the time between two instants ("" unless both are set).
func duration(from, to *time.Time) string {
	if from == nil || to == nil || to.Before(*from) {
		return ""
	}
	return formatDuration(to.Sub(*from))
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// maxShownJSON bounds a result or context shown on a page.
const maxShownJSON = 8 << 10

// prettyJSON indents JSON for display, cut to maxShownJSON.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		b.Reset()
		b.Write(raw)
	}
	s := b.String()
	if len(s) > maxShownJSON {
		s = strings.ToValidUTF8(s[:maxShownJSON], "") + "\n… (cut)"
	}
	return s
}

// shortID shows the tail of a UUID: version 7 UUIDs made close together
// share their first characters (the time), not their last.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return "…" + id[len(id)-12:]
}
