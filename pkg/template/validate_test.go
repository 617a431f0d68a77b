package template_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/template"
)

const header = "namespace: test\nname: rules\nversion: '1.0'\n"

// withSteps builds a seed-form template around a steps block.
func withSteps(steps string) string { return header + "steps:\n" + steps }

// requireProblems parses src and checks that every want appears in the
// error, each as "<path>: <message>" or a prefix of it.
func requireProblems(t *testing.T, src string, want ...string) *template.ValidationError {
	t.Helper()
	_, err := template.Parse([]byte(src), "t.yaml")
	require.Error(t, err)
	require.ErrorIs(t, err, template.ErrInvalidTemplate)
	var verr *template.ValidationError
	require.ErrorAs(t, err, &verr)
	for _, w := range want {
		require.Contains(t, err.Error(), "t.yaml: "+w)
	}
	return verr
}

type ruleCase struct {
	name string
	src  string
	want []string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireProblems(t, tc.src, tc.want...)
		})
	}
}

const oneStep = "  - {name: a, handler: a}\n"

func TestNamespaceRules(t *testing.T) {
	t.Parallel()
	rest := "name: n\nversion: '1.0'\nsteps:\n" + oneStep
	runRuleCases(t, []ruleCase{
		{"missing", rest, []string{"namespace: required"}},
		{"upper case", "namespace: Orders\n" + rest, []string{`namespace: "Orders" must be lower-case (it becomes part of SQS queue names); use "orders"`}},
		{"too long", "namespace: " + strings.Repeat("a", 30) + "\n" + rest, []string{"namespace: \"" + strings.Repeat("a", 30) + "\" is 30 characters long; at most 29 are allowed"}},
		{"bad characters", "namespace: my-ns\n" + rest, []string{`namespace: "my-ns" may contain only lower-case letters, digits and '_'`}},
		{"tasker spelling checked too", "namespace_name: My-NS\n" + rest, []string{`namespace_name: "My-NS" may contain only`}},
		{"both spellings", "namespace: a\nnamespace_name: a\n" + rest, []string{"namespace_name: namespace and namespace_name mean the same; give only one"}},
		{"empty", "namespace: ''\n" + rest, []string{"namespace: must not be empty"}},
		{"not a string", "namespace: 12\n" + rest, []string{"namespace: must be a string, got integer 12"}},
	})
}

func TestNameAndVersionRules(t *testing.T) {
	t.Parallel()
	steps := "steps:\n" + oneStep
	runRuleCases(t, []ruleCase{
		{"name missing", "namespace: a\nversion: '1.0'\n" + steps, []string{"name: required"}},
		{"name with space", "namespace: a\nname: my flow\nversion: '1.0'\n" + steps, []string{`name: "my flow" may contain only letters, digits, '_', '.' and '-'`}},
		{"name too long", "namespace: a\nname: " + strings.Repeat("n", 256) + "\nversion: '1.0'\n" + steps, []string{"name: is 256 characters long; at most 255 are allowed"}},
		{"version missing", "namespace: a\nname: n\n" + steps, []string{"version: required"}},
		{"version unquoted number", "namespace: a\nname: n\nversion: 1.0\n" + steps, []string{`version: must be a string; quote it (version: "1.0.0")`}},
		{"version one part", "namespace: a\nname: n\nversion: '1'\n" + steps, []string{`version: "1" is not a version: use MAJOR.MINOR or MAJOR.MINOR.PATCH`}},
		{"version four parts", "namespace: a\nname: n\nversion: 1.0.0.0\n" + steps, []string{`version: "1.0.0.0" is not a version`}},
		{"version prefix", "namespace: a\nname: n\nversion: v1.0\n" + steps, []string{`version: "v1.0" is not a version`}},
		{"version leading zero", "namespace: a\nname: n\nversion: '01.0'\n" + steps, []string{`version: "01.0" is not a version`}},
		{"version build metadata", "namespace: a\nname: n\nversion: 1.0.0+build\n" + steps, []string{`version: "1.0.0+build" is not a version`}},
	})
}

