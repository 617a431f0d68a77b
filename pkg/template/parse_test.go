package template_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/template"
)

const templatesDir = "../../templates"

// templateFiles lists every YAML file under templates/.
func templateFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(templatesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

func mustParse(t *testing.T, yaml string) *template.Template {
	t.Helper()
	tmpl, err := template.Parse([]byte(yaml), "test.yaml")
	require.NoError(t, err)
	return tmpl
}

func TestEveryTemplateFileParses(t *testing.T) {
	t.Parallel()
	for _, path := range templateFiles(t) {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.ParseFile(path)
			require.NoError(t, err)
			require.NotEmpty(t, tmpl.Steps)
			require.Len(t, tmpl.TopologicalOrder(), len(tmpl.Steps))
			require.NotEmpty(t, tmpl.InitialSteps())
			require.NoError(t, validContext(tmpl))
		})
	}
}

// validContext checks that the template's own schema compiles for validation.
func validContext(tmpl *template.Template) error {
	err := tmpl.ValidateContext(nil)
	var cerr *template.ContextError
	if errors.As(err, &cerr) {
		return nil // an empty context may well be invalid; the schema compiled
	}
	return err
}

func TestSampleTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		key      string
		handlers map[string]string
		deps     map[string][]string
		initial  []string
	}{
		{
			file: "fulfillment/order_fulfillment.yaml",
			key:  "fulfillment/order_fulfillment:1.0",
			handlers: map[string]string{
				"validate_order": "validate_order", "ship_order": "ship_order", "send_confirmation": "send_confirmation",
			},
			deps: map[string][]string{
				"check_inventory":   {"validate_order"},
				"reserve_inventory": {"check_inventory"},
				"process_payment":   {"validate_order"},
				"ship_order":        {"reserve_inventory", "process_payment"},
				"send_confirmation": {"ship_order"},
			},
			initial: []string{"validate_order", "check_inventory", "reserve_inventory", "process_payment", "ship_order", "send_confirmation"},
		},
		{
			file:     "payments/payment_processing.yaml",
			key:      "payments/payment_processing:1.0",
			handlers: map[string]string{"check_fraud": "payments.check_fraud", "send_notification": "payments.send_notification"},
			deps: map[string][]string{
				"check_fraud": {"validate_payment_request"}, "authorize_payment": {"check_fraud"},
				"capture_payment": {"authorize_payment"}, "record_transaction": {"capture_payment"},
				"send_notification": {"record_transaction"},
			},
			initial: []string{"validate_payment_request", "check_fraud", "authorize_payment", "capture_payment", "record_transaction", "send_notification"},
		},
		{
			file:     "etl/customer_etl.yaml",
			key:      "etl/customer_etl:1.0.0",
			handlers: map[string]string{"analyze_customers": "etl.analyze_customers", "transform_partition": "etl.transform_partition"},
			deps: map[string][]string{
				"transform_partition": {"analyze_customers"}, "load_to_warehouse": {"transform_partition"},
				"generate_summary_report": {"load_to_warehouse"},
			},
			initial: []string{"analyze_customers", "generate_summary_report"},
		},
		{
			file:     "user_onboarding/user_registration.yaml",
			key:      "user_onboarding/user_registration:1.0",
			handlers: map[string]string{"create_auth_account": "onboarding.create_auth_account"},
			deps: map[string][]string{
				"create_user_profile": {"create_auth_account"}, "setup_notification_preferences": {"create_user_profile"},
				"track_user_signup": {"create_user_profile"}, "send_welcome_email": {"setup_notification_preferences"},
			},
			initial: []string{"create_auth_account", "create_user_profile", "setup_notification_preferences", "track_user_signup", "send_welcome_email"},
		},
		{
			file:     "scheduled_jobs/daily_reporting.yaml",
			key:      "scheduled_jobs/daily_reporting:1.0",
			handlers: map[string]string{"publish_reports": "reports.publish_reports"},
			deps: map[string][]string{
				"generate_sales_report": {"refresh_data"}, "generate_inventory_report": {"refresh_data"},
				"publish_reports": {"generate_sales_report", "generate_inventory_report"},
			},
			initial: []string{"refresh_data", "generate_sales_report", "generate_inventory_report", "publish_reports"},
		},
		{
			file: "approvals/conditional_approval.yaml",
			key:  "approvals/conditional_approval:1.0.0",
			handlers: map[string]string{
				"validate_request": "approvals.validate_request", "routing_decision": "approvals.route_by_amount",
				"auto_approve": "approvals.approve", "manager_approval": "approvals.approve",
				"finance_review": "approvals.approve", "finalize_approval": "approvals.finalize",
			},
			deps: map[string][]string{
				"routing_decision":  {"validate_request"},
				"finalize_approval": {"auto_approve", "manager_approval", "finance_review"},
			},
			initial: []string{"validate_request", "routing_decision"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.ParseFile(filepath.Join(templatesDir, tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.key, tmpl.Key())
			for step, handler := range tt.handlers {
				s, ok := tmpl.Step(step)
				require.True(t, ok, step)
				require.Equal(t, handler, s.Handler, step)
			}
			for step, deps := range tt.deps {
				s, ok := tmpl.Step(step)
				require.True(t, ok, step)
				require.Equal(t, deps, s.Dependencies, step)
			}
			require.Equal(t, tt.initial, tmpl.InitialSteps())
		})
	}
}

