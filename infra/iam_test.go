package infra_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/infra"
)

// xrayActions are the only actions allowed on Resource "*": X-Ray has no
// resource-level permissions.
var xrayActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

func TestNoWildcardActionsAndNoStarResources(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, policies := s.ofType("AWS::IAM::Policy")
			require.NotEmpty(t, policies)
			for _, p := range policies {
				doc := p.Properties["PolicyDocument"].(map[string]any)
				for _, st := range list(doc["Statement"]) {
					st := st.(map[string]any)
					require.Equal(t, "Allow", st["Effect"])
					actions := strs(st["Action"])
					for _, a := range actions {
						require.NotContains(t, a, "*", "wildcard action in %s", p.Properties["PolicyName"])
					}
					for _, r := range list(st["Resource"]) {
						if r == "*" {
							require.Subset(t, xrayActions, actions, "Resource * in %s", p.Properties["PolicyName"])
						}
					}
				}
			}
			_, roles := s.ofType("AWS::IAM::Role")
			for _, r := range roles {
				require.Nil(t, r.Properties["ManagedPolicyArns"], "no AWS managed policies")
				require.Nil(t, r.Properties["Policies"], "statements live in the roles' own policies")
			}
		})
	}
}

func TestTracingSwitch(t *testing.T) {
	t.Parallel()
	_, devFns := dev.ofType("AWS::Lambda::Function")
	for _, f := range devFns {
		require.Nil(t, f.Properties["TracingConfig"], "tracing is off by default")
	}
	_, prodFns := prod.ofType("AWS::Lambda::Function")
	for _, f := range prodFns {
		require.Equal(t, map[string]any{"Mode": "Active"}, f.Properties["TracingConfig"])
	}
}

// TestEachFunctionGetsOnlyWhatItUses compares every function role's
// permissions, action by action, with what the function does.
func TestEachFunctionGetsOnlyWhatItUses(t *testing.T) {
	t.Parallel()
	s := dev
	tk := s.stack.Tasker
	names := tk.Names()
	table, _ := s.byProp(t, "AWS::DynamoDB::Table", "TableName", names.StateTable())
	queue := func(name string) string {
		id, _ := s.byProp(t, "AWS::SQS::Queue", "QueueName", name)
		return id
	}
	orchestration, results := queue(names.OrchestrationQueue()), queue(names.ResultsQueue())
	var steps []string
	for _, ns := range s.stack.Samples.Namespaces {
		steps = append(steps, queue(names.StepQueue(ns)))
	}
	consume := []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
	engineTable := []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"}
	tableAndIndexes := []string{table, table + "/index/gsi1", table + "/index/sweep"}

	engine := func(f *infra.Function, consumes string) grants {
		g := grants{}
		g.add(logActions, s.logGroupOf(t, f))
		g.add(engineTable, tableAndIndexes...)
		g.add([]string{"sqs:GetQueueUrl", "sqs:SendMessage"}, append([]string{orchestration}, steps...)...)
		if consumes != "" {
			g.add(consume, consumes)
		}
		return g
	}
	cases := map[*infra.Function]grants{
		tk.Intake:     engine(tk.Intake, "").add([]string{"dynamodb:Scan"}, table),
		tk.Sweeper:    engine(tk.Sweeper, ""),
		tk.Scheduler:  engine(tk.Scheduler, orchestration),
		tk.ResultsFn:  engine(tk.ResultsFn, results),
		tk.Authorizer: grants{}.add(logActions, s.logGroupOf(t, tk.Authorizer)),
	}
	for ns, w := range s.stack.Workers {
		g := grants{}
		g.add(logActions, s.logGroupOf(t, w.Function))
		g.add([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, table)
		g.add([]string{"sqs:GetQueueUrl", "sqs:SendMessage"}, results)
		g.add(consume, queue(names.StepQueue(ns)))
		cases[w.Function] = g
	}
	require.Len(t, cases, 5+len(s.stack.Samples.Namespaces))
	for f, want := range cases {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			role, _ := s.byProp(t, "AWS::IAM::Role", "Description", fmt.Sprintf("Lambda function %s: only the actions it uses", f.Name))
			require.Equal(t, want.sorted(), s.grantsOf(role).sorted())
		})
	}
}

var logActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}

// grants maps an action to the resources it is allowed on, each written as
// a logical ID with any suffix ("StateTable…/index/gsi1").
type grants map[string]map[string]bool

func (g grants) add(actions []string, resources ...string) grants {
	for _, a := range actions {
		if g[a] == nil {
			g[a] = map[string]bool{}
		}
		for _, r := range resources {
			g[a][r] = true
		}
	}
	return g
}

func (g grants) sorted() []string {
	var out []string
	for a, rs := range g {
		for r := range rs {
			out = append(out, a+" on "+r)
		}
	}
	sort.Strings(out)
	return out
}

func (s *synthesized) grantsOf(roleID string) grants {
	g := grants{}
	for _, st := range s.statements(roleID) {
		var rs []string
		for _, r := range list(st["Resource"]) {
			rs = append(rs, describeResource(r))
		}
		g.add(strs(st["Action"]), rs...)
	}
	return g
}

// describeResource writes a policy resource as the logical ID it refers to
// plus any literal suffix joined to it.
func describeResource(v any) string {
	if id := refID(v); id != "" {
		return id
	}
	if m, ok := v.(map[string]any); ok {
		if j, ok := m["Fn::Join"].([]any); ok && len(j) == 2 {
			var b strings.Builder
			for _, part := range list(j[1]) {
				if id := refID(part); id != "" {
					b.WriteString(id)
				} else {
					b.WriteString(fmt.Sprint(part))
				}
			}
			return b.String()
		}
	}
	return fmt.Sprint(v)
}

func (s *synthesized) logGroupOf(t *testing.T, f *infra.Function) string {
	t.Helper()
	id, _ := s.byProp(t, "AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/"+f.Name)
	return id
}