func TestAcceptedVersions(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1.0", "0.1", "1.0.0", "10.20.30", "2.0.0-rc.1", "1.0-alpha"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			tmpl := mustParse(t, fmt.Sprintf("namespace: a\nname: n\nversion: %q\nsteps:\n%s", v, oneStep))
			require.Equal(t, v, tmpl.Version)
		})
	}
}

func TestStepListRules(t *testing.T) {
	t.Parallel()
	var many strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&many, "  - {name: s%d, handler: h}\n", i)
	}
	runRuleCases(t, []ruleCase{
		{"steps missing", header, []string{"steps: required: a template needs at least one step"}},
		{"steps empty", header + "steps: []\n", []string{"steps: at least one step is required"}},
		{"steps not a list", header + "steps: {a: 1}\n", []string{"steps: must be a list, got mapping"}},
		{"step not a mapping", withSteps("  - just_a_name\n"), []string{`steps[0]: must be a mapping, got string "just_a_name"`}},
		{"too many steps", withSteps(many.String()), []string{"steps: 1001 steps given; a template may have at most 1000"}},
	})
}

func TestStepNameRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"missing", withSteps("  - {handler: a}\n"), []string{"steps[0].name: required"}},
		{"duplicate", withSteps("  - {name: x, handler: a}\n  - {name: y, handler: a}\n  - {name: z, handler: a}\n  - {name: x, handler: a}\n"),
			[]string{`steps[3].name: duplicate step name "x" (also steps[0])`}},
		{"bad characters", withSteps("  - {name: step-1, handler: a}\n"), []string{`steps[0].name: "step-1" must be 1 to 64 letters, digits or '_'`}},
		{"too long", withSteps("  - {name: " + strings.Repeat("s", 65) + ", handler: a}\n"), []string{"steps[0].name: \"" + strings.Repeat("s", 40) + "…\" must be 1 to 64"}},
	})
}

func TestHandlerRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"missing", withSteps("  - {name: a}\n"), []string{"steps[0].handler: required"}},
		{"empty string", withSteps("  - {name: a, handler: ''}\n"), []string{"steps[0].handler: must not be empty"}},
		{"mapping without callable", withSteps("  - {name: a, handler: {method: run}}\n"), []string{"steps[0].handler.callable: required"}},
		{"wrong type", withSteps("  - {name: a, handler: [x]}\n"), []string{"steps[0].handler: must be a handler name (seed form) or a mapping with callable (Tasker form), got sequence"}},
		{"unknown handler key", withSteps("  - {name: a, handler: {callable: x, initialisation: {}}}\n"), []string{`steps[0].handler.initialisation: unknown key (did you mean "initialization"?)`}},
		{"initialization not a mapping", withSteps("  - {name: a, handler: {callable: x, initialization: [1]}}\n"), []string{"steps[0].handler.initialization: must be a mapping, got sequence"}},
		{"callable too long", withSteps("  - {name: a, handler: {callable: " + strings.Repeat("c", 501) + "}}\n"), []string{"steps[0].handler.callable: is 501 characters long; at most 500 are allowed"}},
	})
}

func TestDependencyRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"unknown", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, dependencies: [foo]}\n"), []string{`steps[1].dependencies[0]: unknown step "foo"`}},
		{"unknown via depends_on", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, depends_on: [a, foo]}\n"), []string{`steps[1].depends_on[1]: unknown step "foo"`}},
		{"self", withSteps("  - {name: a, handler: a, dependencies: [a]}\n"), []string{`steps[0].dependencies[0]: step "a" depends on itself`}},
		{"repeated", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, dependencies: [a, a]}\n"), []string{`steps[1].dependencies[1]: duplicate dependency "a" (also steps[1].dependencies[0])`}},
		{"both spellings", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, dependencies: [a], depends_on: [a]}\n"), []string{"steps[1].depends_on: dependencies and depends_on mean the same; give only one"}},
		{"not a list", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, dependencies: a}\n"), []string{`steps[1].dependencies: must be a list of strings, got string "a"`}},
		{"not strings", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b, dependencies: [{a: 1}]}\n"), []string{"steps[1].dependencies[0]: must be a string, got mapping"}},
	})
}

func TestCycleRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"two steps", withSteps("  - {name: a, handler: a, dependencies: [b]}\n  - {name: b, handler: b, dependencies: [a]}\n"),
			[]string{"steps: dependency cycle: a -> b -> a"}},
		{"three steps", withSteps("  - {name: a, handler: a, dependencies: [c]}\n  - {name: b, handler: b, dependencies: [a]}\n  - {name: c, handler: c, dependencies: [b]}\n"),
			[]string{"steps: dependency cycle: a -> b -> c -> a"}},
		{"cycle below a root", withSteps("  - {name: root, handler: r}\n  - {name: x, handler: x, dependencies: [root, z]}\n  - {name: y, handler: y, dependencies: [x]}\n  - {name: z, handler: z, dependencies: [y]}\n"),
			[]string{"steps: dependency cycle: x -> y -> z -> x"}},
	})
	verr := requireProblems(t, withSteps(
		"  - {name: a, handler: a, dependencies: [b]}\n  - {name: b, handler: b, dependencies: [a]}\n"+
			"  - {name: c, handler: c, dependencies: [d]}\n  - {name: d, handler: d, dependencies: [c]}\n"),
		"steps: dependency cycle: a -> b -> a", "steps: dependency cycle: c -> d -> c")
	require.Len(t, verr.Problems, 2)
}

func TestRetryRules(t *testing.T) {
	t.Parallel()
	step := func(retry string) string {
		return withSteps("  - name: a\n    handler: a\n    retry: " + retry + "\n")
	}
	runRuleCases(t, []ruleCase{
		{"max_attempts 0", step("{max_attempts: 0}"), []string{"steps[0].retry.max_attempts: must be between 1 and 100, got 0"}},
		{"max_attempts 101", step("{max_attempts: 101}"), []string{"steps[0].retry.max_attempts: must be between 1 and 100, got 101"}},
		{"max_attempts string", step("{max_attempts: '3'}"), []string{`steps[0].retry.max_attempts: must be an integer, got string "3"`}},
		{"max_attempts fraction", step("{max_attempts: 2.5}"), []string{"steps[0].retry.max_attempts: must be an integer, got number 2.5"}},
		{"base too small", step("{backoff_base_ms: 99}"), []string{"steps[0].retry.backoff_base_ms: must be between 100 and 3,600,000, got 99"}},
		{"base too large", step("{backoff_base_ms: 3600001}"), []string{"steps[0].retry.backoff_base_ms: must be between 100 and 3,600,000, got 3,600,001"}},
		{"max too small", step("{max_backoff_ms: 99}"), []string{"steps[0].retry.max_backoff_ms: must be between 100 and 3,600,000, got 99"}},
		{"max below base", step("{backoff_base_ms: 500, max_backoff_ms: 400}"), []string{"steps[0].retry.max_backoff_ms: must be at least backoff_base_ms (500), got 400"}},
		{"backoff", step("{backoff: quadratic}"), []string{`steps[0].retry.backoff: must be one of none, linear, exponential, fibonacci, got "quadratic"`}},
		{"retryable", step("{retryable: 'yes'}"), []string{`steps[0].retry.retryable: must be true or false, got string "yes"`}},
		{"jitter", step("{jitter: 1}"), []string{"steps[0].retry.jitter: must be true or false, got integer 1"}},
		{"unknown key", step("{max_atempts: 3}"), []string{`steps[0].retry.max_atempts: unknown key (did you mean "max_attempts"?)`}},
		{"not a mapping", step("3"), []string{"steps[0].retry: must be a mapping, got integer 3"}},
	})
}

func TestRetryDefaults(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSteps(
		"  - {name: plain, handler: a}\n"+
			"  - {name: slow, handler: a, retry: {backoff_base_ms: 60000}}\n"+
			"  - {name: tuned, handler: a, retry: {retryable: false, max_attempts: 1, backoff: none, backoff_base_ms: 100, max_backoff_ms: 100, jitter: false}}\n"))
	plain, _ := tmpl.Step("plain")
	require.Equal(t, template.Retry{Retryable: true, MaxAttempts: 3, Backoff: template.BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true}, plain.Retry)
	slow, _ := tmpl.Step("slow")
	require.Equal(t, int64(60000), slow.Retry.MaxBackoffMS, "the default cap rises to the base")
	tuned, _ := tmpl.Step("tuned")
	require.Equal(t, template.Retry{Retryable: false, MaxAttempts: 1, Backoff: template.BackoffNone, BackoffBaseMS: 100, MaxBackoffMS: 100, Jitter: false}, tuned.Retry)
	require.Equal(t, template.StepStandard, plain.Type)
	require.Zero(t, plain.TimeoutSeconds)
}

func TestTimeoutRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"zero", withSteps("  - {name: a, handler: a, timeout_seconds: 0}\n"), []string{"steps[0].timeout_seconds: must be between 1 and 86,400, got 0"}},
		{"too long", withSteps("  - {name: a, handler: a, timeout_seconds: 86401}\n"), []string{"steps[0].timeout_seconds: must be between 1 and 86,400, got 86,401"}},
		{"with unit", withSteps("  - {name: a, handler: a, timeout_seconds: 30s}\n"), []string{`steps[0].timeout_seconds: must be an integer, got string "30s"`}},
		{"huge", withSteps("  - {name: a, handler: a, timeout_seconds: 18446744073709551615}\n"), []string{"steps[0].timeout_seconds: must be between 1 and 86,400, got 18446744073709551615"}},
	})
}

func TestStepTypeRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"unknown type", withSteps("  - {name: a, handler: a, type: parallel}\n"),
			[]string{`steps[0].type: must be one of standard, decision, deferred_convergence, batchable, batch_worker (or the aliases decision_point, deferred), got "parallel"`}},
		{"both spellings", withSteps("  - {name: a, handler: a, type: standard, step_type: standard}\n"),
			[]string{"steps[0].step_type: type and step_type mean the same; give only one"}},
		{"decision without dependency", withSteps("  - {name: a, handler: a, type: decision}\n  - {name: b, handler: b, dependencies: [a]}\n"),
			[]string{"steps[0].dependencies: a decision step needs at least one dependency"}},
		{"deferred without dependency", withSteps("  - {name: a, handler: a, type: deferred_convergence}\n"),
			[]string{"steps[0].dependencies: a deferred_convergence step needs at least one dependency"}},
	})
}

func TestBatchRules(t *testing.T) {
	t.Parallel()
	analyzer := "  - {name: an, handler: an, type: batchable}\n"
	worker := "  - {name: wk, handler: wk, type: batch_worker, dependencies: [an]}\n"
	runRuleCases(t, []ruleCase{
		{"worker without dependency", withSteps("  - {name: wk, handler: wk, type: batch_worker}\n"),
			[]string{"steps[0].dependencies: a batch_worker step needs exactly one dependency, its batchable step (found 0)"}},
		{"worker with two dependencies", withSteps(analyzer + "  - {name: x, handler: x}\n  - {name: wk, handler: wk, type: batch_worker, dependencies: [an, x]}\n"),
			[]string{"steps[2].dependencies: a batch_worker step needs exactly one dependency, its batchable step (found 2)"}},
		{"worker on a standard step", withSteps("  - {name: x, handler: x}\n  - {name: wk, handler: wk, type: batch_worker, dependencies: [x]}\n"),
			[]string{`steps[1].dependencies[0]: a batch_worker step must depend on a batchable step; "x" is a standard step`}},
		{"batchable without worker", withSteps(analyzer),
			[]string{`steps[0].type: batchable step "an" has no batch_worker step depending on it`}},
		{"standard step after a worker", withSteps(analyzer + worker + "  - {name: after, handler: x, dependencies: [wk]}\n"),
			[]string{`steps[2].dependencies[0]: only deferred_convergence steps may depend on batch_worker step "wk" (this is a standard step)`}},
		{"batch_config on a standard step", withSteps("  - {name: x, handler: x, batch_config: {worker_template: x}}\n"),
			[]string{"steps[0].batch_config: only batchable and batch_worker steps take a batch_config (this is a standard step)"}},
		{"batch_config ranges", withSteps(analyzer + "  - {name: wk, handler: wk, type: batch_worker, dependencies: [an], batch_config: {batch_size: 0, parallelism: 1001, failure_strategy: retry, cursor_field: ''}}\n"),
			[]string{
				"steps[1].batch_config.batch_size: must be between 1 and 100,000, got 0",
				"steps[1].batch_config.parallelism: must be between 1 and 1,000, got 1,001",
				`steps[1].batch_config.failure_strategy: must be one of continue_on_failure, fail_fast, isolate, got "retry"`,
				"steps[1].batch_config.cursor_field: must be 1 to 255 characters long",
			}},
		{"batch_config unknown key", withSteps(analyzer + "  - {name: wk, handler: wk, type: batch_worker, dependencies: [an], batch_config: {workers: 3}}\n"),
			[]string{"steps[1].batch_config.workers: unknown key"}},
		{"worker naming another template", withSteps(analyzer + "  - {name: wk, handler: wk, type: batch_worker, dependencies: [an], batch_config: {worker_template: other}}\n"),
			[]string{`steps[1].batch_config.worker_template: on a batch_worker step this must be the step's own name "wk", got "other"`}},
		{"batchable config without worker_template", withSteps("  - {name: an, handler: an, type: batchable, batch_config: {batch_size: 10}}\n" + worker),
			[]string{"steps[0].batch_config.worker_template: required on a batchable step: name the batch_worker step to instantiate"}},
		{"batchable config naming a standard step", withSteps("  - {name: an, handler: an, type: batchable, batch_config: {worker_template: x}}\n" + worker + "  - {name: x, handler: x}\n"),
			[]string{`steps[0].batch_config.worker_template: "x" is a standard step, not a batch_worker step`}},
		{"worker_template_name unknown", withSteps("  - {name: an, type: batchable, handler: {callable: an, initialization: {worker_template_name: nope}}}\n" + worker),
			[]string{`steps[0].handler.initialization.worker_template_name: unknown step "nope"`}},
		{"worker_template_name of another batch", withSteps(
			"  - {name: an, type: batchable, handler: {callable: an, initialization: {worker_template_name: wk2}}}\n" + worker +
				"  - {name: an2, handler: an, type: batchable}\n  - {name: wk2, handler: wk, type: batch_worker, dependencies: [an2]}\n"),
			[]string{`steps[0].handler.initialization.worker_template_name: batch_worker step "wk2" does not depend on "an"`}},
	})
}

