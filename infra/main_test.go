package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/infra"
)

// Synthesizing starts a jsii kernel (node) and takes seconds, so the test
// binary builds its stacks once, in TestMain, and every test reads them.
var (
	// dev is the stack `make synth` builds: stage dev, sample workers,
	// cdk-nag checks; function code is the placeholder.
	dev *synthesized
	// prod is a second app: stage prod-eu, tracing on, no sample workers,
	// one custom namespace worker and one template schedule added by hand.
	prod *synthesized
)

// synthesized is a stack with its template, decoded once.
type synthesized struct {
	stack    *infra.Stack
	assert   assertions.Template
	template cfnTemplate
	// nagErrors and nagWarnings are the unsuppressed cdk-nag findings.
	nagErrors, nagWarnings []string
}

type cfnTemplate struct {
	Resources map[string]cfnResource `json:"Resources"`
	Outputs   map[string]any         `json:"Outputs"`
}

type cfnResource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      any            `json:"DependsOn"`
}

// Custom worker added to the prod stack by NewNamespaceWorker.
const (
	customNamespace = "orders"
	customTimeout   = 300 // seconds
	customMemoryMB  = 1024
)

func TestMain(m *testing.M) {
	// The machines run Node 20, whose end-of-life banner would otherwise
	// top every test run; `make synth` uses Node 22 from .cdk/.
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := func() int {
		defer jsii.Close()
		if err := synthAll(); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func synthAll() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := infra.ModuleRoot(wd)
	if err != nil {
		return err
	}
	if dev, err = synthDev(root); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	if prod, err = synthProd(root); err != nil {
		return fmt.Errorf("prod: %w", err)
	}
	return nil
}

func synthDev(root string) (*synthesized, error) {
	app := awscdk.NewApp(nil)
	ctx := map[string]any{infra.ContextPlaceholderCode: "true"}
	cfg, err := infra.ConfigFromContext(root, func(k string) any { return ctx[k] }, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	s, err := infra.NewStack(app, cfg)
	if err != nil {
		return nil, err
	}
	infra.AddNagChecks(app)
	return decode(s)
}

func synthProd(root string) (*synthesized, error) {
	app := awscdk.NewApp(nil)
	ctx := map[string]any{
		infra.ContextStage: "prod-eu", infra.ContextTracing: true, infra.ContextSampleWorkers: "false",
		infra.ContextAPIKeysSecret: "tasker/prod-eu/keys", infra.ContextAlarmTopicARN: "arn:aws:sns:eu-west-1:123456789012:oncall",
	}
	env := map[string]string{infra.EnvPlaceholderCode: "1", "CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "eu-west-1"}
	cfg, err := infra.ConfigFromContext(root, func(k string) any { return ctx[k] }, func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	s, err := infra.NewStack(app, cfg)
	if err != nil {
		return nil, err
	}
	_, err = infra.NewNamespaceWorker(s.Stack, "OrdersWorker", &infra.NamespaceWorkerProps{
		Tasker:    s.Tasker,
		Namespace: customNamespace,
		Code:      awslambdaPlaceholder(root),
		MemoryMB:  customMemoryMB,
		Timeout:   customTimeout * time.Second,
	})
	if err != nil {
		return nil, err
	}
	err = s.Tasker.AddTemplateSchedules([]infra.TemplateSchedule{{
		Namespace: "scheduled_jobs", Name: "daily_reporting", Version: "1.0", Schedule: "hourly",
		Expression: "rate(1 hour)", Timezone: "Europe/Berlin", Enabled: false,
	}})
	if err != nil {
		return nil, err
	}
	infra.AddNagChecks(app)
	return decode(s)
}

func decode(s *infra.Stack) (*synthesized, error) {
	tmpl := assertions.Template_FromStack(s.Stack, nil)
	b, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		return nil, err
	}
	out := &synthesized{stack: s, assert: tmpl}
	if err := json.Unmarshal(b, &out.template); err != nil {
		return nil, err
	}
	ann := assertions.Annotations_FromStack(s.Stack)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	out.nagErrors = messages(ann.FindError(jsii.String("*"), nag))
	out.nagWarnings = messages(ann.FindWarning(jsii.String("*"), nag))
	return out, nil
}

func messages(ms *[]*cxapi.SynthesisMessage) []string {
	var out []string
	for _, m := range *ms {
		out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}

// ofType returns the logical IDs and resources of type typ, sorted by ID.
func (s *synthesized) ofType(typ string) ([]string, []cfnResource) {
	var ids []string
	for id, r := range s.template.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	rs := make([]cfnResource, len(ids))
	for i, id := range ids {
		rs[i] = s.template.Resources[id]
	}
	return ids, rs
}

// byProp returns the resource of type typ whose property prop equals value.
func (s *synthesized) byProp(t *testing.T, typ, prop string, value any) (string, cfnResource) {
	t.Helper()
	ids, rs := s.ofType(typ)
	for i, r := range rs {
		if fmt.Sprint(r.Properties[prop]) == fmt.Sprint(value) {
			return ids[i], r
		}
	}
	t.Fatalf("no %s with %s = %v", typ, prop, value)
	return "", cfnResource{}
}

// getAtt returns the logical ID an {"Fn::GetAtt": [id, attr]} or
// {"Ref": id} refers to, "" for anything else.
func refID(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		id, _ := ga[0].(string)
		return id
	}
	return ""
}

// statements returns every IAM statement of the policies attached to the
// role with logical ID roleID.
func (s *synthesized) statements(roleID string) []map[string]any {
	var out []map[string]any
	_, policies := s.ofType("AWS::IAM::Policy")
	for _, p := range policies {
		attached := false
		for _, r := range p.Properties["Roles"].([]any) {
			if refID(r) == roleID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// mustMatch runs a jsii assertion, which panics with the mismatch.
func mustMatch(t *testing.T, what string, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	assertion()
}

func awslambdaPlaceholder(root string) awslambda.Code {
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(root, "infra", "testdata", "placeholder")), nil)
}
