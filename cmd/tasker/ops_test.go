package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
	"github.com/tasker-go/tasker/pkg/client"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
)

const conditionalTemplate = "../../templates/acceptance/conditional_approval.yaml"

// createLinear creates a linear task through the CLI and returns its UUID.
func createLinear(t *testing.T, apiURL string, even int) string {
	t.Helper()
	r := runCLI(t, "", "-o", "json", "task", "create", "acceptance_linear/mathematical_sequence",
		"--context", `{"even_number": `+itoaJSON(even)+`}`, "--api", apiURL)
	require.Equal(t, 0, r.code, r.stderr)
	var task api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &task))
	return task.TaskUUID
}

func itoaJSON(n int) string { b, _ := json.Marshal(n); return string(b) }

func engineRequest(ns, name, ctxJSON string) engine.TaskRequest {
	return engine.TaskRequest{Namespace: ns, Name: name, Context: json.RawMessage(ctxJSON)}
}

// keyRecorder is an API that answers GET /v1/templates with [] and records
// the X-API-Key of each request.
func keyRecorder(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		keys []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("X-API-Key"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), keys...)
	}
}

func writeConfig(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte(body), mode))
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	srv, keys := keyRecorder(t)
	home := t.TempDir()
	writeConfig(t, filepath.Join(home, ".config", "tasker", "config.yaml"), "api_url: "+srv.URL+"\napi_key: from-file\n", 0o600)
	explicit := filepath.Join(t.TempDir(), "other.yaml")
	writeConfig(t, explicit, "api_url: "+srv.URL+"\napi_key: from-explicit\n", 0o644)
	xdg := t.TempDir()
	writeConfig(t, filepath.Join(xdg, "tasker", "config.yaml"), "api_url: "+srv.URL+"\napi_key: from-xdg\n", 0o600)
	homeEnv := map[string]string{"HOME": home}

	r := runCLIEnv(t, homeEnv, "", "templates", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr, "a private config file gives no warning")
	r = runCLIEnv(t, map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}, "", "templates", "list")
	require.Equal(t, 0, r.code, r.stderr)
	r = runCLIEnv(t, map[string]string{"HOME": home, envAPIKey: "from-env"}, "", "templates", "list")
	require.Equal(t, 0, r.code, r.stderr)
	r = runCLIEnv(t, map[string]string{"HOME": home, envAPIKey: "from-env"}, "", "templates", "list", "--api-key", "from-flag")
	require.Equal(t, 0, r.code, r.stderr)
	r = runCLIEnv(t, homeEnv, "", "templates", "list", "--config", explicit)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "warning: "+explicit+" holds an API key and is readable by others")
	require.Equal(t, []string{"from-file", "from-xdg", "from-env", "from-flag", "from-explicit"}, keys())

	// The environment beats the file, and a flag beats the environment.
	r = runCLIEnv(t, map[string]string{"HOME": home, envAPIURL: "http://127.0.0.1:1"}, "", "templates", "list")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "127.0.0.1:1")
	r = runCLIEnv(t, map[string]string{"HOME": home, envAPIURL: "http://127.0.0.1:1"}, "", "templates", "list", "--api", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)

	bad := t.TempDir()
	unknownKey := filepath.Join(bad, "unknown.yaml")
	writeConfig(t, unknownKey, "api_url: "+srv.URL+"\napi_token: x\n", 0o600)
	badURL := filepath.Join(bad, "url.yaml")
	writeConfig(t, badURL, "api_url: ftp://example.com\n", 0o600)
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"unknown key", nil, []string{"--config", unknownKey}, "error: config file " + unknownKey + " (keys: api_url, api_key): "},
		{"missing --config", nil, []string{"--config", filepath.Join(bad, "nope.yaml")}, "error: --config: open "},
		{"bad api_url", nil, []string{"--config", badURL}, `error: api_url in ` + badURL + `: "ftp://example.com": want an http:// or https:// URL`},
		{"bad env URL", map[string]string{envAPIURL: "localhost:8080"}, nil, `error: $TASKER_API_URL: "localhost:8080": want an http:// or https:// URL`},
		{"bad flag URL", nil, []string{"--api", "http://"}, `error: --api: "http://" has no host`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLIEnv(t, tc.env, "", append([]string{"templates", "list"}, tc.args...)...)
			require.Equal(t, 2, r.code, r.stderr)
			require.True(t, strings.HasPrefix(r.stderr, tc.stderr), "stderr: %s", r.stderr)
		})
	}
	// Commands that need no API ignore a broken configuration.
	r = runCLI(t, "", "templates", "validate", linearTemplate, "--config", unknownKey)
	require.Equal(t, 0, r.code, r.stderr)
}