func TestBatchDefaults(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSteps(
		"  - {name: an, handler: an, type: batchable, batch_config: {worker_template: wk}}\n"+
			"  - {name: wk, handler: wk, type: batch_worker, dependencies: [an], batch_config: {}}\n"))
	an, _ := tmpl.Step("an")
	require.Equal(t, &template.BatchConfig{BatchSize: 1000, Parallelism: 10, CursorField: "id", WorkerTemplate: "wk", FailureStrategy: template.FailureContinue}, an.BatchConfig)
	wk, _ := tmpl.Step("wk")
	require.Equal(t, "wk", wk.BatchConfig.WorkerTemplate, "a worker's template defaults to itself")
}

func TestLifecycleRules(t *testing.T) {
	t.Parallel()
	with := func(lifecycle string) string { return withSteps(oneStep) + "lifecycle: " + lifecycle + "\n" }
	runRuleCases(t, []ruleCase{
		{"duration", with("{max_duration_minutes: 43201}"), []string{"lifecycle.max_duration_minutes: must be between 1 and 43,200, got 43,201"}},
		{"dependencies", with("{max_waiting_for_dependencies_minutes: 0}"), []string{"lifecycle.max_waiting_for_dependencies_minutes: must be between 1 and 10,080, got 0"}},
		{"retry", with("{max_waiting_for_retry_minutes: 10081}"), []string{"lifecycle.max_waiting_for_retry_minutes: must be between 1 and 10,080"}},
		{"in process", with("{max_steps_in_process_minutes: -1}"), []string{"lifecycle.max_steps_in_process_minutes: must be between 1 and 10,080, got -1"}},
		{"action", with("{staleness_action: retry}"), []string{`lifecycle.staleness_action: must be one of dlq, error, none, got "retry"`}},
		{"flag", with("{auto_fail_on_timeout: maybe}"), []string{`lifecycle.auto_fail_on_timeout: must be true or false, got string "maybe"`}},
		{"unknown", with("{max_minutes: 5}"), []string{"lifecycle.max_minutes: unknown key"}},
	})
	tmpl := mustParse(t, with("{max_duration_minutes: 60, auto_dlq_on_timeout: true}"))
	require.Equal(t, &template.Lifecycle{MaxDurationMinutes: 60, StalenessAction: template.StalenessDLQ, AutoDLQOnTimeout: true}, tmpl.Lifecycle)
}

