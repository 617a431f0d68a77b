package infra_test

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/infra"
)

func TestConfigFromContext(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tests := []struct {
		name    string
		ctx     map[string]any
		env     map[string]string
		check   func(t *testing.T, c infra.Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c infra.Config) {
			require.Equal(t, "dev", c.Stage)
			require.Equal(t, "Tasker-dev", c.StackName())
			require.Equal(t, "tasker-dev", c.Names().Prefix)
			require.False(t, c.Tracing)
			require.False(t, c.IsProd())
			require.True(t, c.SampleWorkers)
			require.True(t, c.ReservedConcurrency)
			require.Equal(t, filepath.Join(root, "bin"), c.BinDir)
			require.Empty(t, c.PlaceholderDir)
			require.Equal(t, "info", c.LogLevel)
			require.Equal(t, 14*24*time.Hour, c.LogRetention())
		}},
		{name: "prod stage from -c strings", ctx: map[string]any{"stage": "prod-us", "tracing": "true", "sampleWorkers": "false"},
			check: func(t *testing.T, c infra.Config) {
				require.Equal(t, "Tasker-prod-us", c.StackName())
				require.Equal(t, "tasker-prod-us", c.Names().Prefix)
				require.True(t, c.IsProd())
				require.True(t, c.Tracing)
				require.False(t, c.SampleWorkers)
				require.Equal(t, 90*24*time.Hour, c.LogRetention())
			}},
		{name: "booleans from cdk.json", ctx: map[string]any{"tracing": true, "reservedConcurrency": false},
			check: func(t *testing.T, c infra.Config) {
				require.True(t, c.Tracing)
				require.False(t, c.ReservedConcurrency)
			}},
		{name: "placeholder by env", env: map[string]string{infra.EnvPlaceholderCode: "1"}, check: func(t *testing.T, c infra.Config) {
			require.Equal(t, infra.PlaceholderDir(root), c.PlaceholderDir)
		}},
		{name: "placeholder by context", ctx: map[string]any{"placeholderCode": "true"}, check: func(t *testing.T, c infra.Config) {
			require.Equal(t, infra.PlaceholderDir(root), c.PlaceholderDir)
		}},
		{name: "environment pinned", env: map[string]string{"CDK_DEFAULT_ACCOUNT": "123456789012", "CDK_DEFAULT_REGION": "us-east-1"},
			check: func(t *testing.T, c infra.Config) {
				require.Equal(t, "123456789012", c.Account)
				require.Equal(t, "us-east-1", c.Region)
			}},
		{name: "upper-case stage", ctx: map[string]any{"stage": "Prod"}, wantErr: "stage"},
		{name: "stage too long", ctx: map[string]any{"stage": strings.Repeat("a", 21)}, wantErr: "stage"},
		{name: "bad boolean", ctx: map[string]any{"tracing": "yes please"}, wantErr: "context tracing"},
		{name: "bad type", ctx: map[string]any{"stage": 7}, wantErr: "context stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := infra.ConfigFromContext(root, func(k string) any { return tt.ctx[k] }, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// Not parallel: jsii calls must not overlap.
func TestMissingBinariesNameTheFix(t *testing.T) {
	cfg := infra.Config{Stage: "dev", BinDir: t.TempDir(), LogLevel: "info"}
	require.NoError(t, cfg.Validate())
	_, err := infra.NewTasker(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil), "Tasker", cfg)
	require.ErrorContains(t, err, "make functions")
}

func TestNamespaceWorkerPropsAreChecked(t *testing.T) {
	t.Parallel()
	tests := map[string]*infra.NamespaceWorkerProps{
		"nil props":         nil,
		"no Tasker or Code": {Namespace: "orders"},
	}
	for name, props := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := infra.NewNamespaceWorker(nil, "W", props)
			require.Error(t, err)
		})
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
