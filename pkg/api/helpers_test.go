package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
)

const (
	linearTemplate = "../../templates/acceptance/linear.yaml"
	linearNS       = "acceptance_linear"
	linearName     = "mathematical_sequence"
)

// newServer starts the API with the linear acceptance template registered.
func newServer(t *testing.T) *apitest.Server {
	t.Helper()
	return apitest.New(t, linearTemplate)
}

// invoke runs req through lambda.NewHandler(h.Handle).Invoke, so the event
// and the response go through the same JSON decoding as in Lambda.
func invoke(t *testing.T, h *api.Handler, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := json.Marshal(req)
	require.NoError(t, err)
	return invokePayload(t, h, payload)
}

func invokePayload(t *testing.T, h *api.Handler, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
	require.NoError(t, err)
	var resp events.APIGatewayV2HTTPResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	require.Equal(t, "application/json", resp.Headers["Content-Type"])
	require.NotEmpty(t, resp.Headers["X-Request-Id"])
	return resp
}

// fixture reads an API Gateway event from testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// gatewayRequest builds an API Gateway HTTP API event for method and target
// ("/path?query").
func gatewayRequest(method, target, body string) events.APIGatewayV2HTTPRequest {
	path, rawQuery, _ := strings.Cut(target, "?")
	var query map[string]string
	if rawQuery != "" {
		query = map[string]string{}
		for _, kv := range strings.Split(rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			query[k] = v
		}
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: rawQuery,
		Headers: map[string]string{"content-type": "application/json"}, QueryStringParameters: query, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", RequestID: "req-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-"),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1"},
		},
	}
}

func do(t *testing.T, h *api.Handler, method, target, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return invoke(t, h, gatewayRequest(method, target, body))
}

// decode unmarshals a response body, requiring the status.
func decode[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) T {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, "body: %s", resp.Body)
	var v T
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), "body: %s", resp.Body)
	return v
}

// errorOf requires an error envelope with the status and code.
func errorOf(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, code string) api.ErrorDetail {
	t.Helper()
	e := decode[api.ErrorResponse](t, resp, status)
	require.Equal(t, code, e.Error.Code, "body: %s", resp.Body)
	require.NotEmpty(t, e.Error.Message)
	return e.Error
}

func createBody(even int, extra string) string {
	b := `{"namespace":"` + linearNS + `","name":"` + linearName + `","context":{"even_number":` + itoa(even) + `}`
	if extra != "" {
		b += "," + extra
	}
	return b + "}"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func createTask(t *testing.T, h *api.Handler, even int) api.TaskResponse {
	t.Helper()
	return decode[api.TaskResponse](t, do(t, h, "POST", "/v1/tasks", createBody(even, "")), 201)
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger(w *logBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
