package infra_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/infra"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/lambdafn"
	"github.com/tasker-go/tasker/pkg/resources"
)

func TestFunctionsAreGoOnArm64WithRetainedLogs(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ids, fns := s.ofType("AWS::Lambda::Function")
			require.Len(t, fns, len(s.stack.Tasker.Functions()))
			for i, f := range fns {
				p := f.Properties
				require.Equal(t, "provided.al2023", p["Runtime"], ids[i])
				require.Equal(t, []any{"arm64"}, p["Architectures"], ids[i])
				require.Equal(t, "bootstrap", p["Handler"], ids[i])
				require.Equal(t, "Allow", p["RecursiveLoop"], ids[i])
				logGroup := refID(p["LoggingConfig"].(map[string]any)["LogGroup"])
				lg := s.template.Resources[logGroup]
				require.Equal(t, "/aws/lambda/"+p["FunctionName"].(string), lg.Properties["LogGroupName"])
				require.Positive(t, num(lg.Properties["RetentionInDays"]))
			}
		})
	}
}

// TestEnvironmentCarriesOnlyThePrefix: functions derive every table and
// queue name from TASKER_PREFIX, as `tasker dev` does; the names derived
// from it are the deployed ones.
func TestEnvironmentCarriesOnlyThePrefix(t *testing.T) {
	t.Parallel()
	s := dev
	names := s.stack.Tasker.Names()
	for _, f := range s.stack.Tasker.Functions() {
		_, fn := s.byProp(t, "AWS::Lambda::Function", "FunctionName", f.Name)
		env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		require.Equal(t, names.Prefix, env[lambdafn.EnvPrefix], f.Name)
		require.Equal(t, "info", env[infra.EnvLogLevel], f.Name)
		keys := slices.Sorted(maps.Keys(env))
		if f == s.stack.Tasker.Authorizer || f == s.stack.Tasker.Intake {
			require.Equal(t, []string{auth.EnvAPIKeys, infra.EnvLogLevel, lambdafn.EnvPrefix}, keys, f.Name)
			continue
		}
		require.Equal(t, []string{infra.EnvLogLevel, lambdafn.EnvPrefix}, keys, f.Name)
	}
	derived := resources.Names{Prefix: names.Prefix}
	s.byProp(t, "AWS::DynamoDB::Table", "TableName", derived.StateTable())
	s.byProp(t, "AWS::SQS::Queue", "QueueName", derived.OrchestrationQueue())
	s.byProp(t, "AWS::SQS::Queue", "QueueName", derived.ResultsQueue())
}

// TestIntakeHasTheAuthorizersAuthEnvironment: the dashboard the intake
// serves authenticates with exactly the authorizer's keys and JWT settings.
func TestIntakeHasTheAuthorizersAuthEnvironment(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			envOf := func(f *infra.Function) map[string]any {
				_, fn := s.byProp(t, "AWS::Lambda::Function", "FunctionName", f.Name)
				return fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			}
			intake, authorizer := envOf(s.stack.Tasker.Intake), envOf(s.stack.Tasker.Authorizer)
			require.NotEmpty(t, authorizer[auth.EnvAPIKeys])
			for _, k := range []string{auth.EnvAPIKeys, auth.EnvJWTJWKSURL, auth.EnvJWTPublicKey} {
				require.Equal(t, authorizer[k], intake[k], k)
			}
		})
	}
}

// Not parallel: jsii calls must not overlap.
func TestEventSourceMappingsReportBatchItemFailures(t *testing.T) {
	mustMatch(t, "every mapping", func() {
		dev.assert.AllResourcesProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"BatchSize":                      10,
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
			"ScalingConfig":                  map[string]any{"MaximumConcurrency": assertions.Match_AnyValue()},
			"MaximumBatchingWindowInSeconds": assertions.Match_Absent(),
		})
	})
	// One mapping per consumed queue: orchestration, results, every namespace.
	_, esms := dev.ofType("AWS::Lambda::EventSourceMapping")
	require.Len(t, esms, 2+len(dev.stack.Samples.Namespaces))
}

// TestEngineConcurrency: the functions that write most to the table have
// reserved concurrency equal to their event source's maximum concurrency;
// the sweeper runs one at a time.
func TestEngineConcurrency(t *testing.T) {
	t.Parallel()
	tk := dev.stack.Tasker
	for _, f := range []*infra.Function{tk.Scheduler, tk.ResultsFn} {
		id := dev.idOfFunction(t, f.Name)
		fn := dev.template.Resources[id]
		for _, m := range esmsOf(dev, id) {
			require.Equal(t, fn.Properties["ReservedConcurrentExecutions"], m.Properties["ScalingConfig"].(map[string]any)["MaximumConcurrency"], f.Name)
		}
	}
	_, sweeper := dev.byProp(t, "AWS::Lambda::Function", "FunctionName", tk.Sweeper.Name)
	require.Equal(t, float64(1), sweeper.Properties["ReservedConcurrentExecutions"])
	require.Less(t, num(sweeper.Properties["Timeout"]), float64(60), "a sweep ends before the next starts")
	_, intake := dev.byProp(t, "AWS::Lambda::Function", "FunctionName", tk.Intake.Name)
	require.Less(t, num(intake.Properties["Timeout"]), float64(30), "under API Gateway's integration limit")
}

func TestEngineTimeoutsComeFromQueueSpecs(t *testing.T) {
	t.Parallel()
	tk := dev.stack.Tasker
	for f, q := range map[*infra.Function]*infra.Queue{tk.Scheduler: tk.Orchestration, tk.ResultsFn: tk.Results} {
		_, fn := dev.byProp(t, "AWS::Lambda::Function", "FunctionName", f.Name)
		require.Equal(t, q.Spec.ConsumerTimeout, time.Duration(num(fn.Properties["Timeout"]))*time.Second, f.Name)
	}
	for _, w := range dev.stack.Workers {
		_, fn := dev.byProp(t, "AWS::Lambda::Function", "FunctionName", w.Function.Name)
		require.Equal(t, resources.DefaultStepConsumerTimeout, time.Duration(num(fn.Properties["Timeout"]))*time.Second)
	}
}

func TestSweeperRunsEveryMinute(t *testing.T) {
	t.Parallel()
	_, rules := dev.ofType("AWS::Events::Rule")
	require.Len(t, rules, 1)
	p := rules[0].Properties
	require.Equal(t, "rate(1 minute)", p["ScheduleExpression"])
	target := list(p["Targets"])[0].(map[string]any)
	require.Equal(t, dev.idOfFunction(t, dev.stack.Tasker.Sweeper.Name), refID(target["Arn"]))
}

func esmsOf(s *synthesized, functionID string) []cfnResource {
	var out []cfnResource
	_, esms := s.ofType("AWS::Lambda::EventSourceMapping")
	for _, m := range esms {
		if refID(m.Properties["FunctionName"]) == functionID {
			out = append(out, m)
		}
	}
	return out
}
