package infra_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/resources"
)

// alarmsOn returns the alarms on metric whose dimensions refer to the
// resource with logical ID id.
func (s *synthesized) alarmsOn(metric, id string) []cfnResource {
	var out []cfnResource
	_, alarms := s.ofType("AWS::CloudWatch::Alarm")
	for _, a := range alarms {
		if a.Properties["MetricName"] != metric {
			continue
		}
		for _, d := range list(a.Properties["Dimensions"]) {
			v := d.(map[string]any)["Value"]
			if refID(v) == id || describeResource(v) == id {
				out = append(out, a)
			}
		}
	}
	return out
}

func TestEveryDLQAlarmsOnAnyMessage(t *testing.T) {
	t.Parallel()
	s := dev
	for _, spec := range resources.Queues(s.stack.Tasker.Names(), s.stack.Samples.Namespaces) {
		dlq, _ := s.byProp(t, "AWS::SQS::Queue", "QueueName", spec.DLQ.Name)
		alarms := s.alarmsOnQueue(t, "ApproximateNumberOfMessagesVisible", spec.DLQ.Name)
		require.Len(t, alarms, 1, "DLQ %s (%s)", spec.DLQ.Name, dlq)
		p := alarms[0].Properties
		require.Equal(t, float64(0), p["Threshold"])
		require.Equal(t, "GreaterThanThreshold", p["ComparisonOperator"])
		require.Equal(t, "notBreaching", p["TreatMissingData"])

		age := s.alarmsOnQueue(t, "ApproximateAgeOfOldestMessage", spec.Name)
		require.Len(t, age, 1, "oldest message alarm on %s", spec.Name)
		require.Positive(t, num(age[0].Properties["Threshold"]))
	}
}

func TestEveryFunctionAlarmsOnErrorsAndThrottles(t *testing.T) {
	t.Parallel()
	for _, s := range []*synthesized{dev, prod} {
		for _, f := range s.stack.Tasker.Functions() {
			id := s.idOfFunction(t, f.Name)
			require.Len(t, s.alarmsOn("Errors", id), 1, f.Name)
			require.Len(t, s.alarmsOn("Throttles", id), 1, f.Name)
		}
	}
}

func TestAlarmsNotifyTheConfiguredTopic(t *testing.T) {
	t.Parallel()
	_, devAlarms := dev.ofType("AWS::CloudWatch::Alarm")
	for _, a := range devAlarms {
		require.Nil(t, a.Properties["AlarmActions"])
	}
	_, prodAlarms := prod.ofType("AWS::CloudWatch::Alarm")
	require.NotEmpty(t, prodAlarms)
	for _, a := range prodAlarms {
		require.Equal(t, []any{"arn:aws:sns:eu-west-1:123456789012:oncall"}, a.Properties["AlarmActions"])
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	_, dashboards := dev.ofType("AWS::CloudWatch::Dashboard")
	require.Len(t, dashboards, 1)
	require.Equal(t, dev.stack.Tasker.Names().Prefix, dashboards[0].Properties["DashboardName"])
}

// alarmsOnQueue finds alarms by the queue's name: SQS metrics have the
// QueueName dimension, which the template writes as a GetAtt.
func (s *synthesized) alarmsOnQueue(t *testing.T, metric, queueName string) []cfnResource {
	t.Helper()
	id, _ := s.byProp(t, "AWS::SQS::Queue", "QueueName", queueName)
	var out []cfnResource
	_, alarms := s.ofType("AWS::CloudWatch::Alarm")
	for _, a := range alarms {
		if a.Properties["MetricName"] != metric {
			continue
		}
		for _, d := range list(a.Properties["Dimensions"]) {
			if refID(d.(map[string]any)["Value"]) == id {
				out = append(out, a)
			}
		}
	}
	return out
}
