package infra

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/pkg/resources"
)

// Tasker is one installation of the engine: the state table, the
// orchestration and results queues, the intake, scheduler, results, sweeper
// and authorizer functions, the HTTP API, the alarms and the dashboard.
// Step queues and their workers are added per namespace (NewNamespaceWorker
// or AddStepQueue).
type Tasker struct {
	// Scope is the construct everything of the installation lives under.
	Scope constructs.Construct

	Table         *Table
	Orchestration *Queue
	Results       *Queue

	Intake     *Function
	Scheduler  *Function
	ResultsFn  *Function
	Sweeper    *Function
	Authorizer *Function

	API       awsapigatewayv2.HttpApi
	Dashboard awscloudwatch.Dashboard

	cfg        Config
	names      resources.Names
	stepQueues map[string]*Queue
	functions  []*Function
	// sends are the engine functions' statements allowing sends to the
	// orchestration and step queues; each new step queue joins them.
	sends  []awsiam.PolicyStatement
	alarms []awscloudwatch.Alarm
	// healthRoutes are the API routes without the authorizer.
	healthRoutes []awsapigatewayv2.HttpRoute
	// dashboardRoutes are the /ui routes, also without the authorizer:
	// the dashboard authenticates its own session cookie.
	dashboardRoutes []awsapigatewayv2.HttpRoute
	// apiKeysSecret is the generated API key secret, nil when configured.
	apiKeysSecret awssecretsmanager.Secret
	// authEnv is pkg/auth's environment, shared by the authorizer and the
	// intake (authEnvironment).
	authEnv map[string]string
	// schedules holds the schedule group and role, made on first use;
	// scheduleNames the names of the schedules deployed so far.
	schedules struct {
		group awsscheduler.CfnScheduleGroup
		role  awsiam.Role
	}
	scheduleNames map[string]bool
}

// NewTasker builds an installation under a new construct scope/id. It
// returns an error for an invalid Config or function code that is missing.
func NewTasker(scope constructs.Construct, id string, cfg Config) (*Tasker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tasker{
		Scope:         constructs.NewConstruct(scope, jsii.String(id)),
		cfg:           cfg,
		names:         cfg.Names(),
		stepQueues:    map[string]*Queue{},
		scheduleNames: map[string]bool{},
	}
	t.Table = newTable(t.Scope, "StateTable", resources.StateTable(t.names), cfg.IsProd())
	var err error
	if t.Orchestration, err = t.engineQueue("Orchestration", t.names.OrchestrationQueue()); err != nil {
		return nil, err
	}
	if t.Results, err = t.engineQueue("Results", t.names.ResultsQueue()); err != nil {
		return nil, err
	}
	t.Dashboard = newDashboard(t)
	if err := t.addEngineFunctions(); err != nil {
		return nil, err
	}
	t.addAPI()
	t.addSweepSchedule()
	t.addEngineAlarms()
	return t, nil
}

// Config returns the configuration the installation was built with.
func (t *Tasker) Config() Config { return t.cfg }

// Names returns the installation's resource names.
func (t *Tasker) Names() resources.Names { return t.names }

// Functions returns every function of the installation, workers included.
func (t *Tasker) Functions() []*Function { return t.functions }

// StepQueue returns the step queue of namespace, or nil when none was added.
func (t *Tasker) StepQueue(namespace string) *Queue { return t.stepQueues[namespace] }

// AddStepQueue adds the step queue (and DLQ) of namespace, for a consumer
// whose timeout is the queue spec's ConsumerTimeout (see
// resources.QueueSpec.WithConsumerTimeout for other consumers), and lets
// the engine functions send to it. Use it directly for workers that do not
// run in Lambda (pollers on ECS or EC2); NewNamespaceWorker calls it. It
// returns an error for an invalid namespace or a namespace added twice.
func (t *Tasker) AddStepQueue(namespace string, spec resources.QueueSpec) (*Queue, error) {
	if err := resources.ValidateNamespace(namespace); err != nil {
		return nil, err
	}
	if _, ok := t.stepQueues[namespace]; ok {
		return nil, fmt.Errorf("namespace %s: step queue added twice", namespace)
	}
	if want := t.names.StepQueue(namespace); spec.Name != want {
		return nil, fmt.Errorf("namespace %s: step queue must be named %s, not %s", namespace, want, spec.Name)
	}
	q, err := newQueue(t.Scope, "Steps"+constructID(namespace), spec, t.cfg.IsProd())
	if err != nil {
		return nil, err
	}
	t.stepQueues[namespace] = q
	for _, st := range t.sends {
		st.AddResources(q.Queue.QueueArn())
	}
	t.addQueueAlarms(q, stepQueueOldestAge)
	addQueueWidgets(t.Dashboard, "steps: "+namespace, q)
	return q, nil
}

// StepQueueSpec returns the spec of namespace's step queue from
// resources.Queues, the one `tasker dev` provisions.
func (t *Tasker) StepQueueSpec(namespace string) (resources.QueueSpec, error) {
	return queueSpec(t.names, []string{namespace}, t.names.StepQueue(namespace))
}

func (t *Tasker) engineQueue(id, name string) (*Queue, error) {
	spec, err := queueSpec(t.names, nil, name)
	if err != nil {
		return nil, err
	}
	return newQueue(t.Scope, id, spec, t.cfg.IsProd())
}

// code returns function name's code: bin/<name>, or the placeholder.
func (t *Tasker) code(name string) (awslambda.Code, error) {
	dir, err := t.cfg.codeDir(name)
	if err != nil {
		return nil, err
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil), nil
}

// constructID turns a namespace ("user_onboarding") into a construct id
// fragment ("UserOnboarding").
func constructID(namespace string) string {
	out := make([]byte, 0, len(namespace))
	upper := true
	for i := 0; i < len(namespace); i++ {
		c := namespace[i]
		switch {
		case c == '_' || c == '-':
			upper = true
			continue
		case upper && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		upper = false
		out = append(out, c)
	}
	return string(out)
}
