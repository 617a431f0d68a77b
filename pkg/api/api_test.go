package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
)

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name, method, target string
		status               int
		code, allow          string
	}{
		{"unknown path", "GET", "/v2/tasks", 404, api.CodeNotFound, ""},
		{"root", "GET", "/", 404, api.CodeNotFound, ""},
		{"too deep", "GET", "/v1/tasks/" + uuid.NewString() + "/workflow_steps/" + uuid.NewString() + "/audit/more", 404, api.CodeNotFound, ""},
		{"delete tasks", "DELETE", "/v1/tasks", 405, api.CodeMethodNotAllowed, "POST, GET"},
		{"post task", "POST", "/v1/tasks/" + uuid.NewString(), 405, api.CodeMethodNotAllowed, "GET, DELETE"},
		{"put step", "PUT", "/v1/tasks/" + uuid.NewString() + "/workflow_steps/" + uuid.NewString(), 405, api.CodeMethodNotAllowed, "GET, PATCH"},
		{"get pause", "GET", "/v1/tasks/" + uuid.NewString() + "/pause", 405, api.CodeMethodNotAllowed, "POST"},
		{"delete dlq entry", "DELETE", "/v1/dlq/entry/" + uuid.NewString(), 405, api.CodeMethodNotAllowed, "GET, PATCH"},
		{"put health", "PUT", "/health", 405, api.CodeMethodNotAllowed, "GET"},
		{"put templates", "PUT", "/v1/templates", 405, api.CodeMethodNotAllowed, "GET, POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, srv.Handler, tc.method, tc.target, "")
			errorOf(t, resp, tc.status, tc.code)
			require.Equal(t, tc.allow, resp.Headers["Allow"])
		})
	}
}

func TestTrailingSlashIsIgnored(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	decode[api.HealthResponse](t, do(t, srv.Handler, "GET", "/health/", ""), 200)
}

func TestHealth(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, path := range []string{"/health", "/health/live"} {
		h := decode[api.HealthResponse](t, do(t, srv.Handler, "GET", path, ""), 200)
		require.Equal(t, "healthy", h.Status)
		require.Equal(t, "test", h.Version)
	}
	resp := invokePayload(t, srv.Handler, fixture(t, "health-ready.json"))
	ready := decode[api.HealthResponse](t, resp, 200)
	require.Equal(t, map[string]string{"store": "ok"}, ready.Checks)
	require.Equal(t, "C8s3Kq1vjoEEMbQ=", resp.Headers["X-Request-Id"])
}

// TestInternalErrorsDoNotLeak runs the API on a table that does not exist:
// reads fail inside the AWS SDK, and the response must name the request id,
// not the Go error.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	fx := localtest.New(t)
	logs := &logBuffer{}
	missingTable := fx.Names.StateTable() + "-missing"
	eng, err := engine.New(engine.Config{
		Store: dynamo.New(fx.Env.DynamoDB, missingTable),
		Queue: sqsqueue.New(fx.Env.SQS, fx.Provisioned.QueueURLs), Names: fx.Names, Logger: newLogger(logs),
	})
	require.NoError(t, err)
	h, err := api.New(api.Config{Engine: eng, Logger: newLogger(logs)})
	require.NoError(t, err)

	task := uuid.NewString()
	for _, tc := range []struct{ method, target, body string }{
		{"GET", "/v1/tasks/" + task, ""},
		{"GET", "/v1/tasks/" + task + "/workflow_steps", ""},
		{"GET", "/v1/tasks/" + task + "/audit", ""},
		{"GET", "/v1/tasks?namespace=" + linearNS, ""},
		{"GET", "/v1/templates", ""},
		{"GET", "/v1/templates/a/b/1.0.0", ""},
		{"POST", "/v1/tasks", createBody(2, "")},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) { // sequential: the checks below read the same logs
			req := gatewayRequest(tc.method, tc.target, tc.body)
			req.RequestContext.RequestID = "rid-" + uuid.NewString()
			resp := invoke(t, h, req)
			e := errorOf(t, resp, 500, api.CodeInternal)
			require.Equal(t, "internal error; see logs (request_id "+req.RequestContext.RequestID+")", e.Message)
			require.NotContains(t, resp.Body, missingTable)
			require.NotContains(t, strings.ToLower(resp.Body), "dynamodb")
			require.Contains(t, logs.String(), req.RequestContext.RequestID, "the error is logged with the request id")
		})
	}
	resp := do(t, h, "GET", "/health/ready", "")
	ready := decode[api.HealthResponse](t, resp, 503)
	require.Equal(t, "unavailable", ready.Status)
	require.NotContains(t, resp.Body, missingTable)
	// Liveness does not touch the store.
	decode[api.HealthResponse](t, do(t, h, "GET", "/health/live", ""), 200)
	require.Contains(t, logs.String(), missingTable, "the logs carry the real error")
}

func TestNewRequiresEngine(t *testing.T) {
	t.Parallel()
	_, err := api.New(api.Config{})
	require.ErrorContains(t, err, "Engine")
}

