package template_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/template"
)

// everyKey uses every key both dialects know.
const everyKey = `
namespace_name: kitchen
name: every.key-sink
version: 2.1.0-rc.1
description: Uses every key.
identity_strategy: caller_provided
loaded_from: fixtures/kitchen.yaml
metadata:
  author: ops
  tags: [a, b]
  created_at: 2026-01-02T03:04:05Z
  notes: {nested: [1, 2.5, -3, true, null, "s"], empty_map: {}, empty_list: []}
  big: 18446744073709551615
  small: -9223372036854775808
  float_int: 4.0
  tiny: 1.0e-7
  huge: 1.0e+300
system_dependencies: {primary: warehouse, secondary: [crm]}
domain_events:
  - {name: order.done, description: Done, schema: {type: object}}
lifecycle:
  max_duration_minutes: 60
  max_waiting_for_dependencies_minutes: 10
  max_waiting_for_retry_minutes: 20
  max_steps_in_process_minutes: 30
  staleness_action: error
  auto_fail_on_timeout: true
  auto_dlq_on_timeout: false
environments:
  test:
    steps:
      - {name: ALL, timeout_seconds: 5}
      - {name: analyze, handler: {initialization: {batch_size: 1}}, retry: {max_attempts: 1}}
input_schema:
  type: object
  properties:
    n: {type: integer, minimum: 0}
schedules:
  - name: nightly
    expression: cron(0 2 ? * MON-FRI *)
    timezone: Europe/Berlin
    context: {n: 1}
    enabled: false
    description: Weeknights.
  - {name: every-5, expression: rate(5 minutes)}
  - {name: launch, expression: at(2030-01-01T00:00:00), context: {}}
steps:
  - name: start
    description: First.
    handler:
      callable: Kitchen::Start
      method: run
      resolver: explicit_mapping
      initialization: {a: 1, b: [x]}
    system_dependency: crm
    retry: {retryable: false, max_attempts: 1, backoff: none, backoff_base_ms: 100, max_backoff_ms: 100, jitter: false}
    timeout_seconds: 10
    publishes_events:
      - {name: started, description: s, condition: success, schema: {type: object}, delivery_mode: durable, publisher: custom}
    result_schema: {type: object, required: [ok]}
    composition: {grammar: v1}
  - name: decide
    step_type: decision_point
    handler: {callable: kitchen.decide}
    depends_on: [start]
  - name: analyze
    type: batchable
    handler: {callable: kitchen.analyze, initialization: {worker_template_name: work}}
    dependencies: [decide]
    batch_config: {worker_template: work, batch_size: 50}
  - name: work
    type: batch_worker
    handler: {callable: kitchen.work}
    dependencies: [analyze]
    batch_config: {parallelism: 4, cursor_field: offset, failure_strategy: fail_fast}
  - name: join
    type: deferred
    handler: {callable: kitchen.join}
    dependencies: [work]
`

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	sources := map[string][]byte{"every key": []byte(everyKey)}
	for _, path := range templateFiles(t) {
		tmpl, err := template.ParseFile(path)
		require.NoError(t, err)
		data, err := json.Marshal(tmpl)
		require.NoError(t, err)
		sources[path] = data
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orig, err := template.Parse(src, name)
			require.NoError(t, err)
			data, err := json.Marshal(orig)
			require.NoError(t, err)

			back, err := template.ParseJSON(data)
			require.NoError(t, err)
			require.Equal(t, orig, back)

			again, err := json.Marshal(back)
			require.NoError(t, err)
			require.Equal(t, string(data), string(again), "the canonical form is stable")

			var viaUnmarshal template.Template
			require.NoError(t, json.Unmarshal(data, &viaUnmarshal))
			require.Equal(t, *orig, viaUnmarshal)

			valueData, err := json.Marshal(*orig)
			require.NoError(t, err)
			require.Equal(t, string(data), string(valueData), "value and pointer marshal alike")
		})
	}
}