func TestTaskOperationCommands(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	apiFlag := "--api=" + srv.URL
	id := createLinear(t, srv.URL, 2)

	r := runCLI(t, "", "task", "pause", id, "--by", "ops", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "task "+id+" paused (steps_in_process)")
	r = runCLI(t, "", "-o", "json", "task", "resume", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var task api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &task))
	require.False(t, task.Paused)

	r = runCLIEnv(t, map[string]string{"USER": "carol"}, "", "task", "cancel", id, "--reason", "test over", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "task "+id+" cancelled")
	r = runCLI(t, "", "task", "audit", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "cancel: test over (by carol)")

	r = runCLI(t, "", "task", "pause", id, apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "error: conflict: task "+id+" has finished (cancelled)")
	r = runCLI(t, "", "task", "cancel", uuid.NewString(), apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "error: task_not_found")

	other := createLinear(t, srv.URL, 4)
	r = runCLI(t, "", "task", "list", "--status", "cancelled", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, id)
	require.NotContains(t, r.stdout, other)
	r = runCLI(t, "", "task", "list", "-n", "acceptance_linear", "--source-system", "api", "--limit", "1", "--all", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, id)
	require.Contains(t, r.stdout, other)
	require.NotContains(t, r.stdout, "more:")
	r = runCLI(t, "", "task", "list", "--initiator", "nobody", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, 1, strings.Count(r.stdout, "\n"), "only the header: %s", r.stdout)
	r = runCLI(t, "", "task", "list", "--status", "running", apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "(field: status)")
}

func TestStepCommandsAndWatch(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	apiFlag := "--api=" + srv.URL
	id := createLinear(t, srv.URL, 6)
	resultFile := filepath.Join(t.TempDir(), "result.json")
	require.NoError(t, os.WriteFile(resultFile, []byte(`{"result": 1296}`), 0o600))

	r := runCLI(t, "", "step", "complete", id, "linear_step_1", "--result", `{"result": 36}`, "--reason", "checked", "--by", "ops", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `linear_step_1\s+complete\s+0/3\s+\{"result":36\}`, r.stdout)
	require.Contains(t, r.stdout, "tasker task watch "+id)

	r = runCLI(t, "", "step", "retry", id, "linear_step_2", apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "error: invalid_state: step linear_step_2 in state enqueued cannot reset_for_retry")
	r = runCLI(t, "", "step", "resolve", id, "linear_step_9", apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, `has no step named "linear_step_9" (steps: linear_step_1, linear_step_2, linear_step_3, linear_step_4)`)

	usage := []struct {
		args   []string
		stderr string
	}{
		{[]string{"step", "complete", id, "linear_step_2"}, "error: --result: required"},
		{[]string{"step", "complete", id, "linear_step_2", "--result", `{"a": }`}, "error: --result: invalid JSON at line 1, column 7"},
		{[]string{"step", "complete", id, "linear_step_2", "--result", `null`}, "error: --result: must not be null"},
		{[]string{"step", "complete", id, "linear_step_2", "--result", "@/does/not/exist"}, "error: --result: open /does/not/exist"},
		{[]string{"step", "resolve", id}, "error: tasker step resolve takes 2 argument(s): TASK_UUID STEP; got 1"},
		{[]string{"step", "retry", id, "linear_step_2", "--result", "{}"}, "error: unknown flag: --result"},
	}
	for _, tc := range usage {
		r := runCLI(t, "", append(tc.args, apiFlag)...)
		require.Equal(t, 2, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stderr, tc.stderr), "stderr: %s", r.stderr)
	}

	// watch follows the task while the remaining steps are completed by hand.
	done := make(chan result, 1)
	go func() { done <- runCLI(t, "", "task", "watch", id, "--interval", "20ms", apiFlag) }()
	c := client.New(srv.URL)
	ctx := context.Background()
	steps, err := c.ListSteps(ctx, id)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	r = runCLI(t, "", "-o", "json", "step", "resolve", id, steps[1].StepUUID, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	time.Sleep(100 * time.Millisecond)
	r = runCLI(t, "", "step", "complete", id, "linear_step_3", "--result", "@"+resultFile, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	time.Sleep(100 * time.Millisecond)
	r = runCLI(t, `{"result": 1}`, "step", "complete", id, "linear_step_4", "--result", "@-", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var w result
	select {
	case w = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not end")
	}
	require.Equal(t, 0, w.code, w.stderr)
	require.Contains(t, w.stdout, "task "+id+"  acceptance_linear/mathematical_sequence:1.0.0")
	require.Regexp(t, `steps_in_process\s+\[######------------------\] 1/4 steps done \(25%\)`, w.stdout)
	require.Regexp(t, `✔ linear_step_2\s+resolved_manually`, w.stdout)
	require.Regexp(t, `complete\s+\[########################\] 4/4 steps done \(100%\)`, w.stdout)
	require.Regexp(t, `task `+id+` finished: complete \(4/4 steps complete\) after `, w.stdout)
	require.GreaterOrEqual(t, strings.Count(w.stdout, "  STEP"), 4, "a view per change: %s", w.stdout)

	r = runCLI(t, "", "-o", "json", "task", "watch", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var final api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &final))
	require.Equal(t, "complete", final.Status)

	unfinished := createLinear(t, srv.URL, 8)
	r = runCLI(t, "", "task", "watch", unfinished, "--interval", "20ms", "--timeout", "150ms", apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "error: task "+unfinished+" is still steps_in_process after 150ms (--timeout)")
	require.Equal(t, 1, strings.Count(r.stdout, "  STEP"), "nothing changed, one view: %s", r.stdout)
	runCLI(t, "", "task", "cancel", unfinished, apiFlag)
	r = runCLI(t, "", "task", "watch", unfinished, apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "finished: cancelled")
	r = runCLI(t, "", "task", "watch", unfinished, "--interval", "0s", apiFlag)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "error: --interval: must be positive")
}