func TestOrderFulfillmentRetries(t *testing.T) {
	t.Parallel()
	tmpl, err := template.ParseFile(filepath.Join(templatesDir, "fulfillment/order_fulfillment.yaml"))
	require.NoError(t, err)
	for name, want := range map[string]template.Retry{
		"validate_order":    {Retryable: true, MaxAttempts: 3, Backoff: template.BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true},
		"check_inventory":   {Retryable: true, MaxAttempts: 5, Backoff: template.BackoffExponential, BackoffBaseMS: 2000, MaxBackoffMS: 30000, Jitter: true},
		"ship_order":        {Retryable: false, MaxAttempts: 1, Backoff: template.BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true},
		"send_confirmation": {Retryable: true, MaxAttempts: 10, Backoff: template.BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true},
	} {
		s, ok := tmpl.Step(name)
		require.True(t, ok)
		require.Equal(t, want, s.Retry, name)
	}
	require.NoError(t, tmpl.ValidateContext([]byte(`{"order_id":"o1","customer_id":"c1","items":[{"sku":"x"}],"amount":12.5}`)))
	var cerr *template.ContextError
	require.ErrorAs(t, tmpl.ValidateContext([]byte(`{"order_id":"o1","customer_id":"c1","items":[],"amount":12.5}`)), &cerr)
	require.Equal(t, "/items", cerr.Field)
	require.ErrorAs(t, tmpl.ValidateContext([]byte(`{"order_id":"o1","customer_id":"c1","items":[1],"amount":0}`)), &cerr)
	require.Equal(t, "/amount", cerr.Field)
}

func TestAcceptanceTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		key     string
		types   map[string]template.StepType
		deps    map[string][]string
		initial []string
	}{
		{
			file: "linear.yaml", key: "acceptance_linear/mathematical_sequence:1.0.0",
			types: map[string]template.StepType{"linear_step_1": template.StepStandard, "linear_step_4": template.StepStandard},
			deps: map[string][]string{
				"linear_step_1": nil, "linear_step_2": {"linear_step_1"},
				"linear_step_3": {"linear_step_2"}, "linear_step_4": {"linear_step_3"},
			},
			initial: []string{"linear_step_1", "linear_step_2", "linear_step_3", "linear_step_4"},
		},
		{
			file: "diamond.yaml", key: "acceptance_diamond/diamond_pattern:1.0.0",
			types: map[string]template.StepType{"diamond_end": template.StepStandard},
			deps: map[string][]string{
				"diamond_branch_b": {"diamond_start"}, "diamond_branch_c": {"diamond_start"},
				"diamond_end": {"diamond_branch_b", "diamond_branch_c"},
			},
			initial: []string{"diamond_start", "diamond_branch_b", "diamond_branch_c", "diamond_end"},
		},
		{
			file: "tree.yaml", key: "acceptance_tree/hierarchical_tree:1.0.0",
			types: map[string]template.StepType{"tree_root": template.StepStandard},
			deps: map[string][]string{
				"tree_leaf_g":            {"tree_branch_right"},
				"tree_final_convergence": {"tree_leaf_d", "tree_leaf_e", "tree_leaf_f", "tree_leaf_g"},
			},
			initial: []string{
				"tree_root", "tree_branch_left", "tree_branch_right", "tree_leaf_d",
				"tree_leaf_e", "tree_leaf_f", "tree_leaf_g", "tree_final_convergence",
			},
		},
		{
			file: "conditional_approval.yaml", key: "acceptance_conditional/approval_routing:1.0.0",
			types: map[string]template.StepType{
				"validate_request": template.StepStandard, "routing_decision": template.StepDecision,
				"auto_approve": template.StepStandard, "finalize_approval": template.StepDeferredConvergence,
			},
			deps: map[string][]string{
				"routing_decision":  {"validate_request"},
				"manager_approval":  {"routing_decision"},
				"finalize_approval": {"auto_approve", "manager_approval", "finance_review"},
			},
			initial: []string{"validate_request", "routing_decision"},
		},
		{
			file: "batch.yaml", key: "acceptance_batch/large_dataset_processor:1.0.0",
			types: map[string]template.StepType{
				"analyze_dataset": template.StepBatchable, "process_batch": template.StepBatchWorker,
				"aggregate_results": template.StepDeferredConvergence,
			},
			deps: map[string][]string{
				"analyze_dataset": nil, "process_batch": {"analyze_dataset"}, "aggregate_results": {"process_batch"},
			},
			initial: []string{"analyze_dataset"},
		},
		{
			file: "retry_mechanics.yaml", key: "acceptance_retry/retry_mechanics:1.0.0",
			types:   map[string]template.StepType{"fail_twice_then_succeed": template.StepStandard},
			deps:    map[string][]string{"fail_twice_then_succeed": nil},
			initial: []string{"fail_twice_then_succeed"},
		},
		{
			file: "retry_exhaustion.yaml", key: "acceptance_retry/retry_exhaustion:1.0.0",
			types:   map[string]template.StepType{"always_fail": template.StepStandard},
			deps:    map[string][]string{"never_runs": {"always_fail"}},
			initial: []string{"always_fail", "never_runs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.ParseFile(filepath.Join(templatesDir, "acceptance", tt.file))
			require.NoError(t, err)
			require.Equal(t, tt.key, tmpl.Key())
			for name, typ := range tt.types {
				s, ok := tmpl.Step(name)
				require.True(t, ok, name)
				require.Equal(t, typ, s.Type, name)
			}
			for name, deps := range tt.deps {
				s, ok := tmpl.Step(name)
				require.True(t, ok, name)
				require.Equal(t, deps, s.Dependencies, name)
			}
			require.Equal(t, tt.initial, tmpl.InitialSteps())
		})
	}
}

func TestAcceptanceDetails(t *testing.T) {
	t.Parallel()
	parse := func(file string) *template.Template {
		tmpl, err := template.ParseFile(filepath.Join(templatesDir, "acceptance", file))
		require.NoError(t, err)
		return tmpl
	}

	batch := parse("batch.yaml")
	analyze, _ := batch.Step("analyze_dataset")
	require.Equal(t, map[string]any{"batch_size": int64(1000), "max_workers": int64(10), "worker_template_name": "process_batch"}, analyze.Initialization)
	worker, _ := batch.Step("process_batch")
	require.Equal(t, &template.BatchConfig{BatchSize: 1000, Parallelism: 10, CursorField: "id", WorkerTemplate: "process_batch", FailureStrategy: "continue_on_failure"}, worker.BatchConfig)

	retry := parse("retry_exhaustion.yaml")
	fail, _ := retry.Step("always_fail")
	require.Equal(t, template.Retry{Retryable: true, MaxAttempts: 3, Backoff: template.BackoffExponential, BackoffBaseMS: 100, MaxBackoffMS: 400, Jitter: true}, fail.Retry)
	require.Equal(t, map[string]any{"fail_count": int64(10)}, fail.Initialization)
	never, _ := retry.Step("never_runs")
	require.Equal(t, template.Retry{Retryable: true, MaxAttempts: 3, Backoff: template.BackoffExponential, BackoffBaseMS: 1000, MaxBackoffMS: 30000, Jitter: true}, never.Retry)

	tree := parse("tree.yaml")
	final, _ := tree.Step("tree_final_convergence")
	require.Equal(t, 45, final.TimeoutSeconds)

	linear := parse("linear.yaml")
	require.Equal(t, "Four steps in a chain; each squares its parent's result.", linear.Description)
	require.Equal(t, template.IdentityStrict, linear.IdentityStrategy)
	require.NotNil(t, linear.InputSchema)
}

