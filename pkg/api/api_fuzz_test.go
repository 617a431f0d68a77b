package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
)

// maxFuzzBody caps fuzz bodies just above the handler's default limit, so
// the 413 path is reached without unbounded memory.
const maxFuzzBody = api.DefaultMaxBodyBytes + 1024

// badBodySeeds are task request bodies a careless or hostile caller sends.
var badBodySeeds = []string{
	createBody(2, ""),
	createBody(4, `"version":"1.0.0","initiator":"fuzz","tags":["a"],"priority":3,"idempotency_key":"k"`),
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","context":[1,2]}`,
	`{"namespace":"../etc","name":"x"}`,
	`{"namespace":"acceptance_linear","name":"TPL#x/y"}`,
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","version":"1.0#V"}`,
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","context":` + strings.Repeat(`{"a":`, 80) + `1` + strings.Repeat(`}`, 80) + `}`,
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","context":{"even_number":1e999}}`,
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","correlation_id":"nope"}`,
	`{"namespace":"acceptance_linear","name":"mathematical_sequence","priority":1e3}`,
	`{"name":1}`, `[]`, `null`, `{"namespace":"a"} trailing`, `{"namespace":"\ud800"}`,
}

// FuzzCreateTaskBody sends request bodies to POST /v1/tasks through the
// handler, backed by a real store on the embedded AWS emulator (one per
// fuzz process). Every answer is a 201, or a 4xx error envelope with a
// code and a message; never a 500 (a panic is answered with a 500 too).
// A 4xx writes nothing: the fuzz body's task never exists.
func FuzzCreateTaskBody(f *testing.F) {
	for _, b := range badBodySeeds {
		f.Add(b, false)
	}
	f.Add(base64.StdEncoding.EncodeToString([]byte(createBody(6, ""))), true)
	f.Add("not base64!", true)
	srv := apitest.New(f, linearTemplate)
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		if len(body) > maxFuzzBody {
			return
		}
		req := gatewayRequest("POST", "/v1/tasks", body)
		req.IsBase64Encoded = b64
		resp, err := srv.Handler.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch {
		case resp.StatusCode == 201:
			var task api.TaskResponse
			if err := json.Unmarshal([]byte(resp.Body), &task); err != nil || task.TaskUUID == "" {
				t.Fatalf("201 without a task: %v %s", err, resp.Body)
			}
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			requireReason(t, resp)
		default:
			t.Fatalf("status %d for body %q: %s", resp.StatusCode, body, resp.Body)
		}
	})
}

// requireReason requires an error envelope with a code and a message.
func requireReason(t *testing.T, resp events.APIGatewayV2HTTPResponse) api.ErrorDetail {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d without an error envelope with a reason: %v %s", resp.StatusCode, err, resp.Body)
	}
	return e.Error
}

// TestBadRequestsWriteNothing sends bad task requests and bad lookups
// through the HTTP handler on the embedded emulator: each is a 4xx naming
// the problem, and the table holds exactly the items it held before.
func TestBadRequestsWriteNothing(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	nested := func(depth int) string {
		return strings.Repeat(`[`, depth) + strings.Repeat(`]`, depth)
	}
	base := `"namespace":"acceptance_linear","name":"mathematical_sequence"`
	tests := []struct {
		name, method, target, body string
		status                     int
		field                      string
	}{
		{"unknown field", "POST", "/v1/tasks", `{` + base + `,"contexts":{}}`, 400, "contexts"},
		{"namespace with a path", "POST", "/v1/tasks", `{"namespace":"../acceptance_linear","name":"mathematical_sequence"}`, 400, "namespace"},
		{"namespace too long", "POST", "/v1/tasks", `{"namespace":"` + strings.Repeat("a", 30) + `","name":"x"}`, 400, "namespace"},
		{"name with a key separator", "POST", "/v1/tasks", `{"namespace":"acceptance_linear","name":"mathematical_sequence#V"}`, 400, "name"},
		{"name too long", "POST", "/v1/tasks", `{"namespace":"acceptance_linear","name":"` + strings.Repeat("n", 3000) + `"}`, 400, "name"},
		{"version with a slash", "POST", "/v1/tasks", `{` + base + `,"version":"1.0/../2.0"}`, 400, "version"},
		{"context nested too deep", "POST", "/v1/tasks", `{` + base + `,"context":{"a":` + nested(api.MaxContextDepth) + `}}`, 400, "context"},
		{"context too large", "POST", "/v1/tasks", `{` + base + `,"context":{"a":"` + strings.Repeat("x", api.MaxContextBytes) + `"}}`, 413, "context"},
		{"context not an object", "POST", "/v1/tasks", `{` + base + `,"context":[1]}`, 400, "context"},
		{"context against the schema", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":101}}`, 400, "/even_number"},
		{"options too large", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":2},"options":{"a":"` + strings.Repeat("x", api.MaxOptionsBytes) + `"}}`, 400, "options"},
		{"initiator too long", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":2},"initiator":"` + strings.Repeat("i", 256) + `"}`, 400, "initiator"},
		{"too many tags", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":2},"tags":[` + strings.TrimSuffix(strings.Repeat(`"t",`, 51), ",") + `]}`, 400, "tags"},
		{"priority out of range", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":2},"priority":101}`, 400, "priority"},
		{"correlation id not a UUID", "POST", "/v1/tasks", `{` + base + `,"context":{"even_number":2},"correlation_id":"x"}`, 400, "correlation_id"},
		{"unknown template", "POST", "/v1/tasks", `{"namespace":"acceptance_linear","name":"nope","context":{}}`, 404, ""},
		{"body too large", "POST", "/v1/tasks", `{` + base + `,"context":{"a":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}}`, 413, ""},
		{"trailing data", "POST", "/v1/tasks", `{` + base + `} {}`, 400, ""},
		{"template name with a key separator", "GET", "/v1/templates/acceptance_linear/a%23b/1.0.0", "", 400, "name"},
		{"template version too long", "GET", "/v1/templates/acceptance_linear/mathematical_sequence/" + strings.Repeat("1.", 1500) + "0", "", 400, "version"},
		{"list filter namespace too long", "GET", "/v1/tasks?namespace=" + strings.Repeat("n", 3000), "", 400, "namespace"},
		{"list filter initiator too long", "GET", "/v1/tasks?initiator=" + strings.Repeat("i", 3000), "", 400, "initiator"},
	}
	before := countItems(t, srv)
	for _, tc := range tests {
		resp := do(t, srv.Handler, tc.method, tc.target, tc.body)
		require.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, resp.Body)
		e := requireReason(t, resp)
		require.Equal(t, tc.field, e.Field, "%s: %s", tc.name, resp.Body)
	}
	require.Equal(t, before, countItems(t, srv), "a rejected request wrote to the table")
	createTask(t, srv.Handler, 2) // the table is writable: a good request does write
	require.Greater(t, countItems(t, srv), before)
}

// countItems counts every item of the server's table (consistent scan).
func countItems(t *testing.T, srv *apitest.Server) int32 {
	t.Helper()
	table := srv.Fixture.Names.StateTable()
	consistent := true
	var total int32
	in := &dynamodb.ScanInput{TableName: &table, Select: types.SelectCount, ConsistentRead: &consistent}
	for {
		out, err := srv.Fixture.Env.DynamoDB.Scan(context.Background(), in)
		require.NoError(t, err)
		total += out.Count
		if len(out.LastEvaluatedKey) == 0 {
			return total
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