func TestDLQCommands(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	apiFlag := "--api=" + srv.URL
	id := createLinear(t, srv.URL, 10)
	now := time.Now().UTC()
	entry := &dynamo.DLQEntry{UUID: uuid.NewString(), TaskUUID: id, Reason: dynamo.DLQReasonStaleness, ResolutionStatus: dynamo.DLQPending,
		Snapshot: json.RawMessage(`{"state":"steps_in_process","steps":[{"name":"linear_step_1","state":"in_progress"}]}`),
		Message:  "stale: no progress for 31m0s in steps_in_process", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, srv.Engine.Store().PutDLQEntry(context.Background(), entry))

	r := runCLI(t, "", "dlq", "list", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, entry.UUID+`\s+`+id+`\s+staleness_timeout\s+pending\s+\S+ \S+\s+stale: no progress`, r.stdout)
	r = runCLI(t, "", "dlq", "get", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `task state\s+steps_in_process`, r.stdout)
	require.Contains(t, r.stdout, `"name": "linear_step_1"`)
	r = runCLI(t, "", "dlq", "update", entry.UUID, "--status", "manually_resolved", "--notes", "re-ran it", "--by", "ops", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `status\s+manually_resolved`, r.stdout)
	require.Regexp(t, `resolved\s+\S+ \S+ by ops`, r.stdout)
	require.Regexp(t, `notes\s+re-ran it`, r.stdout)
	r = runCLI(t, "", "dlq", "stats", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `manually_resolved\s+1`, r.stdout)
	require.Regexp(t, `total\s+1`, r.stdout)
	r = runCLI(t, "", "-o", "json", "dlq", "list", "--status", "manually_resolved", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var list api.DLQList
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list.Entries, 1)

	usage := []struct {
		args   []string
		stderr string
	}{
		{[]string{"dlq", "list", "--status", "open"}, `error: --status: must be one of pending, manually_resolved, permanently_failed, cancelled, got "open"`},
		{[]string{"dlq", "update", entry.UUID}, "error: --status: required"},
		{[]string{"dlq", "update", entry.UUID, "--status", "fixed"}, "error: --status: must be one of"},
		{[]string{"dlq", "frobnicate"}, `error: unknown command "frobnicate" for "tasker dlq"`},
	}
	for _, tc := range usage {
		r := runCLI(t, "", append(tc.args, apiFlag)...)
		require.Equal(t, 2, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stderr, tc.stderr), "stderr: %s", r.stderr)
	}
	r = runCLI(t, "", "dlq", "update", uuid.NewString(), "--status", "cancelled", apiFlag)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "error: dlq_entry_not_found")
}

