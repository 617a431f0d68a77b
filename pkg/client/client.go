// Package client is a Go client for Tasker's HTTP API (package api): it
// creates, lists, cancels, pauses and resumes tasks, reads tasks, steps,
// audit trails and templates, applies manual step actions (ResetStep,
// ResolveStep, CompleteStep), reads and updates the dead-letter queue, and
// can wait for a task to finish.
//
//	c := client.New("https://tasker.example.com", client.WithAPIKey(key))
//	task, err := c.CreateTask(ctx, engine.TaskRequest{Namespace: "billing", Name: "invoice", Context: ctx})
//
// Responses use package api's types, so client and server share one
// definition. A non-2xx response is returned as an *APIError carrying the
// API's error code, message and field.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/engine"
)

// maxResponseBytes bounds the response bodies the client reads.
const maxResponseBytes = 16 << 20

// Client calls the API. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	http   *http.Client
	apiKey string
	bearer string
	agent  string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithAPIKey sends key in the X-API-Key header.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithBearerToken sends token in the Authorization header.
func WithBearerToken(token string) Option { return func(c *Client) { c.bearer = token } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(agent string) Option { return func(c *Client) { c.agent = agent } }

// New returns a client for the API at baseURL (e.g. "http://127.0.0.1:8080"
// or an API Gateway stage URL such as "https://id.execute-api.eu-west-1.amazonaws.com/prod").
// An unparsable baseURL makes every call return an error.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{http: &http.Client{Timeout: 30 * time.Second}, agent: "tasker-go-client"}
	if u, err := url.Parse(strings.TrimSuffix(baseURL, "/")); err == nil && u.Scheme != "" && u.Host != "" {
		u.RawQuery, u.Fragment = "", ""
		c.base = u
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// APIError is a non-2xx answer from the API.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the API's error code (api.CodeInvalidRequest, ...); for a
	// response without the error envelope (a proxy's error page) it is
	// "http_<status>".
	Code    string
	Message string
	// Field names the request field or parameter at fault, if any.
	Field string
	// RequestID is the X-Request-Id of the response, for finding the logs.
	RequestID string
}

// Error formats the error as "<code>: <message> (field: <field>)".
func (e *APIError) Error() string {
	s := e.Code + ": " + e.Message
	if e.Field != "" {
		s += " (field: " + e.Field + ")"
	}
	return s
}

// CreateTask creates a task (POST /v1/tasks). The API answers a duplicate
// with an *APIError of code api.CodeDuplicateTask (409).
func (c *Client) CreateTask(ctx context.Context, req engine.TaskRequest) (*api.TaskResponse, error) {
	var out api.TaskResponse
	if err := c.do(ctx, http.MethodPost, "/v1/tasks", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetTask reads a task with its steps (GET /v1/tasks/{uuid}).
func (c *Client) GetTask(ctx context.Context, taskUUID string) (*api.TaskResponse, error) {
	var out api.TaskResponse
	if err := c.do(ctx, http.MethodGet, "/v1/tasks/"+url.PathEscape(taskUUID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListSteps reads a task's steps (GET /v1/tasks/{uuid}/workflow_steps).
func (c *Client) ListSteps(ctx context.Context, taskUUID string) ([]api.StepResponse, error) {
	var out []api.StepResponse
	if err := c.do(ctx, http.MethodGet, "/v1/tasks/"+url.PathEscape(taskUUID)+"/workflow_steps", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetStep reads one step, with its result even when it is stored out of line
// (GET /v1/tasks/{uuid}/workflow_steps/{step_uuid}).
func (c *Client) GetStep(ctx context.Context, taskUUID, stepUUID string) (*api.StepResponse, error) {
	var out api.StepResponse
	if err := c.do(ctx, http.MethodGet, stepPath(taskUUID, stepUUID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TaskAudit reads the transitions of a task and all its steps, ordered by
// time (GET /v1/tasks/{uuid}/audit).
func (c *Client) TaskAudit(ctx context.Context, taskUUID string) ([]api.AuditEntry, error) {
	var out []api.AuditEntry
	if err := c.do(ctx, http.MethodGet, "/v1/tasks/"+url.PathEscape(taskUUID)+"/audit", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// StepAudit reads one step's transitions
// (GET /v1/tasks/{uuid}/workflow_steps/{step_uuid}/audit).
func (c *Client) StepAudit(ctx context.Context, taskUUID, stepUUID string) ([]api.AuditEntry, error) {
	var out []api.AuditEntry
	if err := c.do(ctx, http.MethodGet, stepPath(taskUUID, stepUUID)+"/audit", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ListOptions select a page of tasks. Every filter is optional.
type ListOptions struct {
	// Namespace lists one namespace's tasks, newest first; without it the
	// order is unspecified (the API scans).
	Namespace string
	// Status is a task state, e.g. "error".
	Status       string
	Initiator    string
	SourceSystem string
	// Limit is the page size, 1–100; 0 means the API's default (25).
	Limit int
	// Cursor is the previous page's Pagination.NextCursor; "" for the first
	// page. It must be used with the same filters.
	Cursor string
}

// ListTasks reads one page of tasks, without their context and steps
// (GET /v1/tasks). Filters can leave a page short, even empty, while
// Pagination.HasNext is true: follow NextCursor until HasNext is false.
func (c *Client) ListTasks(ctx context.Context, opts ListOptions) (*api.TaskList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"namespace": opts.Namespace, "status": opts.Status,
		"initiator": opts.Initiator, "source_system": opts.SourceSystem} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out api.TaskList
	if err := c.do(ctx, http.MethodGet, "/v1/tasks", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTemplates reads the registered template versions (GET /v1/templates).
func (c *Client) ListTemplates(ctx context.Context) ([]api.TemplateSummary, error) {
	var out []api.TemplateSummary
	if err := c.do(ctx, http.MethodGet, "/v1/templates", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RegisterTemplate registers a template (POST /v1/templates); body is the
// template as YAML or JSON. It needs the templates:register permission.
func (c *Client) RegisterTemplate(ctx context.Context, body []byte) (*api.TemplateSummary, error) {
	var out api.TemplateSummary
	if err := c.do(ctx, http.MethodPost, "/v1/templates", nil, json.RawMessage(body), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetTemplate reads a registered template version in its canonical JSON
// form (GET /v1/templates/{ns}/{name}/{version}).
func (c *Client) GetTemplate(ctx context.Context, namespace, name, version string) (json.RawMessage, error) {
	var out json.RawMessage
	p := "/v1/templates/" + url.PathEscape(namespace) + "/" + url.PathEscape(name) + "/" + url.PathEscape(version)
	if err := c.do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Health checks that the API and its store answer (GET /health/ready). A
// store that does not answer is an *APIError with status 503.
func (c *Client) Health(ctx context.Context) (*api.HealthResponse, error) {
	var out api.HealthResponse
	if err := c.do(ctx, http.MethodGet, "/health/ready", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func stepPath(taskUUID, stepUUID string) string {
	return "/v1/tasks/" + url.PathEscape(taskUUID) + "/workflow_steps/" + url.PathEscape(stepUUID)
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	if c.base == nil {
		return errors.New("tasker client: invalid base URL (want e.g. http://127.0.0.1:8080)")
	}
	target := strings.TrimSuffix(c.base.String(), "/") + path // path segments are escaped
	if q := query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("X-API-Key", c.apiKey)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // its message repeats the method and URL
		}
		return fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// apiError builds the error for a non-2xx response.
func apiError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var env api.ErrorResponse
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message, e.Field = env.Error.Code, env.Error.Message, env.Error.Field
		return e
	}
	var health api.HealthResponse
	if json.Unmarshal(body, &health) == nil && health.Status != "" {
		e.Code, e.Message = health.Status, "the API is not ready"
		return e
	}
	e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
