package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
)

func TestCreateTaskFromGatewayEvent(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp := invokePayload(t, srv.Handler, fixture(t, "create-task.json"))
	task := decode[api.TaskResponse](t, resp, 201)

	require.Equal(t, "C8s1bgw2joEEMnA=", resp.Headers["X-Request-Id"], "API Gateway's request id is echoed")
	require.Equal(t, "/v1/tasks/"+task.TaskUUID, resp.Headers["Location"])
	_, err := uuid.Parse(task.TaskUUID)
	require.NoError(t, err)
	require.Equal(t, linearNS, task.Namespace)
	require.Equal(t, linearName, task.Name)
	require.Equal(t, "1.0.0", task.Version)
	require.Equal(t, "steps_in_process", task.Status)
	require.JSONEq(t, `{"even_number":6}`, string(task.Context))
	require.Equal(t, "billing-service", task.Initiator)
	require.Equal(t, "nightly run", task.Reason)
	require.Equal(t, []string{"nightly"}, task.Tags)
	require.Equal(t, 5, task.Priority)
	require.NotEmpty(t, task.CorrelationID)
	require.False(t, task.CreatedAt.IsZero())
	require.Nil(t, task.CompletedAt)

	// The root step is enqueued; the other three wait for their parents.
	require.Equal(t, 4, task.TotalSteps)
	require.Equal(t, 3, task.PendingSteps)
	require.Equal(t, 1, task.InProgressSteps)
	require.Equal(t, 0, task.CompletedSteps)
	require.Equal(t, 0, task.FailedSteps)
	require.Equal(t, 0, task.ReadySteps)
	require.Equal(t, "processing", task.ExecutionStatus)
	require.Equal(t, "wait_for_completion", task.RecommendedAction)
	require.Equal(t, "healthy", task.HealthStatus)
	require.Zero(t, task.CompletionPercentage)
	require.Len(t, task.Steps, 4)

	first := task.Steps[0]
	require.Equal(t, "linear_step_1", first.Name)
	require.Equal(t, "enqueued", first.CurrentState)
	require.Equal(t, "math.square_even_number", first.Handler)
	require.Equal(t, "standard", first.StepType)
	require.Equal(t, 3, first.MaxAttempts)
	require.True(t, first.DependenciesSatisfied)
	require.Empty(t, first.Dependencies)
	require.NotNil(t, first.EnqueuedAt)
	second := task.Steps[1]
	require.Equal(t, "pending", second.CurrentState)
	require.Equal(t, []string{"linear_step_1"}, second.Dependencies)
	require.False(t, second.DependenciesSatisfied)
	require.False(t, second.ReadyForExecution)
	require.Equal(t, 1, second.TotalParents)
	require.Equal(t, 0, second.CompletedParents)
	require.JSONEq(t, "null", string(second.Results))
}

func TestCreateTaskBase64BodyUnderNamedStage(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp := invokePayload(t, srv.Handler, fixture(t, "create-task-base64-stage.json"))
	task := decode[api.TaskResponse](t, resp, 201)
	require.JSONEq(t, `{"even_number":8}`, string(task.Context))
	require.Equal(t, "1.0.0", task.Version, "the latest version is used when none is given")
	require.Equal(t, "system", task.Initiator)
}

func TestCreateTaskErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tests := []struct {
		name, body   string
		status       int
		code, field  string
		messageParts []string
	}{
		{name: "missing namespace", body: `{"name":"mathematical_sequence","context":{"even_number":2}}`,
			status: 400, code: api.CodeInvalidRequest, field: "namespace"},
		{name: "missing name", body: `{"namespace":"acceptance_linear"}`,
			status: 400, code: api.CodeInvalidRequest, field: "name"},
		{name: "unknown field", body: createBody(2, `"colour":"blue"`),
			status: 400, code: api.CodeInvalidRequest, field: "colour", messageParts: []string{`unknown field "colour"`}},
		{name: "invalid JSON", body: "{\n  \"namespace\": \"acceptance_linear\",\n  \"name\": }",
			status: 400, code: api.CodeInvalidJSON, messageParts: []string{"line 3, column 11:"}},
		{name: "truncated JSON", body: `{"namespace":"acceptance_linear"`,
			status: 400, code: api.CodeInvalidJSON, messageParts: []string{"unexpected end"}},
		{name: "trailing data", body: createBody(2, "") + `  {}`,
			status: 400, code: api.CodeInvalidJSON, messageParts: []string{"after the JSON object at line 1, column 95"}},
		{name: "empty body", body: ``, status: 400, code: api.CodeInvalidRequest},
		{name: "not an object", body: `[1,2]`, status: 400, code: api.CodeInvalidRequest},
		{name: "wrong type", body: createBody(2, `"priority":"high"`),
			status: 400, code: api.CodeInvalidRequest, field: "priority", messageParts: []string{"must be an integer"}},
		{name: "priority out of range", body: createBody(2, `"priority":101`),
			status: 400, code: api.CodeInvalidRequest, field: "priority"},
		{name: "context not an object", body: `{"namespace":"acceptance_linear","name":"mathematical_sequence","context":[1]}`,
			status: 400, code: api.CodeInvalidRequest, field: "context"},
		{name: "context missing required property", body: `{"namespace":"acceptance_linear","name":"mathematical_sequence","context":{}}`,
			status: 400, code: api.CodeInvalidContext, field: "/even_number"},
		{name: "context below minimum", body: createBody(1, ""),
			status: 400, code: api.CodeInvalidContext, field: "/even_number"},
		{name: "unknown template", body: `{"namespace":"acceptance_linear","name":"nope","context":{}}`,
			status: 404, code: api.CodeTemplateNotFound, messageParts: []string{"acceptance_linear/nope"}},
		{name: "unknown version", body: createBody(2, `"version":"9.9.9"`),
			status: 404, code: api.CodeTemplateNotFound, messageParts: []string{"mathematical_sequence:9.9.9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := errorOf(t, do(t, srv.Handler, "POST", "/v1/tasks", tc.body), tc.status, tc.code)
			require.Equal(t, tc.field, e.Field, "message: %s", e.Message)
			for _, part := range tc.messageParts {
				require.Contains(t, e.Message, part)
			}
		})
	}
}

func TestCreateTaskDuplicateIsConflict(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	createTask(t, srv.Handler, 10)
	// The same context with keys in another order and other spacing is the same identity.
	body := `{"name":"mathematical_sequence","namespace":"acceptance_linear","context":{ "even_number" : 10 }}`
	e := errorOf(t, do(t, srv.Handler, "POST", "/v1/tasks", body), 409, api.CodeDuplicateTask)
	require.NotContains(t, e.Message, "-", "the existing task's UUID is not disclosed")
	// Another context is another task.
	createTask(t, srv.Handler, 12)
}

func TestCreateTaskTooLarge(t *testing.T) {
	t.Parallel()
	t.Run("body over MaxBodyBytes", func(t *testing.T) {
		t.Parallel()
		srv := apitest.NewWithOptions(t, apitest.Options{MaxBodyBytes: 512}, linearTemplate)
		body := createBody(2, `"reason":"`+strings.Repeat("x", 600)+`"`)
		e := errorOf(t, do(t, srv.Handler, "POST", "/v1/tasks", body), 413, api.CodePayloadTooLarge)
		require.Contains(t, e.Message, "512")
	})
	t.Run("context over the store's limit", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t)
		body := `{"namespace":"acceptance_linear","name":"mathematical_sequence","context":{"even_number":2,"blob":"` +
			strings.Repeat("y", 300*1024) + `"}}`
		e := errorOf(t, do(t, srv.Handler, "POST", "/v1/tasks", body), 413, api.CodePayloadTooLarge)
		require.Equal(t, "context", e.Field)
	})
}

