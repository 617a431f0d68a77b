package infra_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/resources"
)

// The deployed table and queues must be the ones `tasker dev` provisions:
// both come from pkg/resources, and these tests compare the synthesized
// template with the requests the local provisioner sends.

func TestTableAgreesWithLocalProvisioner(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := resources.StateTable(s.stack.Tasker.Names())
			in := spec.CreateTableInput()
			_, table := s.byProp(t, "AWS::DynamoDB::Table", "TableName", aws.ToString(in.TableName))
			p := table.Properties

			require.Equal(t, string(in.BillingMode), p["BillingMode"])
			require.Equal(t, keySchema(t, in.KeySchema), keySchema(t, p["KeySchema"]))
			require.ElementsMatch(t, jsonList(t, in.AttributeDefinitions), jsonList(t, p["AttributeDefinitions"]))

			var want, got []string
			for _, g := range in.GlobalSecondaryIndexes {
				want = append(want, fmt.Sprintf("%s %v %s", aws.ToString(g.IndexName), keySchema(t, g.KeySchema), g.Projection.ProjectionType))
			}
			for _, g := range list(p["GlobalSecondaryIndexes"]) {
				g := g.(map[string]any)
				got = append(got, fmt.Sprintf("%s %v %s", g["IndexName"], keySchema(t, g["KeySchema"]),
					g["Projection"].(map[string]any)["ProjectionType"]))
			}
			require.Equal(t, want, got, "global secondary indexes")

			require.Equal(t, map[string]any{"AttributeName": spec.TTLAttribute, "Enabled": true}, p["TimeToLiveSpecification"])
			require.Equal(t, map[string]any{"PointInTimeRecoveryEnabled": spec.PointInTimeRecovery}, p["PointInTimeRecoverySpecification"])
			require.Equal(t, true, p["SSESpecification"].(map[string]any)["SSEEnabled"], "encryption at rest")
			_, hasStream := p["StreamSpecification"]
			require.Equal(t, in.StreamSpecification != nil, hasStream)
		})
	}
}

func TestQueuesAgreeWithLocalProvisioner(t *testing.T) {
	t.Parallel()
	s := dev
	specs := resources.Queues(s.stack.Tasker.Names(), s.stack.Samples.Namespaces)
	require.Len(t, specs, 2+len(s.stack.Samples.Namespaces))
	ids, _ := s.ofType("AWS::SQS::Queue")
	require.Len(t, ids, 2*len(specs), "a DLQ per queue and no other queue")

	for _, spec := range specs {
		t.Run(spec.Name, func(t *testing.T) {
			t.Parallel()
			_, q := s.byProp(t, "AWS::SQS::Queue", "QueueName", spec.Name)
			dlqID, dlq := s.byProp(t, "AWS::SQS::Queue", "QueueName", spec.DLQ.Name)

			require.Equal(t, spec.Attributes(""), queueAttributes(q), "main queue attributes")
			require.Equal(t, spec.DLQ.Attributes(""), queueAttributes(dlq), "DLQ attributes")

			redrive := q.Properties["RedrivePolicy"].(map[string]any)
			require.Equal(t, float64(spec.MaxReceiveCount), redrive["maxReceiveCount"])
			require.Equal(t, dlqID, refID(redrive["deadLetterTargetArn"]), "redrives to its own DLQ")
			require.Nil(t, dlq.Properties["RedrivePolicy"], "a DLQ redrives nowhere")

			for _, r := range []cfnResource{q, dlq} {
				require.Equal(t, true, r.Properties["SqsManagedSseEnabled"], "encryption at rest")
			}
		})
	}
}

// TestVisibilityIsSixTimesConsumerTimeout checks every event source: the
// queue's visibility timeout is VisibilityPerConsumerTimeout times the
// consuming function's timeout, which is the spec's ConsumerTimeout.
func TestVisibilityIsSixTimesConsumerTimeout(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, esms := s.ofType("AWS::Lambda::EventSourceMapping")
			require.NotEmpty(t, esms)
			for _, m := range esms {
				q := s.template.Resources[refID(m.Properties["EventSourceArn"])]
				fn := s.template.Resources[refID(m.Properties["FunctionName"])]
				visibility := num(q.Properties["VisibilityTimeout"])
				timeout := num(fn.Properties["Timeout"])
				require.Positive(t, timeout)
				require.Equal(t, resources.VisibilityPerConsumerTimeout*timeout, visibility,
					"queue %s, function %s", q.Properties["QueueName"], fn.Properties["FunctionName"])
			}
		})
	}
}

func TestCustomWorkerTimeoutDrivesItsQueue(t *testing.T) {
	t.Parallel()
	names := prod.stack.Tasker.Names()
	_, q := prod.byProp(t, "AWS::SQS::Queue", "QueueName", names.StepQueue(customNamespace))
	_, fn := prod.byProp(t, "AWS::Lambda::Function", "FunctionName", names.Prefix+"-worker-"+customNamespace)
	require.Equal(t, float64(customTimeout), fn.Properties["Timeout"])
	require.Equal(t, float64(customMemoryMB), fn.Properties["MemorySize"])
	require.Equal(t, float64(resources.VisibilityPerConsumerTimeout*customTimeout), q.Properties["VisibilityTimeout"])
}

// queueAttributes maps a queue's CloudFormation properties to the
// CreateQueue attributes resources.QueueSpec.Attributes produces.
func queueAttributes(r cfnResource) map[string]string {
	attr := map[string]string{}
	for prop, name := range map[string]string{
		"VisibilityTimeout":             "VisibilityTimeout",
		"MessageRetentionPeriod":        "MessageRetentionPeriod",
		"ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
	} {
		if v, ok := r.Properties[prop]; ok {
			attr[name] = strconv.FormatFloat(num(v), 'f', -1, 64)
		}
	}
	return attr
}

// keySchema renders an SDK or template key schema as "name:TYPE" pairs.
func keySchema(t *testing.T, v any) []string {
	t.Helper()
	var ks []struct{ AttributeName, KeyType string }
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &ks))
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.AttributeName + ":" + k.KeyType
	}
	return out
}

// jsonList renders each element of an SDK or template list as canonical JSON.
func jsonList(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var elems []map[string]any
	require.NoError(t, json.Unmarshal(b, &elems))
	out := make([]string, len(elems))
	for i, e := range elems {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}
