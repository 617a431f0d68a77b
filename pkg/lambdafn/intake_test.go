package lambdafn_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// fixtureKey is the API key the testdata login event pastes.
const fixtureKey = "tk_fixture_admin_0123456789abcdef"

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func fixtureAuth(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := lambdafn.AuthFromLookup(lookupOf(map[string]string{
		auth.EnvAPIKeys: "operator:" + fixtureKey + ":tasks:*,steps:*,templates:*,dlq:*",
	}))
	require.NoError(t, err)
	return a
}

func lookupOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// intakeClient invokes an Intake the way the Lambda runtime does.
type intakeClient struct {
	t      *testing.T
	invoke func(context.Context, []byte) ([]byte, error)
}

func newIntakeClient(t *testing.T, h *harness, a *auth.Authenticator) *intakeClient {
	t.Helper()
	in, err := lambdafn.NewIntake(lambdafn.IntakeConfig{Engine: h.eng, Auth: a, Clock: func() time.Time { return h.now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.Equal(t, a != nil, in.DashboardOn())
	return &intakeClient{t: t, invoke: lambda.NewHandler(in.Handle).Invoke}
}

// send invokes with a testdata event, its placeholders replaced and then
// edited by edit.
func (c *intakeClient) send(fixture string, replace map[string]string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	c.t.Helper()
	payload := string(loadEvent(c.t, fixture, nil))
	for k, v := range replace {
		payload = strings.ReplaceAll(payload, k, v)
	}
	var ev events.APIGatewayV2HTTPRequest
	require.NoError(c.t, json.Unmarshal([]byte(payload), &ev))
	if edit != nil {
		edit(&ev)
	}
	b, err := json.Marshal(ev)
	require.NoError(c.t, err)
	out, err := c.invoke(c.t.Context(), b)
	require.NoError(c.t, err)
	var resp events.APIGatewayV2HTTPResponse
	require.NoError(c.t, json.Unmarshal(out, &resp))
	return resp
}

// TestIntakeServesTheDashboard runs the deployed path in process: API
// Gateway events through the intake's handler (pkg/api, and the dashboard
// through the HTTP adapter) on the emulator. An operator logs in with a
// key, the session cookie opens the task list, and a step action is
// refused without the form's CSRF token and applied with it.
func TestIntakeServesTheDashboard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := newIntakeClient(t, h, fixtureAuth(t))

	// A task created through the API, as the authorizer lets it through.
	resp := c.send("apigw-v2-create-task.json", nil, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
	var created struct {
		TaskUUID string `json:"task_uuid"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &created))
	require.NotEmpty(t, created.TaskUUID)

	// Without a session, the task list sends the browser to log in.
	resp = c.send("apigw-v2-ui-tasks.json", nil, func(ev *events.APIGatewayV2HTTPRequest) { ev.Cookies = nil })
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Headers["Location"], "/ui/login?"), resp.Headers["Location"])

	// Log in: the key is kept in a Secure, HttpOnly, SameSite=Strict cookie.
	resp = c.send("apigw-v2-ui-login.json", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, resp.Body)
	require.Equal(t, "/ui/tasks?status=error", resp.Headers["Location"])
	require.Len(t, resp.Cookies, 1, "Set-Cookie travels in cookies (payload 2.0)")
	require.NotContains(t, resp.Headers, "Set-Cookie")
	cookie := resp.Cookies[0]
	for _, attr := range []string{"tasker_session=", "Path=/ui", "HttpOnly", "Secure", "SameSite=Strict"} {
		require.Contains(t, cookie, attr)
	}
	session := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "tasker_session=")
	withSession := map[string]string{"__SESSION__": session}

	// The cookie opens the task list, which shows the task.
	resp = c.send("apigw-v2-ui-tasks.json", withSession, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	require.False(t, resp.IsBase64Encoded)
	require.Equal(t, "text/html; charset=utf-8", resp.Headers["Content-Type"])
	require.Contains(t, resp.Headers["Content-Security-Policy"], "default-src 'self'")
	require.Contains(t, resp.Body, created.TaskUUID)
	m := csrfField.FindStringSubmatch(resp.Body)
	require.NotNil(t, m, "the page carries the session's CSRF token")
	csrf := m[1]

	// The stylesheet comes through as text.
	resp = c.send("apigw-v2-ui-static.json", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.False(t, resp.IsBase64Encoded)
	require.Contains(t, resp.Headers["Content-Type"], "text/css")
	require.NotEmpty(t, resp.Body)

	// A step action without the CSRF token is refused and changes nothing.
	steps, err := h.store.ListSteps(t.Context(), created.TaskUUID)
	require.NoError(t, err)
	step := stepNamed(t, steps, "a")
	action := map[string]string{"__SESSION__": session, "__TASK__": created.TaskUUID, "__STEP__": step.UUID}
	resp = c.send("apigw-v2-ui-step-action.json", action, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, resp.Body)
	require.Contains(t, resp.Body, "security token")
	steps, err = h.store.ListSteps(t.Context(), created.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, step.State, stepNamed(t, steps, "a").State)

	// With the token, the same form resolves the step.
	resp = c.send("apigw-v2-ui-step-action.json", action, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Body += "&csrf=" + csrf
	})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, resp.Body)
	steps, err = h.store.ListSteps(t.Context(), created.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, statemachine.StepResolvedManually, stepNamed(t, steps, "a").State)
}

// TestIntakeNeverLetsTheOpenRoutesReachTheAPI: the /ui routes have no
// Lambda authorizer, so whatever they carry goes to the dashboard; and a
// request reaching the API without the authorizer's principal is
// authenticated by the intake itself.
func TestIntakeNeverLetsTheOpenRoutesReachTheAPI(t *testing.T) {
	t.Parallel()
	c := newIntakeClient(t, newHarness(t), fixtureAuth(t))
	resp := c.send("apigw-v2-create-task.json", nil, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
	var created struct {
		TaskUUID string `json:"task_uuid"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &created))

	resp = c.send("apigw-v2-ui-tasks.json", nil, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Cookies, ev.RawPath, ev.RequestContext.HTTP.Path = nil, "/v1/tasks", "/v1/tasks"
	})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a /ui route with an API path gets the dashboard's 404")
	require.NotContains(t, resp.Body, created.TaskUUID)
	require.NotContains(t, resp.Headers["Content-Type"], "json")

	resp = c.send("apigw-v2-create-task.json", nil, func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RequestContext.Authorizer = nil
		delete(ev.Headers, "x-api-key")
	})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, resp.Body)
}