func TestGetTaskStepsAndAudit(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	created := createTask(t, srv.Handler, 4)

	got := decode[api.TaskResponse](t, do(t, srv.Handler, "GET", "/v1/tasks/"+created.TaskUUID, ""), 200)
	require.Equal(t, created.TaskUUID, got.TaskUUID)
	require.Equal(t, "steps_in_process", got.Status)
	require.JSONEq(t, `{"even_number":4}`, string(got.Context))
	require.Len(t, got.Steps, 4)

	// An upper-case UUID names the same task.
	upper := decode[api.TaskResponse](t, do(t, srv.Handler, "GET", "/v1/tasks/"+strings.ToUpper(created.TaskUUID), ""), 200)
	require.Equal(t, created.TaskUUID, upper.TaskUUID)

	steps := decode[[]api.StepResponse](t, do(t, srv.Handler, "GET", "/v1/tasks/"+created.TaskUUID+"/workflow_steps", ""), 200)
	require.Len(t, steps, 4)
	states := map[string]string{}
	for _, s := range steps {
		states[s.Name] = s.CurrentState
		require.Equal(t, created.TaskUUID, s.TaskUUID)
	}
	require.Equal(t, map[string]string{"linear_step_1": "enqueued", "linear_step_2": "pending",
		"linear_step_3": "pending", "linear_step_4": "pending"}, states)

	one := decode[api.StepResponse](t, do(t, srv.Handler, "GET", "/v1/tasks/"+created.TaskUUID+"/workflow_steps/"+steps[0].StepUUID, ""), 200)
	require.Equal(t, steps[0].Name, one.Name)
	require.Equal(t, steps[0].StepUUID, one.StepUUID)

	stepAudit := decode[[]api.AuditEntry](t, do(t, srv.Handler, "GET", "/v1/tasks/"+created.TaskUUID+"/workflow_steps/"+steps[0].StepUUID+"/audit", ""), 200)
	require.GreaterOrEqual(t, len(stepAudit), 2)
	require.Equal(t, "", stepAudit[0].FromState)
	require.Equal(t, "pending", stepAudit[0].ToState)
	require.Equal(t, "enqueued", stepAudit[len(stepAudit)-1].ToState)
	for _, e := range stepAudit {
		require.Equal(t, "linear_step_1", e.Entity)
		require.Equal(t, steps[0].StepUUID, e.StepUUID)
		require.Equal(t, created.CorrelationID, e.CorrelationID)
	}

	audit := decode[[]api.AuditEntry](t, do(t, srv.Handler, "GET", "/v1/tasks/"+created.TaskUUID+"/audit", ""), 200)
	require.Equal(t, "task", audit[0].Entity)
	require.Equal(t, "pending", audit[0].ToState)
	entities := map[string]int{}
	for i, e := range audit {
		entities[e.Entity]++
		if i > 0 {
			require.False(t, e.CreatedAt.Before(audit[i-1].CreatedAt), "audit is ordered by time")
		}
	}
	require.Len(t, entities, 5, "the task and its four steps: %v", entities)
	var taskStates []string
	for _, e := range audit {
		if e.Entity == "task" {
			taskStates = append(taskStates, e.ToState)
		}
	}
	require.Equal(t, "steps_in_process", taskStates[len(taskStates)-1])
}

func TestTaskReadErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	created := createTask(t, srv.Handler, 2)
	missing := uuid.NewString()
	tests := []struct {
		name, target string
		status       int
		code, field  string
	}{
		{"unknown task", "/v1/tasks/" + missing, 404, api.CodeTaskNotFound, "task_uuid"},
		{"unknown task steps", "/v1/tasks/" + missing + "/workflow_steps", 404, api.CodeTaskNotFound, "task_uuid"},
		{"unknown task audit", "/v1/tasks/" + missing + "/audit", 404, api.CodeTaskNotFound, "task_uuid"},
		{"unknown step", "/v1/tasks/" + created.TaskUUID + "/workflow_steps/" + missing, 404, api.CodeStepNotFound, "step_uuid"},
		{"unknown step audit", "/v1/tasks/" + created.TaskUUID + "/workflow_steps/" + missing + "/audit", 404, api.CodeStepNotFound, "step_uuid"},
		{"bad task uuid", "/v1/tasks/not-a-uuid", 400, api.CodeInvalidRequest, "task_uuid"},
		{"bad step uuid", "/v1/tasks/" + created.TaskUUID + "/workflow_steps/42", 400, api.CodeInvalidRequest, "step_uuid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := errorOf(t, do(t, srv.Handler, "GET", tc.target, ""), tc.status, tc.code)
			require.Equal(t, tc.field, e.Field)
		})
	}
}

