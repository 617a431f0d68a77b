package infra

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// How old the oldest message of a main queue may grow before its alarm
// fires: consumers normally take a message within seconds.
const (
	// resultsOldestAge: results are applied as they arrive; five minutes of
	// backlog means results is failing or capped too low.
	resultsOldestAge = 5 * time.Minute
	// orchestrationOldestAge allows for retry messages sent with SQS's
	// largest delay, 15 minutes, before they become visible.
	orchestrationOldestAge = 20 * time.Minute
	// stepQueueOldestAge allows a namespace a backlog a worker capped at
	// its maximum concurrency can reasonably drain.
	stepQueueOldestAge = 15 * time.Minute
)

// alarmPeriod is the metric period of every alarm.
var alarmPeriod = awscdk.Duration_Minutes(jsii.Number(1))

// addEngineAlarms alarms on the engine queues and functions.
func (t *Tasker) addEngineAlarms() {
	t.addQueueAlarms(t.Orchestration, orchestrationOldestAge)
	t.addQueueAlarms(t.Results, resultsOldestAge)
	for _, f := range []*Function{t.Intake, t.Scheduler, t.ResultsFn, t.Sweeper, t.Authorizer} {
		t.addFunctionAlarms(f)
	}
	addAPIWidgets(t.Dashboard, t)
	addQueueWidgets(t.Dashboard, "orchestration queue", t.Orchestration)
	addQueueWidgets(t.Dashboard, "results queue", t.Results)
	for _, f := range []*Function{t.Intake, t.Scheduler, t.ResultsFn, t.Sweeper, t.Authorizer} {
		addFunctionWidgets(t.Dashboard, f.Name, f)
	}
}

// addQueueAlarms alarms when q's DLQ holds any message (each one is work
// that failed five deliveries) and when q's oldest message is older than
// oldest for five minutes running.
func (t *Tasker) addQueueAlarms(q *Queue, oldest time.Duration) {
	t.alarm(q.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: alarmPeriod}),
		q.Spec.DLQ.Name+"-depth", fmt.Sprintf("Dead-letter queue %s holds messages: inspect and redrive them", q.Spec.DLQ.Name), 0, 1)
	t.alarm(q.Queue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: alarmPeriod}),
		q.Spec.Name+"-oldest-age", fmt.Sprintf("Queue %s has had a message older than %v for 5 minutes: its consumer is failing or capped", q.Spec.Name, oldest),
		oldest.Seconds(), 5)
}

// addFunctionAlarms alarms on any error (a crash, a timeout, a handler's
// error return; failed records of a batch are reported, not errors) or
// throttle of f within five minutes.
func (t *Tasker) addFunctionAlarms(f *Function) {
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}
	t.alarm(f.Function.MetricErrors(sum), f.Name+"-errors", "Function "+f.Name+" failed invocations", 0, 1)
	t.alarm(f.Function.MetricThrottles(sum), f.Name+"-throttles", "Function "+f.Name+" was throttled", 0, 1)
}

// alarm fires when metric exceeds threshold for periods periods in a row.
// Missing data (an idle queue or function) is fine.
func (t *Tasker) alarm(metric awscloudwatch.Metric, name, description string, threshold float64, periods int) {
	a := metric.CreateAlarm(t.Scope, jsii.String("Alarm-"+name), &awscloudwatch.CreateAlarmOptions{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(description),
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(float64(periods)),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	if t.cfg.AlarmTopicARN != "" {
		topic := awssns.Topic_FromTopicArn(t.Scope, jsii.String("AlarmTopic-"+name), jsii.String(t.cfg.AlarmTopicARN))
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	}
	t.alarms = append(t.alarms, a)
}

// Alarms returns every alarm of the installation.
func (t *Tasker) Alarms() []awscloudwatch.Alarm { return t.alarms }