// TestEveryRouteIsServed checks that Routes matches what Handle serves and
// that docs/api.md documents every route.
func TestEveryRouteIsServed(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	docs, err := os.ReadFile("../../docs/api.md")
	require.NoError(t, err)
	routes := srv.Handler.Routes()
	require.Len(t, routes, 22)
	for _, rt := range routes {
		require.Contains(t, string(docs), "`"+rt.Method+" "+rt.Path+"`", "docs/api.md documents %s %s", rt.Method, rt.Path)
		path := strings.NewReplacer("{task_uuid}", uuid.NewString(), "{step_uuid}", uuid.NewString(), "{entry_uuid}", uuid.NewString(),
			"{namespace}", "ns", "{name}", "n", "{version}", "1.0.0").Replace(rt.Path)
		resp := do(t, srv.Handler, rt.Method, path+"?namespace=ns", "{}")
		if resp.StatusCode == 404 {
			var e api.ErrorResponse
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &e))
			require.NotEqual(t, api.CodeNotFound, e.Error.Code, "%s %s is routed", rt.Method, rt.Path)
		}
		require.NotEqual(t, 405, resp.StatusCode)
	}
}

func TestHTTPHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	ts := httptest.NewServer(api.HTTPHandler(lambda.NewHandler(srv.Handler.Handle).Invoke))
	t.Cleanup(ts.Close)

	resp, err := http.Post(ts.URL+"/v1/tasks", "application/json", strings.NewReader(createBody(14, `"tags":["http"]`)))
	require.NoError(t, err)
	created := readJSON[api.TaskResponse](t, resp, 201)
	require.Equal(t, []string{"http"}, created.Tags)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	resp, err = http.Get(ts.URL + "/v1/tasks/" + created.TaskUUID)
	require.NoError(t, err)
	got := readJSON[api.TaskResponse](t, resp, 200)
	require.Len(t, got.Steps, 4)

	resp, err = http.Get(ts.URL + "/v1/tasks?namespace=" + linearNS + "&limit=1")
	require.NoError(t, err)
	list := readJSON[api.TaskList](t, resp, 200)
	require.Len(t, list.Tasks, 1)

	// A body that is not UTF-8 travels base64-encoded, as API Gateway sends it.
	resp, err = http.Post(ts.URL+"/v1/tasks", "application/octet-stream", strings.NewReader("\xff\xfe{"))
	require.NoError(t, err)
	e := readJSON[api.ErrorResponse](t, resp, 400)
	require.Equal(t, api.CodeInvalidJSON, e.Error.Code)

	req, err := http.NewRequest(http.MethodPatch, ts.URL+"/v1/tasks", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	readJSON[api.ErrorResponse](t, resp, 405)
	require.Equal(t, "POST, GET", resp.Header.Get("Allow"))
}

func TestHTTPHandlerLimitsAndFailures(t *testing.T) {
	t.Parallel()
	echo := func(_ context.Context, payload []byte) ([]byte, error) {
		var ev map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		body, _ := json.Marshal(ev)
		return json.Marshal(map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/json"}, "body": string(body)})
	}
	ts := httptest.NewServer(api.HTTPHandler(echo))
	t.Cleanup(ts.Close)

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/tasks?a=1&a=2&b=x", strings.NewReader(`{"x":1}`))
	require.NoError(t, err)
	req.Header.Set("X-Custom", "v")
	req.AddCookie(&http.Cookie{Name: "c", Value: "1"})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	ev := readJSON[map[string]any](t, resp, 200)
	require.Equal(t, "2.0", ev["version"])
	require.Equal(t, "$default", ev["routeKey"])
	require.Equal(t, "/v1/tasks", ev["rawPath"])
	require.Equal(t, "a=1&a=2&b=x", ev["rawQueryString"])
	require.Equal(t, map[string]any{"a": "1,2", "b": "x"}, ev["queryStringParameters"])
	require.Equal(t, `{"x":1}`, ev["body"])
	require.Equal(t, false, ev["isBase64Encoded"])
	require.Equal(t, []any{"c=1"}, ev["cookies"])
	headers := ev["headers"].(map[string]any)
	require.Equal(t, "v", headers["x-custom"])
	require.NotContains(t, headers, "cookie")
	rc := ev["requestContext"].(map[string]any)
	httpDesc := rc["http"].(map[string]any)
	require.Equal(t, "POST", httpDesc["method"])
	require.Equal(t, "/v1/tasks", httpDesc["path"])
	require.Equal(t, "127.0.0.1", httpDesc["sourceIp"])
	require.NotEmpty(t, rc["requestId"])
	require.NotEmpty(t, rc["time"])

	resp, err = http.Post(ts.URL+"/", "application/json", strings.NewReader(strings.Repeat("x", api.MaxHTTPBodyBytes+1)))
	require.NoError(t, err)
	require.Equal(t, api.CodePayloadTooLarge, readJSON[api.ErrorResponse](t, resp, 413).Error.Code)

	failing := httptest.NewServer(api.HTTPHandler(func(context.Context, []byte) ([]byte, error) {
		return nil, io.ErrUnexpectedEOF
	}))
	t.Cleanup(failing.Close)
	resp, err = http.Get(failing.URL + "/health")
	require.NoError(t, err)
	e := readJSON[api.ErrorResponse](t, resp, 502)
	require.NotContains(t, e.Error.Message, "EOF")
}

func readJSON[T any](t *testing.T, resp *http.Response, status int) T {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, "body: %s", b)
	var v T
	require.NoError(t, json.Unmarshal(b, &v), "body: %s", b)
	return v
}
