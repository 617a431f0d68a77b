package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/engine"
)

// DefaultMaxBodyBytes is the largest request body accepted when
// Config.MaxBodyBytes is not set.
const DefaultMaxBodyBytes = 1 << 20

// Config wires a Handler.
type Config struct {
	// Engine creates tasks and gives access to the store; required.
	Engine *engine.Engine
	// Logger receives one line per request and every internal error;
	// default slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int
	// Version is reported by the health routes when set.
	Version string
	// Clock returns the current time, used to decide which retries are due;
	// default time.Now.
	Clock func() time.Time
	// Auth, when set, authenticates every request (X-API-Key or a bearer
	// JWT) and checks the route's permission: 401 without valid
	// credentials, 403 without the permission. Nil trusts the caller: behind
	// API Gateway the Lambda authorizer has checked (its principal is
	// re-checked here), and `tasker dev --insecure` runs without auth.
	// Health routes are always open.
	Auth *auth.Authenticator
}

// Handler serves the API. It is safe for concurrent use.
type Handler struct {
	engine  *engine.Engine
	log     *slog.Logger
	maxBody int
	version string
	clock   func() time.Time
	routes  []route
	auth    *auth.Authenticator
}

// New returns a handler; it returns an error when Config.Engine is missing.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("api: Config.Engine is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	h := &Handler{engine: cfg.Engine, log: cfg.Logger, maxBody: cfg.MaxBodyBytes, version: cfg.Version, clock: cfg.Clock, auth: cfg.Auth}
	h.routes = h.routeTable()
	return h, nil
}

// Route is one method and path the API serves. Path parameters are written
// in braces, e.g. "/v1/tasks/{task_uuid}".
type Route struct {
	Method string
	Path   string
}

// Routes returns every route the handler serves, in the order they are matched.
func (h *Handler) Routes() []Route {
	out := make([]Route, len(h.routes))
	for i, r := range h.routes {
		out[i] = r.Route
	}
	return out
}

// request is what a route's function sees of an HTTP request.
type request struct {
	id     string
	method string
	path   string
	params map[string]string
	query  map[string]string
	body   []byte
}

// Handle serves one API Gateway HTTP API (payload 2.0) request. It never
// returns an error: every problem is answered with the error envelope, and
// internal failures (logged with the request id) with a 500.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	start := time.Now()
	r := &request{id: requestID(req), method: strings.ToUpper(req.RequestContext.HTTP.Method), path: requestPath(req), query: req.QueryStringParameters}
	var res response
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "api: panic", "request_id", r.id, "method", r.method, "path", r.path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = internalResponse(r.id)
			resp = res.encode(r.id)
		}
		h.log.InfoContext(ctx, "api request", "request_id", r.id, "method", r.method, "path", r.path,
			"status", resp.StatusCode, "duration_ms", time.Since(start).Milliseconds())
	}()
	res = h.serve(ctx, r, req)
	return res.encode(r.id), nil
}

func (h *Handler) serve(ctx context.Context, r *request, req events.APIGatewayV2HTTPRequest) response {
	rt, params, allowed := h.match(r.method, r.path)
	switch {
	case rt == nil && len(allowed) > 0:
		res := errorResponse(405, CodeMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.method, r.path, strings.Join(allowed, ", ")), "")
		res.headers = map[string]string{"Allow": strings.Join(allowed, ", ")}
		return res
	case rt == nil:
		return errorResponse(404, CodeNotFound, fmt.Sprintf("no route for %s %s", r.method, r.path), "")
	}
	r.params = params
	if perm, needed := auth.RequiredPermission(r.method, r.path); needed {
		if res, ok := h.authorize(ctx, req, perm); !ok {
			return res
		}
	}
	body, res, ok := h.readBody(req)
	if !ok {
		return res
	}
	r.body = body
	return rt.serve(ctx, r)
}

