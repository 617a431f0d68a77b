package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"
)

// SweepInterval is how often EventBridge invokes the sweeper.
const SweepInterval = "rate(1 minute)"

// addSweepSchedule invokes the sweeper every minute through an EventBridge
// rule. Delivery is retried briefly; an invocation older than a minute is
// dropped, since the next one does the same work.
func (t *Tasker) addSweepSchedule() {
	awsevents.NewRule(t.Scope, jsii.String("SweepSchedule"), &awsevents.RuleProps{
		RuleName:    jsii.String(t.names.Prefix + "-sweep"),
		Description: jsii.String("Tasker " + t.cfg.Stage + ": run the sweeper every minute"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(SweepInterval)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(t.Sweeper.Function, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(1)),
		})},
	})
}
