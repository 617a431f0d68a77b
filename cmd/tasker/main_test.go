package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
)

const linearTemplate = "../../templates/acceptance/linear.yaml"

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the CLI in-process with no environment.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCLIEnv(t, nil, stdin, args...)
}

func runCLIEnv(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func TestTemplatesValidateRepositoryTemplates(t *testing.T) {
	t.Parallel()
	r := runCLI(t, "", "templates", "validate", "../../templates")
	require.Equal(t, 0, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Greater(t, len(lines), 5)
	okLine := regexp.MustCompile(`^ok  \.\./\.\./templates/\S+\.ya?ml  [a-z0-9_]+/[a-z0-9_]+:\S+ \(\d+ steps?\)$`)
	for _, l := range lines[:len(lines)-1] {
		require.Regexp(t, okLine, l)
	}
	require.Regexp(t, `^\d+ valid, 0 invalid$`, lines[len(lines)-1])
	require.Contains(t, r.stdout, "ok  ../../templates/acceptance/linear.yaml  acceptance_linear/mathematical_sequence:1.0.0 (4 steps)")
}

func TestTemplatesValidateBrokenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	require.NoError(t, os.WriteFile(broken, []byte(`name: broken
namespace: demo
version: "1.0.0"
steps:
  - name: first
    handler: h
    dependencies: [missing]
`), 0o600))
	r := runCLI(t, "", "templates", "validate", broken, linearTemplate)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, broken+`: steps[0].dependencies[0]: unknown step "missing" (line 7)`)
	require.Contains(t, r.stdout, "ok  "+linearTemplate)
	require.Contains(t, r.stdout, "1 valid, 1 invalid")

	r = runCLI(t, "", "-o", "json", "templates", "validate", dir)
	require.Equal(t, 1, r.code)
	var results []validation
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &results))
	require.Len(t, results, 1)
	require.False(t, results[0].OK)
	require.Equal(t, "steps[0].dependencies[0]", results[0].Problems[0].Path)

	r = runCLI(t, "", "templates", "validate", filepath.Join(dir, "nope.yaml"))
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "nope.yaml: no such file or directory")
}

func TestTemplatesValidateDuplicateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile(linearTemplate)
	require.NoError(t, err)
	for _, n := range []string{"a.yaml", "b.yml"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), data, 0o600))
	}
	r := runCLI(t, "", "templates", "validate", dir)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "b.yml: template acceptance_linear/mathematical_sequence:1.0.0 is also defined in "+filepath.Join(dir, "a.yaml"))
}

func TestTaskRoundTrip(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	apiFlag := "--api=" + srv.URL

	r := runCLI(t, "", "task", "create", "acceptance_linear/mathematical_sequence", "--context", `{"even_number": 6}`,
		"--tag", "a", "--tag", "b", "--priority", "7", "--reason", "cli test", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	m := regexp.MustCompile(`created task ([0-9a-f-]{36})  acceptance_linear/mathematical_sequence:1\.0\.0`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	id := m[1]
	require.Contains(t, r.stdout, "status: steps_in_process")

	r = runCLI(t, "", "-o", "json", "task", "get", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	var task api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &task))
	require.Equal(t, []string{"a", "b"}, task.Tags)
	require.Equal(t, 7, task.Priority)
	require.Equal(t, "cli test", task.Reason)
	require.JSONEq(t, `{"even_number": 6}`, string(task.Context))

	r = runCLI(t, "", "task", "get", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "steps_in_process")
	require.Regexp(t, `linear_step_1\s+enqueued\s+0/3`, r.stdout)

	r = runCLI(t, "", "task", "steps", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^STEP\s+STATE\s+ATTEMPTS\s+RESULT$`, r.stdout)
	require.Regexp(t, `linear_step_1\s+enqueued\s+0/3`, r.stdout)
	require.Regexp(t, `linear_step_2\s+pending\s+0/3\s+waiting for 1/1 parents`, r.stdout)

	r = runCLI(t, "", "task", "audit", id, apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `task\s+\(new\) → pending\s+create`, r.stdout)
	require.Regexp(t, `task\s+enqueuing_steps → steps_in_process\s+steps_enqueued`, r.stdout)
	require.Regexp(t, `linear_step_1\s+pending → enqueued\s+enqueue\s+1`, r.stdout)

	r = runCLI(t, "", "task", "list", "--namespace", "acceptance_linear", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, id+`\s+acceptance_linear/mathematical_sequence:1\.0\.0\s+steps_in_process\s+0/4`, r.stdout)

	r = runCLI(t, "", "templates", "list", apiFlag)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `acceptance_linear\s+mathematical_sequence\s+1\.0\.0\s+4\s+Four steps`, r.stdout)
}

func TestTaskCreateContextSources(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	file := filepath.Join(t.TempDir(), "ctx.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"even_number": 8}`), 0o600))

	r := runCLI(t, "", "-o", "json", "task", "create", "acceptance_linear/mathematical_sequence:1.0.0", "--context", "@"+file, "--api", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
	var task api.TaskResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &task))
	require.JSONEq(t, `{"even_number": 8}`, string(task.Context))

	r = runCLI(t, `{"even_number": 10}`, "task", "create", "acceptance_linear/mathematical_sequence", "--context", "@-", "--api", srv.URL)
	require.Equal(t, 0, r.code, r.stderr)
}

