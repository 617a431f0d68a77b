package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks runs cdk-nag's AwsSolutions rules on everything under app at
// synth. A finding is an error annotation, which fails `cdk synth`; the
// stack suppresses the findings that are deliberate, each with its reason
// (suppressNagFindings).
func AddNagChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppressNagFindings records the AwsSolutions findings Tasker accepts, and
// why. Suppressions are scoped to the resources they concern.
func suppressNagFindings(s *Stack) {
	t := s.Tasker
	for _, r := range t.healthRoutes {
		suppress(r, true, nagSuppression("AwsSolutions-APIG4", "The health routes (/health, /health/live, /health/ready) "+
			"are open on purpose for load balancers and uptime checks, and answer nothing about tasks; every other "+
			"route goes through the Lambda authorizer."))
	}
	for _, r := range t.dashboardRoutes {
		suppress(r, true, nagSuppression("AwsSolutions-APIG4", "The dashboard routes (GET /ui, GET and POST "+
			"/ui/{proxy+}) cannot use the Lambda authorizer, because a browser sends no X-API-Key header; the intake "+
			"authenticates every dashboard request itself from an HttpOnly, Secure, SameSite=Strict session cookie with "+
			"the authorizer's own keys and JWT settings, checks the same permissions, refuses forms without a CSRF token "+
			"or from another origin, and answers 503 when no keys are configured. Requests on these routes never reach "+
			"the task API (docs/dashboard.md)."))
	}
	if t.apiKeysSecret != nil {
		suppress(t.apiKeysSecret, true, nagSuppression("AwsSolutions-SMG4", "The generated API key reaches the "+
			"authorizer through a CloudFormation dynamic reference resolved at deploy time, so a rotation Lambda would "+
			"leave the deployed key stale. Rotate by putting a new value and running `make deploy` (docs/deploy.md)."))
	}
}

// suppressXRayResourceStar accepts the one wildcard resource Tasker has.
func suppressXRayResourceStar(f *Function) {
	suppress(f.Role, true, nagSuppression("AwsSolutions-IAM5",
		"X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; CDK adds them with "+
			"Resource * when tracing is on (context tracing=true).", "Resource::*"))
}

func nagSuppression(id, reason string, appliesTo ...string) *cdknag.NagPackSuppression {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]any, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	return s
}

func suppress(construct any, children bool, suppressions ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &suppressions, jsii.Bool(children))
}
