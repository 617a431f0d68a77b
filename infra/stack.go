package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Stack is the deployed stack "Tasker-<stage>": one installation, plus a
// worker for each sample namespace and the sample templates' schedules when
// Config.SampleWorkers is on.
type Stack struct {
	awscdk.Stack
	Tasker *Tasker
	// Samples is what was read from Config.TemplatesDir.
	Samples *Samples
	// Workers are the sample namespaces' workers, by namespace.
	Workers map[string]*NamespaceWorker
}

// NewStack builds the stack of cfg under scope (the app). It returns an
// error for an invalid Config, a template that does not load, or function
// code that is missing.
func NewStack(scope constructs.Construct, cfg Config) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	props := &awscdk.StackProps{
		StackName:   jsii.String(cfg.StackName()),
		Description: jsii.String("Tasker workflow orchestration, stage " + cfg.Stage),
		Tags:        &map[string]*string{"tasker:stage": jsii.String(cfg.Stage)},
	}
	if cfg.Account != "" || cfg.Region != "" {
		props.Env = &awscdk.Environment{Account: optional(cfg.Account), Region: optional(cfg.Region)}
	}
	s := &Stack{Stack: awscdk.NewStack(scope, jsii.String(cfg.StackName()), props), Workers: map[string]*NamespaceWorker{}}
	t, err := NewTasker(s.Stack, "Tasker", cfg)
	if err != nil {
		return nil, err
	}
	s.Tasker = t
	if s.Samples, err = LoadSamples(cfg.TemplatesDir); err != nil {
		return nil, err
	}
	// The sample templates' schedules go with their workers: a schedule
	// whose namespace has no step queue would create tasks nothing runs.
	if cfg.SampleWorkers {
		if err := s.addSampleWorkers(); err != nil {
			return nil, err
		}
		if err := t.AddTemplateSchedules(s.Samples.Schedules); err != nil {
			return nil, err
		}
	}
	s.addOutputs()
	suppressNagFindings(s)
	return s, nil
}

// addSampleWorkers deploys functions/worker (pkg/samplehandlers) once per
// sample namespace, each with its own queue, role and alarms, exactly as
// NewNamespaceWorker deploys yours.
func (s *Stack) addSampleWorkers() error {
	code, err := s.Tasker.code("worker")
	if err != nil {
		return err
	}
	for _, ns := range s.Samples.Namespaces {
		w, err := NewNamespaceWorker(s.Stack, "Worker"+constructID(ns), &NamespaceWorkerProps{
			Tasker: s.Tasker, Namespace: ns, Code: code,
		})
		if err != nil {
			return err
		}
		s.Workers[ns] = w
	}
	return nil
}

func (s *Stack) addOutputs() {
	t := s.Tasker
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: value})
	}
	out("ApiUrl", "Base URL of the API: tasker --api <url> (or TASKER_API_URL)", t.APIURL())
	out("DashboardUrl", "Operator dashboard: log in with an API key (docs/dashboard.md)", t.DashboardURL())
	out("Prefix", "Resource-name prefix (TASKER_PREFIX)", jsii.String(t.names.Prefix))
	out("StateTable", "DynamoDB state table", jsii.String(t.Table.Spec.Name))
	out("Dashboard", "CloudWatch dashboard", jsii.String(t.names.Prefix))
	if t.cfg.APIKeysSecret == "" {
		out("ApiKeySecret", "Secrets Manager secret holding the generated API key (JSON field \"key\")", jsii.String(t.APIKeysSecretName()))
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
