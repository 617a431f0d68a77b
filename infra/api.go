package infra

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// Stage throttling of the HTTP API (every route). The bucket protects the
// intake function and, through it, the table; raise it with an account
// quota in mind (10,000 requests/s per region across all APIs).
const (
	apiRateLimit  = 100 // steady requests per second
	apiBurstLimit = 200 // bucket size
)

// HealthPaths are served without the authorizer: load balancers and uptime
// checks carry no credentials.
var HealthPaths = []string{"/health", "/health/live", "/health/ready"}

// Route is one method and path of the HTTP API.
type Route struct {
	Method awsapigatewayv2.HttpMethod
	Path   string
}

// DashboardRoutes are the operator dashboard's routes (pkg/dashboard, served
// by the intake under /ui), with only the methods it uses. They have no
// Lambda authorizer: a browser sends no X-API-Key header, so the dashboard
// authenticates its own HttpOnly session cookie with the authorizer's
// configuration, and checks a CSRF token and the Origin on every form.
var DashboardRoutes = []Route{
	{awsapigatewayv2.HttpMethod_GET, "/ui"},
	{awsapigatewayv2.HttpMethod_GET, "/ui/{proxy+}"},
	{awsapigatewayv2.HttpMethod_POST, "/ui/{proxy+}"},
}

// apiAccessLogFormat is one JSON line per request.
var apiAccessLogFormat = mustJSON(map[string]string{
	"requestId":          "$context.requestId",
	"ip":                 "$context.identity.sourceIp",
	"requestTime":        "$context.requestTime",
	"method":             "$context.httpMethod",
	"routeKey":           "$context.routeKey",
	"path":               "$context.path",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"latencyMs":          "$context.responseLatency",
	"integrationLatency": "$context.integrationLatency",
	"integrationError":   "$context.integrationErrorMessage",
	"authorizerError":    "$context.authorizer.error",
	"principal":          "$context.authorizer.principal",
})

// addAPI builds the HTTP API in front of intake: every route but the
// health and dashboard routes goes through the Lambda authorizer (payload
// 2.0, simple responses). The authorizer decides per method and path (pkg/auth's route
// table), so its answers are not cached, and for the same reason it has no
// identity sources: with caching off they are optional, and listing
// X-API-Key and Authorization would make API Gateway reject every request
// that lacks either one. A key or a bearer token is enough.
func (t *Tasker) addAPI() {
	t.API = awsapigatewayv2.NewHttpApi(t.Scope, jsii.String("API"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(t.names.Prefix + "-api"),
		Description:        jsii.String("Tasker " + t.cfg.Stage + " API"),
		CreateDefaultStage: jsii.Bool(false),
	})
	stage := t.API.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(apiRateLimit), BurstLimit: jsii.Number(apiBurstLimit)},
	})
	accessLogs := awslogs.NewLogGroup(t.Scope, jsii.String("APIAccessLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/apigateway/" + t.names.Prefix + "-api"),
		Retention:     retentionDays(t.cfg.LogRetention()),
		RemovalPolicy: removalPolicy(t.cfg.IsProd()),
	})
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(apiAccessLogFormat),
	})

	intake := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Intake"), t.Intake.Function,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			// One invoke permission for the API instead of one per route.
			ScopePermissionToRoute: jsii.Bool(false),
			Timeout:                awscdk.Duration_Seconds(jsii.Number(float64((intakeTimeout + time.Second) / time.Second))),
		})
	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("Authorizer"), t.Authorizer.Function,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName:  jsii.String(t.names.Prefix + "-authorizer"),
			ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			IdentitySource:  &[]*string{},
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(0)),
		})
	t.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/{proxy+}"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: intake,
		Authorizer:  authorizer,
	})
	for _, p := range HealthPaths {
		routes := t.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(p),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: intake,
		})
		t.healthRoutes = append(t.healthRoutes, *routes...)
	}
	for _, r := range DashboardRoutes {
		routes := t.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.Method},
			Integration: intake,
		})
		t.dashboardRoutes = append(t.dashboardRoutes, *routes...)
	}
}

// DashboardURL returns the address of the operator dashboard: the API's
// invoke URL and /ui.
func (t *Tasker) DashboardURL() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{t.API.ApiEndpoint(), jsii.String("/ui")})
}

// APIURL returns the invoke URL of the API's default stage.
func (t *Tasker) APIURL() *string { return t.API.ApiEndpoint() }

// mustJSON encodes v without HTML escaping: EventBridge Scheduler must see
// its "<aws.scheduler.…>" placeholders as written, not as \u003c…\u003e.
func mustJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only for values of our own types, which always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}