func TestDialectsProduceEqualTemplates(t *testing.T) {
	t.Parallel()
	seed := `
namespace: shop
name: orders
version: "1.0"
steps:
  - name: validate
    handler: shop.validate
    retry: {retryable: true, max_attempts: 5, backoff: linear, backoff_base_ms: 200, max_backoff_ms: 2000}
    timeout_seconds: 30
  - name: ship
    handler: shop.ship
    dependencies: [validate]
`
	tasker := `
namespace_name: shop
name: orders
version: "1.0"
steps:
  - name: validate
    handler:
      callable: shop.validate
    retry: {retryable: true, max_attempts: 5, backoff: linear, backoff_base_ms: 200, max_backoff_ms: 2000}
    timeout_seconds: 30
    type: standard
  - name: ship
    handler: {callable: shop.ship, initialization: {}}
    depends_on: [validate]
    step_type: standard
`
	json := `{"namespace_name": "shop", "name": "orders", "version": "1.0", "steps": [
  {"name": "validate", "handler": {"callable": "shop.validate"}, "timeout_seconds": 30,
   "retry": {"retryable": true, "max_attempts": 5, "backoff": "linear", "backoff_base_ms": 200, "max_backoff_ms": 2000}},
  {"name": "ship", "handler": "shop.ship", "dependencies": ["validate"]}]}`
	a := mustParse(t, seed)
	b := mustParse(t, tasker)
	c, err := template.ParseJSON([]byte(json))
	require.NoError(t, err)
	d := mustParse(t, json) // JSON is YAML
	require.Equal(t, a, b)
	require.Equal(t, a, c)
	require.Equal(t, a, d)
}

func TestStepTypeAliases(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, `
namespace_name: aliases
name: aliases
version: 1.0.0
steps:
  - {name: start, handler: {callable: a}}
  - {name: decide, step_type: decision_point, handler: {callable: b}, depends_on: [start]}
  - {name: left, handler: {callable: c}, depends_on: [decide]}
  - {name: join, type: deferred, handler: {callable: d}, depends_on: [left]}
`)
	decide, _ := tmpl.Step("decide")
	join, _ := tmpl.Step("join")
	require.Equal(t, template.StepDecision, decide.Type)
	require.Equal(t, template.StepDeferredConvergence, join.Type)
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	all, err := template.LoadDir(templatesDir)
	require.NoError(t, err)
	require.Len(t, all, len(templateFiles(t)))
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].Key(), all[i].Key())
	}
}

func TestLoadDirReportsEveryBadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	good := "namespace: ok\nname: good\nversion: '1.0'\nsteps: [{name: a, handler: a}]\n"
	write("good.yaml", good)
	write("nested/copy.yml", good)
	write("bad_one.yaml", "namespace: ok\nname: bad\nversion: '1.0'\nsteps: []\n")
	write("deeper/bad_two.yaml", "namespace: ok\nname: bad2\nversion: x\nsteps: [{name: a, handler: a}]\n")
	write(".hidden/ignored.yaml", "not: a template\n")
	write("notes.txt", "not yaml at all: [")

	_, err := template.LoadDir(dir)
	require.Error(t, err)
	msg := err.Error()
	require.Contains(t, msg, filepath.Join(dir, "bad_one.yaml")+": steps: at least one step is required")
	require.Contains(t, msg, filepath.Join(dir, "deeper/bad_two.yaml")+`: version: "x" is not a version`)
	require.Contains(t, msg, "template ok/good:1.0 is also defined in")
	require.NotContains(t, msg, "ignored")
	require.ErrorIs(t, err, template.ErrInvalidTemplate)
	var verr *template.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, 3, strings.Count(msg, "\n")+1)
}

func TestLoadDirMissing(t *testing.T) {
	t.Parallel()
	_, err := template.LoadDir(filepath.Join(t.TempDir(), "absent"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestParseFileMissing(t *testing.T) {
	t.Parallel()
	_, err := template.ParseFile(filepath.Join(t.TempDir(), "absent.yaml"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}
