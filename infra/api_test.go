package infra_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/infra"
	"github.com/tasker-go/tasker/pkg/auth"
)

// Not parallel: jsii calls must not overlap.
func TestAuthorizerIsSimpleLambdaAuthorizerWithoutCaching(t *testing.T) {
	mustMatch(t, "authorizer", func() {
		dev.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType":                 "REQUEST",
			"AuthorizerPayloadFormatVersion": "2.0",
			"EnableSimpleResponses":          true,
			// The authorizer decides per route: a cached answer would leak
			// one route's decision to another.
			"AuthorizerResultTtlInSeconds": 0,
			// Either header may carry the credential, so neither is required.
			"IdentitySource": []any{},
		})
	})
	_, authorizers := dev.ofType("AWS::ApiGatewayV2::Authorizer")
	require.Len(t, authorizers, 1)
	fnID := ""
	uri, _ := json.Marshal(authorizers[0].Properties["AuthorizerUri"])
	for id, r := range dev.template.Resources {
		if r.Type == "AWS::Lambda::Function" && strings.Contains(string(uri), `"`+id+`"`) {
			fnID = id
		}
	}
	require.Equal(t, dev.stack.Tasker.Names().Prefix+"-authorizer", dev.template.Resources[fnID].Properties["FunctionName"])
}

func TestRoutesUseTheAuthorizerExceptHealthAndDashboard(t *testing.T) {
	t.Parallel()
	_, routes := dev.ofType("AWS::ApiGatewayV2::Route")
	keys := map[string]cfnResource{}
	for _, r := range routes {
		keys[r.Properties["RouteKey"].(string)] = r
	}
	want := []string{"ANY /{proxy+}", "GET /ui", "GET /ui/{proxy+}", "POST /ui/{proxy+}"}
	for _, p := range infra.HealthPaths {
		want = append(want, "GET "+p)
	}
	require.ElementsMatch(t, want, slices.Collect(maps.Keys(keys)))
	require.Len(t, infra.DashboardRoutes, 3)

	proxy := keys["ANY /{proxy+}"].Properties
	require.Equal(t, "CUSTOM", proxy["AuthorizationType"])
	require.NotEmpty(t, refID(proxy["AuthorizerId"]))
	for _, p := range infra.HealthPaths {
		r := keys["GET "+p].Properties
		require.Contains(t, []any{nil, "NONE"}, r["AuthorizationType"], p)
		require.Nil(t, r["AuthorizerId"], p)
		// pkg/auth agrees that these routes are open.
		_, needed := auth.RequiredPermission("GET", p)
		require.False(t, needed, "pkg/auth requires a permission for %s", p)
	}
	// The dashboard's routes go to the intake without the authorizer (a
	// browser sends no key header); the intake authenticates the cookie.
	_, integrations := dev.ofType("AWS::ApiGatewayV2::Integration")
	require.Len(t, integrations, 1)
	for _, k := range []string{"GET /ui", "GET /ui/{proxy+}", "POST /ui/{proxy+}"} {
		r := keys[k].Properties
		require.Contains(t, []any{nil, "NONE"}, r["AuthorizationType"], k)
		require.Nil(t, r["AuthorizerId"], k)
		require.Contains(t, describeResource(r["Target"]), "integrations/", k)
		require.Equal(t, describeResource(proxy["Target"]), describeResource(r["Target"]), "%s goes to the intake", k)
	}
}

// TestOutputsNameTheDashboard: the stack prints where the dashboard is.
func TestOutputsNameTheDashboard(t *testing.T) {
	t.Parallel()
	dash, ok := dev.template.Outputs["DashboardUrl"].(map[string]any)
	require.True(t, ok, "output DashboardUrl")
	api := dev.template.Outputs["ApiUrl"].(map[string]any)
	// The API's URL, then /ui.
	require.Equal(t, map[string]any{"Fn::Join": []any{"", []any{api["Value"], "/ui"}}}, dash["Value"])
}

// Not parallel: jsii calls must not overlap.
func TestStageHasAccessLogsAndThrottling(t *testing.T) {
	mustMatch(t, "stage", func() {
		dev.assert.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName":  "$default",
			"AutoDeploy": true,
			"DefaultRouteSettings": map[string]any{
				"ThrottlingRateLimit":  assertions.Match_AnyValue(),
				"ThrottlingBurstLimit": assertions.Match_AnyValue(),
			},
			"AccessLogSettings": map[string]any{
				"DestinationArn": assertions.Match_AnyValue(),
				"Format":         assertions.Match_StringLikeRegexp(jsii.String(`\$context\.requestId`)),
			},
		})
	})
}

func TestIntakeIntegrationIsPayloadV2(t *testing.T) {
	t.Parallel()
	_, integrations := dev.ofType("AWS::ApiGatewayV2::Integration")
	require.Len(t, integrations, 1)
	p := integrations[0].Properties
	require.Equal(t, "AWS_PROXY", p["IntegrationType"])
	require.Equal(t, "2.0", p["PayloadFormatVersion"])
	b, _ := json.Marshal(p["IntegrationUri"])
	intakeID := dev.idOfFunction(t, dev.stack.Tasker.Intake.Name)
	require.Contains(t, string(b), intakeID)
}

func (s *synthesized) idOfFunction(t *testing.T, name string) string {
	t.Helper()
	id, _ := s.byProp(t, "AWS::Lambda::Function", "FunctionName", name)
	return id
}