// readBody decodes a base64 body and enforces MaxBodyBytes.
func (h *Handler) readBody(req events.APIGatewayV2HTTPRequest) ([]byte, response, bool) {
	if req.Body == "" {
		return nil, response{}, true
	}
	// A base64 body is a third larger than its content; reject by the
	// decoded size, but refuse to decode absurd inputs.
	if len(req.Body) > 2*h.maxBody+16 {
		return nil, tooLarge(h.maxBody), false
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, errorResponse(400, CodeInvalidRequest, "the request body is marked base64-encoded but is not valid base64", ""), false
		}
		body = b
	}
	if len(body) > h.maxBody {
		return nil, tooLarge(h.maxBody), false
	}
	return body, response{}, true
}

func tooLarge(limit int) response {
	return errorResponse(413, CodePayloadTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit), "")
}

// requestID returns API Gateway's request id, or a new one.
func requestID(req events.APIGatewayV2HTTPRequest) string {
	if id := req.RequestContext.RequestID; id != "" {
		return id
	}
	return uuid.NewString()
}

// requestPath returns the path without a named stage's prefix (API Gateway
// includes it in rawPath) and without a trailing slash.
func requestPath(req events.APIGatewayV2HTTPRequest) string {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if stage := req.RequestContext.Stage; stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(p, "/"+stage+"/"); ok {
			p = "/" + rest
		}
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" {
		p = "/"
	}
	return p
}

// match finds the route for method and path. When the path matches routes
// of other methods only, it returns no route and the allowed methods.
func (h *Handler) match(method, path string) (*route, map[string]string, []string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var allowed []string
	for i := range h.routes {
		rt := &h.routes[i]
		params, ok := rt.matchPath(segs)
		if !ok {
			continue
		}
		if rt.Method == method {
			return rt, params, nil
		}
		allowed = append(allowed, rt.Method)
	}
	return nil, nil, allowed
}

// route is a Route with its matcher and the function serving it.
type route struct {
	Route
	segs  []string
	serve func(context.Context, *request) response
}

func newRoute(method, path string, serve func(context.Context, *request) response) route {
	return route{Route: Route{Method: method, Path: path}, segs: strings.Split(strings.TrimPrefix(path, "/"), "/"), serve: serve}
}

func (rt *route) matchPath(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	var params map[string]string
	for i, s := range rt.segs {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, "}")] = v
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// routeTable lists the routes; more specific paths need no ordering since
// matching is by segment count and literal segments.
func (h *Handler) routeTable() []route {
	return []route{
		newRoute("POST", "/v1/tasks", h.createTask),
		newRoute("GET", "/v1/tasks", h.listTasks),
		newRoute("GET", "/v1/tasks/{task_uuid}", h.getTask),
		newRoute("DELETE", "/v1/tasks/{task_uuid}", h.cancelTask),
		newRoute("GET", "/v1/tasks/{task_uuid}/audit", h.taskAudit),
		newRoute("POST", "/v1/tasks/{task_uuid}/pause", h.pauseTask),
		newRoute("POST", "/v1/tasks/{task_uuid}/resume", h.resumeTask),
		newRoute("GET", "/v1/tasks/{task_uuid}/workflow_steps", h.listSteps),
		newRoute("GET", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", h.getStep),
		newRoute("PATCH", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}", h.patchStep),
		newRoute("GET", "/v1/tasks/{task_uuid}/workflow_steps/{step_uuid}/audit", h.stepAudit),
		newRoute("GET", "/v1/templates", h.listTemplates),
		newRoute("POST", "/v1/templates", h.registerTemplate),
		newRoute("GET", "/v1/templates/{namespace}/{name}/{version}", h.getTemplate),
		newRoute("GET", "/v1/dlq", h.listDLQ),
		newRoute("GET", "/v1/dlq/stats", h.dlqStats),
		newRoute("GET", "/v1/dlq/task/{task_uuid}", h.dlqForTask),
		newRoute("GET", "/v1/dlq/entry/{entry_uuid}", h.getDLQEntry),
		newRoute("PATCH", "/v1/dlq/entry/{entry_uuid}", h.updateDLQEntry),
		newRoute("GET", "/health", h.health),
		newRoute("GET", "/health/live", h.health),
		newRoute("GET", "/health/ready", h.ready),
	}
}
