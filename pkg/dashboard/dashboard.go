package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/engine"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/ui"

//go:embed templates/*.html static/*
var assets embed.FS

// Config wires a Handler.
type Config struct {
	// Engine reads tasks, steps, templates and DLQ entries and applies the
	// operators' actions; required.
	Engine *engine.Engine
	// Auth authenticates the credential of the session cookie; nil (or a
	// disabled authenticator) serves the dashboard without login, as
	// `tasker dev --insecure` serves the API.
	Auth *auth.Authenticator
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// Handler serves the dashboard under Prefix. It is safe for concurrent use.
type Handler struct {
	engine  *engine.Engine
	auth    *auth.Authenticator
	log     *slog.Logger
	clock   func() time.Time
	pages   map[string]*template.Template
	static  fs.FS
	version string // a hash of the static files, to bust caches
	mux     *http.ServeMux
}

// New returns a dashboard handler. It returns an error when Config.Engine
// is missing or an embedded template does not parse.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("dashboard: Config.Engine is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	h := &Handler{engine: cfg.Engine, auth: cfg.Auth, log: cfg.Logger, clock: cfg.Clock}
	if h.auth != nil && h.auth.Disabled() {
		h.auth = nil
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	h.static = static
	if h.version, err = staticVersion(static); err != nil {
		return nil, err
	}
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	h.mux = h.routes()
	return h, nil
}

// ServeHTTP serves one request under Prefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

// routes maps every dashboard path; anything else is the 404 page.
func (h *Handler) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /ui/static/{file}", h.serveStatic)
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("POST /ui/logout", h.logout)
	m.Handle("GET /ui", http.RedirectHandler(Prefix+"/tasks", http.StatusFound))
	m.Handle("GET /ui/{$}", http.RedirectHandler(Prefix+"/tasks", http.StatusFound))
	m.Handle("GET /ui/tasks", h.page(h.taskList, auth.TasksList))
	m.Handle("GET /ui/api/tasks", h.api(h.taskListJSON, auth.TasksList))
	m.Handle("GET /ui/tasks/{task}", h.page(h.taskPage, auth.TasksRead, auth.StepsRead))
	m.Handle("GET /ui/api/tasks/{task}", h.api(h.taskJSON, auth.TasksRead, auth.StepsRead))
	m.Handle("POST /ui/tasks/{task}/steps/{step}/action", h.action(h.stepAction, auth.StepsResolve))
	m.Handle("GET /ui/dlq", h.page(h.dlqPage, auth.DLQRead))
	m.Handle("POST /ui/dlq/{entry}", h.action(h.dlqUpdate, auth.DLQUpdate))
	m.Handle("GET /ui/templates", h.page(h.templateList, auth.TemplatesRead))
	m.Handle("GET /ui/templates/{ns}/{name}/{version}", h.page(h.templatePage, auth.TemplatesRead))
	m.Handle("/ui/", h.page(h.notFound))
	return m
}

// serveStatic serves the embedded script and stylesheet; they are public.
func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") == h.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, h.static, r.PathValue("file"))
}

// staticVersion hashes the static files.
func staticVersion(static fs.FS) (string, error) {
	sum := sha256.New()
	err := fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		sum.Write([]byte(path))
		sum.Write(b)
		return err
	})
	return hex.EncodeToString(sum.Sum(nil))[:12], err
}

// render writes a page with the given status. A template error is logged
// and answered with a plain 500, never with the error.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := h.pages[page]
	if !ok {
		h.fail(w, r, errors.New("dashboard: no page "+page))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail logs an internal error and answers 500 without its text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "dashboard: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
}