func TestEveryKeyLoads(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, everyKey)
	start, _ := tmpl.Step("start")
	require.Equal(t, template.Step{
		Name:             "start",
		Description:      "First.",
		Handler:          "Kitchen::Start",
		HandlerMethod:    "run",
		HandlerResolver:  "explicit_mapping",
		Initialization:   map[string]any{"a": int64(1), "b": []any{"x"}},
		Type:             template.StepStandard,
		Retry:            template.Retry{Retryable: false, MaxAttempts: 1, Backoff: template.BackoffNone, BackoffBaseMS: 100, MaxBackoffMS: 100, Jitter: false},
		TimeoutSeconds:   10,
		PublishesEvents:  []map[string]any{{"name": "started", "description": "s", "condition": "success", "schema": map[string]any{"type": "object"}, "delivery_mode": "durable", "publisher": "custom"}},
		SystemDependency: "crm",
		ResultSchema:     map[string]any{"type": "object", "required": []any{"ok"}},
		Composition:      map[string]any{"grammar": "v1"},
	}, *start)
	require.Equal(t, template.IdentityCallerProvided, tmpl.IdentityStrategy)
	require.Equal(t, "fixtures/kitchen.yaml", tmpl.LoadedFrom)
	require.Equal(t, &template.Lifecycle{
		MaxDurationMinutes: 60, MaxWaitingForDependenciesMinutes: 10, MaxWaitingForRetryMinutes: 20,
		MaxStepsInProcessMinutes: 30, StalenessAction: template.StalenessError, AutoFailOnTimeout: true,
	}, tmpl.Lifecycle)
	require.Equal(t, uint64(18446744073709551615), tmpl.Metadata["big"])
	require.Equal(t, int64(4), tmpl.Metadata["float_int"], "integral numbers load as integers")
	require.Equal(t, 1e-7, tmpl.Metadata["tiny"])
	require.Equal(t, map[string]any{"primary": "warehouse", "secondary": []any{"crm"}}, tmpl.SystemDependencies)
	require.Len(t, tmpl.DomainEvents, 1)
	require.Contains(t, tmpl.Environments, "test")
	work, _ := tmpl.Step("work")
	require.Equal(t, &template.BatchConfig{BatchSize: 1000, Parallelism: 4, CursorField: "offset", WorkerTemplate: "work", FailureStrategy: template.FailureFailFast}, work.BatchConfig)
	require.Equal(t, []string{"start", "decide"}, tmpl.InitialSteps())
	require.Equal(t, []template.Schedule{
		{Name: "nightly", Expression: "cron(0 2 ? * MON-FRI *)", Timezone: "Europe/Berlin", Description: "Weeknights.", Context: map[string]any{"n": int64(1)}},
		{Name: "every-5", Expression: "rate(5 minutes)", Timezone: "UTC", Enabled: true},
		{Name: "launch", Expression: "at(2030-01-01T00:00:00)", Timezone: "UTC", Enabled: true},
	}, tmpl.Schedules)
}

func TestCanonicalJSONShape(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, `
namespace: shop
name: orders
version: "1.0"
steps:
  - name: validate
    handler: shop.validate
  - name: ship
    handler: shop.ship
    dependencies: [validate]
    timeout_seconds: 30
`)
	data, err := json.Marshal(tmpl)
	require.NoError(t, err)
	require.JSONEq(t, `{
  "namespace_name": "shop", "name": "orders", "version": "1.0", "identity_strategy": "strict",
  "steps": [
    {"name": "validate", "handler": {"callable": "shop.validate"}, "type": "standard",
     "retry": {"retryable": true, "max_attempts": 3, "backoff": "exponential", "backoff_base_ms": 1000, "max_backoff_ms": 30000, "jitter": true}},
    {"name": "ship", "handler": {"callable": "shop.ship"}, "type": "standard", "dependencies": ["validate"], "timeout_seconds": 30,
     "retry": {"retryable": true, "max_attempts": 3, "backoff": "exponential", "backoff_base_ms": 1000, "max_backoff_ms": 30000, "jitter": true}}
  ]
}`, string(data))
}

func TestUnmarshalJSONValidates(t *testing.T) {
	t.Parallel()
	var tmpl template.Template
	err := json.Unmarshal([]byte(`{"namespace_name": "a", "name": "b", "version": "1.0", "steps": []}`), &tmpl)
	require.ErrorIs(t, err, template.ErrInvalidTemplate)
	require.ErrorContains(t, err, "steps: at least one step is required")
}