func TestListTasks(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, n := range []int{2, 4, 6} {
		createTask(t, srv.Handler, n)
		time.Sleep(2 * time.Millisecond) // distinct creation times order the listing
	}

	first := decode[api.TaskList](t, do(t, srv.Handler, "GET", "/v1/tasks?namespace="+linearNS+"&limit=2", ""), 200)
	require.Len(t, first.Tasks, 2)
	require.Equal(t, 2, first.Pagination.Limit)
	require.True(t, first.Pagination.HasNext)
	require.NotEmpty(t, first.Pagination.NextCursor)
	for _, task := range first.Tasks {
		require.Nil(t, task.Steps, "listings leave steps out")
		require.Nil(t, task.Context, "listings leave the context out")
		require.Equal(t, 4, task.TotalSteps, "counts are still derived from the steps")
		require.Equal(t, 1, task.InProgressSteps)
	}
	require.True(t, first.Tasks[0].CreatedAt.After(first.Tasks[1].CreatedAt), "newest first")

	var seen []string
	for _, task := range first.Tasks {
		seen = append(seen, task.TaskUUID)
	}
	cursor := first.Pagination.NextCursor
	for cursor != "" {
		page := decode[api.TaskList](t, do(t, srv.Handler, "GET", "/v1/tasks?namespace="+linearNS+"&limit=2&cursor="+cursor, ""), 200)
		for _, task := range page.Tasks {
			seen = append(seen, task.TaskUUID)
		}
		cursor = page.Pagination.NextCursor
	}
	require.Len(t, seen, 3)

	empty := decode[api.TaskList](t, do(t, srv.Handler, "GET", "/v1/tasks?namespace=other", ""), 200)
	require.NotNil(t, empty.Tasks)
	require.Empty(t, empty.Tasks)
	require.False(t, empty.Pagination.HasNext)
	require.Equal(t, api.DefaultListLimit, empty.Pagination.Limit)

	bad := []struct{ name, target, field string }{
		{"unknown status", "/v1/tasks?status=running", "status"},
		{"limit zero", "/v1/tasks?namespace=" + linearNS + "&limit=0", "limit"},
		{"limit too big", "/v1/tasks?namespace=" + linearNS + "&limit=101", "limit"},
		{"limit not a number", "/v1/tasks?namespace=" + linearNS + "&limit=ten", "limit"},
		{"garbage cursor", "/v1/tasks?namespace=" + linearNS + "&cursor=%%%", "cursor"},
		{"cursor of another namespace", "/v1/tasks?namespace=other&cursor=" + first.Pagination.NextCursor, "cursor"},
		{"cursor of other filters", "/v1/tasks?namespace=" + linearNS + "&status=complete&cursor=" + first.Pagination.NextCursor, "cursor"},
		{"cursor without its namespace", "/v1/tasks?cursor=" + first.Pagination.NextCursor, "cursor"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := errorOf(t, do(t, srv.Handler, "GET", tc.target, ""), 400, api.CodeInvalidRequest)
			require.Equal(t, tc.field, e.Field)
		})
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate, "../../templates/acceptance/diamond.yaml")
	list := decode[[]api.TemplateSummary](t, do(t, srv.Handler, "GET", "/v1/templates", ""), 200)
	require.Len(t, list, 2)
	var linear api.TemplateSummary
	for _, s := range list {
		if s.Namespace == linearNS {
			linear = s
		}
	}
	require.Equal(t, api.TemplateSummary{Namespace: linearNS, Name: linearName, Version: "1.0.0",
		Description: "Four steps in a chain; each squares its parent's result.", StepCount: 4}, linear)

	resp := do(t, srv.Handler, "GET", "/v1/templates/"+linearNS+"/"+linearName+"/1.0.0", "")
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	var tpl struct {
		NamespaceName string `json:"namespace_name"`
		Steps         []struct {
			Name  string `json:"name"`
			Retry struct {
				MaxAttempts int `json:"max_attempts"`
			} `json:"retry"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &tpl))
	require.Equal(t, linearNS, tpl.NamespaceName)
	require.Len(t, tpl.Steps, 4)
	require.Equal(t, 3, tpl.Steps[0].Retry.MaxAttempts, "the canonical form has defaults filled in")

	errorOf(t, do(t, srv.Handler, "GET", "/v1/templates/"+linearNS+"/"+linearName+"/2.0.0", ""), 404, api.CodeTemplateNotFound)
}
