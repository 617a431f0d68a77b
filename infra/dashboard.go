package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// The dashboard has one row per API, table, queue and function, added as
// they are built, so a namespace worker brings its own rows.

var widgetPeriod = awscdk.Duration_Minutes(jsii.Number(1))

func newDashboard(t *Tasker) awscloudwatch.Dashboard {
	d := awscloudwatch.NewDashboard(t.Scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(t.names.Prefix),
	})
	table := func(name, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/DynamoDB"), MetricName: jsii.String(name),
			DimensionsMap: &map[string]*string{"TableName": jsii.String(t.Table.Spec.Name)},
			Statistic:     jsii.String(stat), Period: widgetPeriod,
		})
	}
	d.AddWidgets(
		graph("state table: consumed capacity", []awscloudwatch.IMetric{
			table("ConsumedWriteCapacityUnits", "Sum"), table("ConsumedReadCapacityUnits", "Sum"),
		}, nil),
		graph("state table: throttles and errors", []awscloudwatch.IMetric{
			table("ThrottledRequests", "Sum"), table("SystemErrors", "Sum"), table("UserErrors", "Sum"),
		}, nil),
	)
	return d
}

func addAPIWidgets(d awscloudwatch.Dashboard, t *Tasker) {
	opts := func(stat string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Statistic: jsii.String(stat), Period: widgetPeriod}
	}
	d.AddWidgets(
		graph("API: requests and errors", []awscloudwatch.IMetric{
			t.API.MetricCount(opts("Sum")), t.API.MetricClientError(opts("Sum")), t.API.MetricServerError(opts("Sum")),
		}, nil),
		graph("API: latency", []awscloudwatch.IMetric{
			t.API.MetricLatency(opts("p50")), t.API.MetricLatency(opts("p99")), t.API.MetricIntegrationLatency(opts("p99")),
		}, nil),
	)
}

func addQueueWidgets(d awscloudwatch.Dashboard, title string, q *Queue) {
	opts := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: widgetPeriod}
	d.AddWidgets(
		graph(title+": depth", []awscloudwatch.IMetric{
			q.Queue.MetricApproximateNumberOfMessagesVisible(opts), q.Queue.MetricApproximateNumberOfMessagesNotVisible(opts),
			q.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Statistic: jsii.String("Maximum"), Period: widgetPeriod, Label: jsii.String("dead letters"),
			}),
		}, nil),
		graph(title+": oldest message (s)", []awscloudwatch.IMetric{q.Queue.MetricApproximateAgeOfOldestMessage(opts)}, nil),
	)
}

func addFunctionWidgets(d awscloudwatch.Dashboard, title string, f *Function) {
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: widgetPeriod}
	d.AddWidgets(
		graph(title+": invocations", []awscloudwatch.IMetric{
			f.Function.MetricInvocations(sum), f.Function.MetricErrors(sum), f.Function.MetricThrottles(sum),
		}, nil),
		graph(title+": duration (ms)", []awscloudwatch.IMetric{
			f.Function.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p50"), Period: widgetPeriod}),
			f.Function.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: widgetPeriod}),
		}, nil),
	)
}

func graph(title string, left, right []awscloudwatch.IMetric) awscloudwatch.GraphWidget {
	props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12)}
	if len(right) > 0 {
		props.Right = &right
	}
	return awscloudwatch.NewGraphWidget(props)
}
