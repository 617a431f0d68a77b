package infra_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNagFindsNothingUnsuppressed(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]*synthesized{"dev": dev, "prod": prod} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Empty(t, s.nagErrors, "cdk-nag AwsSolutions errors")
			require.Empty(t, s.nagWarnings, "cdk-nag AwsSolutions warnings")
		})
	}
}

// TestProdRetainsData: a prod stage keeps the table (with deletion
// protection), the dead-letter queues and the logs when the stack goes;
// other stages clean up after themselves.
func TestProdRetainsData(t *testing.T) {
	t.Parallel()
	check := func(s *synthesized, wantPolicy string, protected bool) {
		t.Helper()
		_, tables := s.ofType("AWS::DynamoDB::Table")
		require.Len(t, tables, 1)
		require.Equal(t, wantPolicy, tables[0].DeletionPolicy)
		require.Equal(t, protected, tables[0].Properties["DeletionProtectionEnabled"])
		_, queues := s.ofType("AWS::SQS::Queue")
		for _, q := range queues {
			if strings.HasSuffix(q.Properties["QueueName"].(string), "-dlq") {
				require.Equal(t, wantPolicy, q.DeletionPolicy, q.Properties["QueueName"])
			}
		}
		_, logs := s.ofType("AWS::Logs::LogGroup")
		for _, l := range logs {
			require.Equal(t, wantPolicy, l.DeletionPolicy, l.Properties["LogGroupName"])
		}
	}
	check(dev, "Delete", false)
	check(prod, "Retain", true)
}

// Not parallel: StackName is a jsii call, and the jsii runtime must not be
// used from two goroutines at once.
func TestStackNamesFollowTheStage(t *testing.T) {
	require.Equal(t, "Tasker-dev", *dev.stack.StackName())
	require.Equal(t, "tasker-dev", dev.stack.Tasker.Names().Prefix)
	require.Equal(t, "Tasker-prod-eu", *prod.stack.StackName())
	require.Equal(t, "tasker-prod-eu", prod.stack.Tasker.Names().Prefix)
	require.Contains(t, dev.template.Outputs, "ApiUrl")
	require.Contains(t, dev.template.Outputs, "ApiKeySecret")
	require.NotContains(t, prod.template.Outputs, "ApiKeySecret", "prod names its own secret")
}

func TestGeneratedAPIKeyStaysOutOfTheTemplate(t *testing.T) {
	t.Parallel()
	_, secrets := dev.ofType("AWS::SecretsManager::Secret")
	require.Len(t, secrets, 1)
	gen := secrets[0].Properties["GenerateSecretString"].(map[string]any)
	require.Equal(t, "key", gen["GenerateStringKey"])
	require.Equal(t, true, gen["ExcludePunctuation"], "':' and ';' separate TASKER_API_KEYS entries")

	_, fn := dev.byProp(t, "AWS::Lambda::Function", "FunctionName", dev.stack.Tasker.Authorizer.Name)
	keys := describeResource(fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["TASKER_API_KEYS"])
	require.True(t, strings.HasPrefix(keys, "admin:{{resolve:secretsmanager:"), keys)
	require.Contains(t, keys, ":SecretString:key::}}:")
	require.Contains(t, keys, "tasks:*")

	_, prodFn := prod.byProp(t, "AWS::Lambda::Function", "FunctionName", prod.stack.Tasker.Authorizer.Name)
	prodKeys := prodFn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)["TASKER_API_KEYS"]
	require.Equal(t, "{{resolve:secretsmanager:tasker/prod-eu/keys:SecretString:::}}", prodKeys)
}