func TestTaskCreateWaitTimesOut(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	r := runCLI(t, "", "task", "create", "acceptance_linear/mathematical_sequence", "--context", `{"even_number": 12}`,
		"--wait", "--timeout", "300ms", "--poll-interval", "50ms", "--api", srv.URL)
	require.Equal(t, 1, r.code)
	require.Regexp(t, `error: task [0-9a-f-]{36} is still steps_in_process after 300ms \(--timeout\)`, r.stderr)
}

func TestAPIErrorsArePrinted(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown template", []string{"task", "create", "acceptance_linear/nope", "--context", "{}"},
			"error: template_not_found: no template is registered as acceptance_linear/nope\n"},
		{"context violates the schema", []string{"task", "create", "acceptance_linear/mathematical_sequence", "--context", `{"even_number": 1}`},
			"error: invalid_context: invalid task context: /even_number: must be >= 2 but found 1 (field: /even_number)\n"},
		{"priority out of range", []string{"task", "create", "acceptance_linear/mathematical_sequence", "--context", `{"even_number": 2}`, "--priority", "500"},
			"error: invalid_request: priority: must be between -100 and 100, got 500 (field: priority)\n"},
		{"bad uuid", []string{"task", "get", "nope"},
			"error: invalid_request: task_uuid: \"nope\" is not a UUID (field: task_uuid)\n"},
		{"unknown task", []string{"task", "steps", "0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a00"},
			"error: task_not_found: no task 0193a6a4-6c1e-7b1a-9d62-3f7d2c9e1a00 (field: task_uuid)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, "", append(tc.args, "--api", srv.URL)...)
			require.Equal(t, 1, r.code)
			require.Equal(t, tc.stderr, r.stderr)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		stdin  string
		stderr string
	}{
		{"invalid context JSON", []string{"task", "create", "a/b", "--context", `{"even_number": }`},
			"", "error: --context: invalid JSON at line 1, column 17: invalid character '}' looking for beginning of value"},
		{"context not an object", []string{"task", "create", "a/b", "--context", `[1]`}, "", "error: --context: must be a JSON object"},
		{"context file missing", []string{"task", "create", "a/b", "--context", "@/does/not/exist.json"}, "", "error: --context: open /does/not/exist.json"},
		{"context from empty stdin", []string{"task", "create", "a/b", "--context", "@-"}, "", "error: --context @- (stdin): empty"},
		{"bad template reference", []string{"task", "create", "just-a-name"}, "", `error: template "just-a-name": want NAMESPACE/NAME`},
		{"empty version", []string{"task", "create", "a/b:"}, "", `error: template "a/b:": want NAMESPACE/NAME`},
		{"missing argument", []string{"task", "get"}, "", "error: tasker task get takes 1 argument(s): TASK_UUID; got 0"},
		{"list limit", []string{"task", "list", "-n", "x", "--limit", "0"}, "", "error: --limit: must be from 1 to 100"},
		{"unknown flag", []string{"task", "create", "a/b", "--colour", "blue"}, "", "error: unknown flag: --colour"},
		{"bad flag value", []string{"task", "create", "a/b", "--priority", "high"}, "", `error: invalid argument "high" for "--priority"`},
		{"bad output", []string{"-o", "yaml", "templates", "list"}, "", `error: --output: must be table or json, got "yaml"`},
		{"unknown command", []string{"tasks", "frobnicate"}, "", `error: unknown command "frobnicate" for "tasker task"`},
		{"unknown top-level command", []string{"frobnicate"}, "", `error: unknown command "frobnicate" for "tasker"`},
		{"validate without paths", []string{"templates", "validate"}, "", "error: tasker templates validate needs at least one file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// --api points nowhere: a usage error must be reported before any call.
			r := runCLI(t, tc.stdin, append(tc.args, "--api", "http://127.0.0.1:1")...)
			require.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			require.True(t, strings.HasPrefix(r.stderr, tc.stderr), "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, "--help' for usage.")
		})
	}
}

func TestAPIURLFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, linearTemplate)
	r := runCLIEnv(t, map[string]string{envAPIURL: srv.URL}, "", "templates", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "mathematical_sequence")

	r = runCLI(t, "", "templates", "list", "--api", "http://127.0.0.1:1")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "Is the API running?")
}

func TestRootCommandTree(t *testing.T) {
	t.Parallel()
	root := newRootCmd(func(string) string { return "" }, io.Discard)
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	for _, want := range []string{"templates", "task", "step", "dlq", "dev", "demo"} {
		require.Contains(t, names, want)
	}
	r := runCLI(t, "", "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "tasker validates workflow templates")
}

// TestBenchRejectsNegativeGOGC: a bad --gogc is refused before anything runs.
func TestBenchRejectsNegativeGOGC(t *testing.T) {
	t.Parallel()
	r := runCLI(t, "", "bench", "--gogc", "-3")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--gogc -3: want a positive GC percentage")
}