func TestTemplatesGraph(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate, conditionalTemplate)
	apiFlag := "--api=" + srv.URL

	r := runCLI(t, "", "templates", "graph", "acceptance_linear/mathematical_sequence", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `flowchart TD
  %% acceptance_linear/mathematical_sequence:1.0.0
  n_linear_step_1["linear_step_1<br/>math.square_even_number"]
  n_linear_step_2["linear_step_2<br/>math.square_parents_product"]
  n_linear_step_3["linear_step_3<br/>math.square_parents_product"]
  n_linear_step_4["linear_step_4<br/>math.square_parents_product"]
  n_linear_step_1 --> n_linear_step_2
  n_linear_step_2 --> n_linear_step_3
  n_linear_step_3 --> n_linear_step_4
`, r.stdout)

	r = runCLI(t, "", "templates", "graph", "acceptance_conditional/approval_routing:1.0.0", "--format", "dot", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `digraph "acceptance_conditional/approval_routing:1.0.0" {`)
	require.Contains(t, r.stdout, `"routing_decision" [label="routing_decision\napproval.route_by_amount", shape=diamond`)
	require.Contains(t, r.stdout, `"routing_decision" -> "auto_approve";`)
	require.Contains(t, r.stdout, `"finalize_approval" [label="finalize_approval\napproval.finalize", shape=ellipse`)

	// With a task: states label and style the nodes.
	c := client.New(srv.URL)
	task, err := c.CreateTask(context.Background(), engineRequest("acceptance_conditional", "approval_routing", `{"amount": 500}`))
	require.NoError(t, err)
	first := task.Steps[0]
	for _, s := range task.Steps {
		if s.Name == "validate_request" {
			first = s
		}
	}
	_, err = c.CompleteStep(context.Background(), task.TaskUUID, first.StepUUID, map[string]any{"valid": true}, "test", "ops")
	require.NoError(t, err)
	r = runCLI(t, "", "templates", "graph", "acceptance_conditional/approval_routing", "--task", task.TaskUUID, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `n_validate_request["validate_request<br/>complete"]`)
	require.Contains(t, r.stdout, `n_routing_decision{"routing_decision<br/>enqueued"}`)
	require.Contains(t, r.stdout, `n_auto_approve["auto_approve<br/>not_created"]`)
	require.Contains(t, r.stdout, "classDef done fill:#d4edda,stroke:#28a745\n  class n_validate_request done\n")
	require.Contains(t, r.stdout, "classDef running fill:#cce5ff,stroke:#004085\n  class n_routing_decision running\n")
	require.Regexp(t, `class n_auto_approve,n_manager_approval,n_finance_review\S* notcreated`, r.stdout)
	r = runCLI(t, "", "templates", "graph", "acceptance_conditional/approval_routing", "--task", task.TaskUUID, "--format", "dot", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"auto_approve" [label="auto_approve\nnot_created", fillcolor="#fafafa", color="#adb5bd", style="rounded,filled,dashed"];`)

	r = runCLI(t, "", "-o", "json", "templates", "graph", "acceptance_conditional/approval_routing", "--task", task.TaskUUID, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var gr stepGraph
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &gr))
	require.Len(t, gr.Nodes, 6)
	require.Len(t, gr.Edges, 7)
	require.Equal(t, "complete", gr.Nodes[0].State)

	bad := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"acceptance_linear/nope"}, 1, "error: no template is registered as acceptance_linear/nope"},
		{[]string{"acceptance_linear/mathematical_sequence:9.9.9"}, 1, "error: template_not_found"},
		{[]string{"acceptance_linear/mathematical_sequence", "--format", "png"}, 2, `error: --format: must be mermaid or dot, got "png"`},
		{[]string{"acceptance_linear/mathematical_sequence", "--task", task.TaskUUID}, 2, "error: --task: task " + task.TaskUUID + " runs acceptance_conditional/approval_routing:1.0.0, not acceptance_linear/mathematical_sequence"},
		{[]string{"nope"}, 2, `error: template "nope": want NAMESPACE/NAME`},
	}
	for _, tc := range bad {
		r := runCLI(t, "", append(append([]string{"templates", "graph"}, tc.args...), apiFlag)...)
		require.Equal(t, tc.code, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stderr, tc.stderr), "stderr: %s", r.stderr)
	}
	require.Regexp(t, regexp.MustCompile(`^flowchart TD`), runCLI(t, "", "templates", "graph", "acceptance_linear/mathematical_sequence", apiFlag).stdout)
}