func TestTemplateLevelRules(t *testing.T) {
	t.Parallel()
	base := withSteps(oneStep)
	runRuleCases(t, []ruleCase{
		{"identity strategy", base + "identity_strategy: STRICT\n", []string{`identity_strategy: must be one of strict, caller_provided, always_unique, got "STRICT"`}},
		{"input_schema not a mapping", base + "input_schema: true\n", []string{"input_schema: must be a mapping, got boolean true"}},
		{"input_schema does not compile", base + "input_schema: {type: object, properties: {n: {type: intger}}}\n",
			[]string{"input_schema.properties.n.type: invalid JSON Schema: value must be one of"}},
		{"input_schema bad pattern", base + "input_schema: {properties: {n: {pattern: '(['}}}\n",
			[]string{"input_schema.properties.n.pattern: invalid JSON Schema:"}},
		{"input_schema remote ref", base + "input_schema: {$ref: 'https://example.com/schema.json'}\n",
			[]string{`input_schema: invalid JSON Schema: failing loading "https://example.com/schema.json": $ref to another document is not supported`}},
		{"input_schema file ref", base + "input_schema: {$ref: 'file:///etc/passwd'}\n",
			[]string{"input_schema: invalid JSON Schema:"}},
		{"metadata not a mapping", base + "metadata: [a]\n", []string{"metadata: must be a mapping, got sequence"}},
		{"system_dependencies key", base + "system_dependencies: {primary: db, tertiary: [x]}\n", []string{"system_dependencies.tertiary: unknown key"}},
		{"domain event without name", base + "domain_events: [{description: d}]\n", []string{"domain_events[0].name: required"}},
		{"published event condition", withSteps("  - {name: a, handler: a, publishes_events: [{name: e, condition: sometimes}]}\n"),
			[]string{`steps[0].publishes_events[0].condition: must be one of success, failure, retryable_failure, permanent_failure, always, got "sometimes"`}},
		{"published event delivery", withSteps("  - {name: a, handler: a, publishes_events: [{name: e, delivery_mode: carrier_pigeon}]}\n"),
			[]string{`steps[0].publishes_events[0].delivery_mode: must be one of durable, fast, broadcast`}},
		{"environment override of unknown step", base + "environments: {test: {steps: [{name: b, timeout_seconds: 5}]}}\n",
			[]string{`environments.test.steps[0].name: unknown step "b" (name a step of this template, or ALL)`}},
		{"environment override retry", base + "environments: {test: {steps: [{name: ALL, retry: {max_attempts: 0}}]}}\n",
			[]string{"environments.test.steps[0].retry.max_attempts: must be between 1 and 100, got 0"}},
		{"environment unknown key", base + "environments: {test: {stepz: []}}\n", []string{`environments.test.stepz: unknown key (did you mean "steps"?)`}},
		{"description type", base + "description: [a]\n", []string{"description: must be a string, got sequence"}},
	})
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"top level", withSteps(oneStep) + "namespce: x\n", []string{`namespce: unknown key (did you mean "namespace"?)`}},
		{"top level, no suggestion", withSteps(oneStep) + "owner: team\n", []string{"owner: unknown key"}},
		{"step", withSteps("  - {name: a, handler: a, dependecies: [x]}\n"), []string{`steps[0].dependecies: unknown key (did you mean "dependencies"?)`}},
		{"deep", withSteps("  - {name: a, handler: a}\n  - {name: b, handler: b}\n  - {name: c, handler: c, retry: {max_atempts: 3}}\n"),
			[]string{`steps[2].retry.max_atempts: unknown key (did you mean "max_attempts"?)`}},
		{"odd key is quoted", withSteps(oneStep) + "'a.b': 1\n", []string{`["a.b"]: unknown key`}},
		{"published event", withSteps("  - {name: a, handler: a, publishes_events: [{name: e, audience: all}]}\n"), []string{"steps[0].publishes_events[0].audience: unknown key"}},
	})
}

func TestDocumentRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"empty", "", []string{"empty document"}},
		{"only a comment", "# nothing\n", []string{"empty document"}},
		{"two documents", withSteps(oneStep) + "---\n" + withSteps(oneStep), []string{"2 YAML documents found; a template source holds exactly one"}},
		{"not a mapping", "- a\n- b\n", []string{"a template must be a mapping, got sequence"}},
		{"syntax error", header + "steps: [\n", []string{"invalid YAML: sequence end token ']' not found (line 4)"}},
		{"duplicate key", header + "name: again\nsteps:\n" + oneStep, []string{`invalid YAML: mapping key "name" already defined`}},
		{"tab indentation", "namespace: a\n\tname: b\n", []string{"invalid YAML:"}},
		{"unknown alias", withSteps(oneStep) + "metadata: *nope\n", []string{`invalid YAML: could not find alias "nope"`}},
		{"NaN", withSteps(oneStep) + "metadata: {x: .nan}\n", []string{"metadata.x: NaN is not allowed"}},
		{"infinity", withSteps("  - {name: a, handler: {callable: a, initialization: {x: -.inf}}}\n"), []string{"steps[0].handler.initialization.x: -Inf is not allowed"}},
		{"deep nesting", withSteps(oneStep) + "metadata: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n", []string{"collections nested about 200 levels deep; at most 128 are allowed"}},
		{"too large", withSteps(oneStep) + "description: '" + strings.Repeat("x", 600<<10) + "'\n", []string{"template is"}},
		{"alias bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
			"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
			[]string{"document has more than 100000 values"}},
	})
}

func TestProblemsAreCollectedSortedAndLocated(t *testing.T) {
	t.Parallel()
	src := `namespace: Bad
name: ok
version: '1.0'
steps:
  - name: a
    handler: a
    retry: {max_attempts: 0}
  - name: b
    handler: b
    dependencies: [zz]
  - name: c
    handler: c
    dependencies: [b]
    timeout_seconds: 0
  - name: d
    handler: d
    bogus: true
  - name: e
    handler: e
  - name: f
    handler: f
  - name: g
    handler: g
  - name: h
    handler: h
  - name: i
    handler: i
  - name: j
    handler: j
  - name: k
    handler: k
    dependencies: [nope]
`
	verr := requireProblems(t, src)
	require.Equal(t, []template.Problem{
		{Path: "namespace", Message: `"Bad" must be lower-case (it becomes part of SQS queue names); use "bad"`, Line: 1},
		{Path: "steps[0].retry.max_attempts", Message: "must be between 1 and 100, got 0", Line: 7},
		{Path: "steps[1].dependencies[0]", Message: `unknown step "zz"`, Line: 10},
		{Path: "steps[2].timeout_seconds", Message: "must be between 1 and 86,400, got 0", Line: 14},
		{Path: "steps[3].bogus", Message: "unknown key", Line: 17},
		{Path: "steps[10].dependencies[0]", Message: `unknown step "nope"`, Line: 32},
	}, verr.Problems)
	require.Equal(t, `t.yaml: namespace: "Bad" must be lower-case (it becomes part of SQS queue names); use "bad" (line 1)`,
		strings.Split(verr.Error(), "\n")[0])
	// Same input, same message, every time.
	for range 5 {
		_, err := template.Parse([]byte(src), "t.yaml")
		require.Equal(t, verr.Error(), err.Error())
	}
}

func TestJSONProblemsHaveNoLines(t *testing.T) {
	t.Parallel()
	_, err := template.ParseJSON([]byte(`{"namespace": "a", "name": "b", "version": "1.0", "steps": [{"name": "s", "handler": "h", "retry": {"max_atempts": 3}}]}`))
	var verr *template.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []template.Problem{{Path: "steps[0].retry.max_atempts", Message: `unknown key (did you mean "max_attempts"?)`}}, verr.Problems)
	require.Equal(t, `template JSON: steps[0].retry.max_atempts: unknown key (did you mean "max_attempts"?)`, err.Error())

	for _, bad := range []string{``, `{`, `[]`, `{"a": 1} {"b": 2}`, `null`} {
		_, err := template.ParseJSON([]byte(bad))
		require.ErrorIs(t, err, template.ErrInvalidTemplate, bad)
	}
}
