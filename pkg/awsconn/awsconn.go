// Package awsconn builds Tasker's AWS SDK clients the same way everywhere:
// Lambda functions, the CLI, the local environment and tests. It chooses the
// endpoint (real AWS, LocalStack or the embedded emulator), the region, the
// credentials for local runs and a connection-reusing HTTP client, and it
// recognises the backend errors that differ between AWS and the emulators.
package awsconn

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// DefaultRegion is the region used when neither Options.Region, the
// environment nor the shared config files name one.
const DefaultRegion = "us-east-1"

// Static credentials used against an emulator when none are configured.
// Emulators accept any signature; LocalStack maps this access key to its
// default account 000000000000.
const (
	localAccessKeyID     = "test"
	localSecretAccessKey = "test"
)

// Options says how to reach AWS. The zero value means real AWS with the SDK's
// default resolution of endpoint, region and credentials.
type Options struct {
	// Endpoint is the base URL of every service, e.g. "http://127.0.0.1:4566".
	// Empty means the SDK's own resolution, which honours AWS_ENDPOINT_URL,
	// AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS. When set, it wins
	// over those variables.
	Endpoint string
	// Region defaults to AWS_REGION / AWS_DEFAULT_REGION or the shared config
	// profile, else DefaultRegion.
	Region string
	// Local marks an emulator (kumo, LocalStack): static test credentials are
	// used unless AWS_ACCESS_KEY_ID or AWS_PROFILE is set, and DynamoDB
	// response CRC32 validation is off (kumo sends no X-Amz-Crc32 header).
	Local bool
	// HTTPClient replaces the tuned default client (see NewHTTPClient).
	HTTPClient *http.Client
	// APIOptions are added to every client's middleware stack, e.g. to count
	// requests in a benchmark.
	APIOptions []func(*middleware.Stack) error
}

// Load returns the aws.Config for o. It reads the environment and the shared
// config files like the SDK does; it returns the SDK's error, wrapped, when
// they cannot be read (for example a named profile that does not exist).
// Load makes no network call.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient(o)),
		config.WithRetryMode(aws.RetryModeStandard),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	if o.Local && !credentialsConfigured() {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(localAccessKeyID, localSecretAccessKey, "")))
	}
	if len(o.APIOptions) > 0 {
		opts = append(opts, config.WithAPIOptions(o.APIOptions))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

// DynamoDB returns a DynamoDB client for cfg (from Load with the same o).
func DynamoDB(cfg aws.Config, o Options) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(c *dynamodb.Options) {
		if o.Endpoint != "" {
			// Service-specific variables (AWS_ENDPOINT_URL_DYNAMODB) would
			// otherwise override the explicit endpoint.
			c.BaseEndpoint = aws.String(o.Endpoint)
		}
		if o.Local {
			c.DisableValidateResponseChecksum = true
		}
	})
}

// SQS returns an SQS client for cfg (from Load with the same o).
func SQS(cfg aws.Config, o Options) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(c *sqs.Options) {
		if o.Endpoint != "" {
			c.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
}

// NewHTTPClient returns the HTTP client Load uses by default: the SDK's
// client with a connection pool large enough that concurrent workers reuse
// keep-alive connections to one host (an emulator or a regional endpoint)
// instead of opening a connection per request.
func NewHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 128
		tr.IdleConnTimeout = 90 * time.Second
	})
}

func httpClient(o Options) aws.HTTPClient {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return NewHTTPClient()
}

// credentialsConfigured reports whether the environment names credentials the
// user chose on purpose, which then win over the static local ones.
func credentialsConfigured() bool {
	return os.Getenv("AWS_ACCESS_KEY_ID") != "" || os.Getenv("AWS_PROFILE") != ""
}