func TestIntakeRefusesTheDashboardWithoutAuth(t *testing.T) {
	t.Parallel()
	c := newIntakeClient(t, newHarness(t), nil)
	for _, fixture := range []string{"apigw-v2-ui-tasks.json", "apigw-v2-ui-login.json", "apigw-v2-ui-static.json"} {
		resp := c.send(fixture, nil, nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, fixture)
		require.Contains(t, resp.Body, "dashboard is turned off", fixture)
		require.Contains(t, resp.Body, "never served without authentication", fixture)
		require.Empty(t, resp.Cookies)
	}
	// The API behind the authorizer works as before.
	resp := c.send("apigw-v2-create-task.json", nil, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, resp.Body)
}

func TestAuthFromLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		wantErr  error // the error expected, if a sentinel
		otherErr bool  // an error other than ErrAuthNotConfigured
	}{
		{name: "api keys", env: map[string]string{auth.EnvAPIKeys: "ops:" + fixtureKey + ":tasks:read"}},
		{name: "nothing configured", env: map[string]string{}, wantErr: lambdafn.ErrAuthNotConfigured},
		{name: "auth turned off", env: map[string]string{auth.EnvAuthDisabled: "true"}, wantErr: lambdafn.ErrAuthNotConfigured},
		{name: "malformed keys", env: map[string]string{auth.EnvAPIKeys: "no-colons"}, otherErr: true},
		{name: "unknown permission", env: map[string]string{auth.EnvAPIKeys: "ops:k:tasks:explode"}, otherErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := lambdafn.AuthFromLookup(lookupOf(tt.env))
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
				require.Nil(t, a)
			case tt.otherErr:
				require.Error(t, err)
				require.NotErrorIs(t, err, lambdafn.ErrAuthNotConfigured)
				require.Nil(t, a)
			default:
				require.NoError(t, err)
				p, err := a.Authenticate(t.Context(), map[string]string{auth.HeaderAPIKey: fixtureKey})
				require.NoError(t, err)
				require.Equal(t, "ops", p.Subject)
			}
		})
	}
}

func stepNamed(t *testing.T, steps []*workflow.Step, name string) *workflow.Step {
	t.Helper()
	for _, s := range steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s", name)
	return nil
}
