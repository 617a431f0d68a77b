package infra

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/resources"
)

// Context keys the app reads (`cdk synth -c stage=prod -c tracing=true`).
const (
	// ContextStage names the stage; default DefaultStage.
	ContextStage = "stage"
	// ContextTracing switches X-Ray active tracing on ("true").
	ContextTracing = "tracing"
	// ContextPlaceholderCode deploys infra/testdata/placeholder instead of
	// bin/<name>/bootstrap ("true"), for synth without cross-compiling.
	ContextPlaceholderCode = "placeholderCode"
	// ContextSampleWorkers deploys a worker for every namespace under
	// templates/ (default "true").
	ContextSampleWorkers = "sampleWorkers"
	// ContextReservedConcurrency reserves concurrency for the functions that
	// write most to DynamoDB (default "true"); set "false" in an account
	// whose concurrency limit is too small to reserve any (new accounts
	// often start at 10).
	ContextReservedConcurrency = "reservedConcurrency"
	// ContextAPIKeysSecret names an existing Secrets Manager secret whose
	// value is TASKER_API_KEYS for the authorizer; default: the stack
	// creates one (see Config.APIKeysSecret).
	ContextAPIKeysSecret = "apiKeysSecret"
	// ContextJWTJWKSURL is TASKER_JWT_JWKS_URL for the authorizer.
	ContextJWTJWKSURL = "jwtJwksUrl"
	// ContextJWTPublicKey is TASKER_JWT_PUBLIC_KEY (PEM) for the authorizer.
	ContextJWTPublicKey = "jwtPublicKey"
	// ContextAlarmTopicARN is an SNS topic every alarm notifies; default none.
	ContextAlarmTopicARN = "alarmTopicArn"
	// ContextLogLevel is TASKER_LOG_LEVEL of every function; default "info".
	ContextLogLevel = "logLevel"
)

// EnvPlaceholderCode set to "1" or "true" has the effect of
// ContextPlaceholderCode=true (handy for `go run ./infra/app`).
const EnvPlaceholderCode = "TASKER_CDK_PLACEHOLDER"

// DefaultStage is the stage when none is given.
const DefaultStage = "dev"

// stagePattern keeps every derived name within AWS limits: the longest
// function name, "tasker-<stage>-worker-<namespace>", is 7+20+8+29 = 64
// characters, Lambda's limit.
var stagePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// Config is what differs between deployments of the stack. Build it with
// ConfigFromContext, or by hand in tests and your own apps.
type Config struct {
	// Stage names the deployment: the stack is "Tasker-<stage>" and every
	// resource name starts with "tasker-<stage>", so stages share an
	// account. Stages named "prod…" retain their data when deleted.
	Stage string
	// Tracing turns on X-Ray active tracing for every function.
	Tracing bool
	// BinDir holds one directory per function with its bootstrap binary
	// (`make functions` writes bin/<name>/bootstrap).
	BinDir string
	// PlaceholderDir, when set, replaces every function's code: offline
	// synth and tests need no cross-compiled binaries.
	PlaceholderDir string
	// TemplatesDir is read for the sample namespaces and template schedules.
	TemplatesDir string
	// SampleWorkers deploys a worker function for every namespace found in
	// TemplatesDir, hosting pkg/samplehandlers.
	SampleWorkers bool
	// ReservedConcurrency reserves the concurrency limits the engine
	// functions are sized for (see engine.go). Off, the SQS event sources'
	// maximum concurrency still caps them.
	ReservedConcurrency bool
	// APIKeysSecret names an existing Secrets Manager secret holding the
	// authorizer's TASKER_API_KEYS. Empty: the stack creates
	// "<prefix>/api-keys" with a generated key (see docs/deploy.md).
	APIKeysSecret string
	// JWTJWKSURL and JWTPublicKey configure bearer tokens in the authorizer.
	JWTJWKSURL   string
	JWTPublicKey string
	// AlarmTopicARN, when set, is notified by every alarm.
	AlarmTopicARN string
	// LogLevel is every function's TASKER_LOG_LEVEL.
	LogLevel string
	// Account and Region pin the stack's environment; empty leaves the
	// stack environment-agnostic (the CLI fills them from the profile).
	Account, Region string
}

// StackName returns "Tasker-<stage>".
func (c Config) StackName() string { return "Tasker-" + c.Stage }

// Names returns the resource names of the stage: prefix "tasker-<stage>".
func (c Config) Names() resources.Names { return resources.Names{Prefix: "tasker-" + c.Stage} }

// IsProd reports whether the stage's data must survive the stack: stages
// named "prod…" retain the table, the dead-letter queues and the logs, and
// the table gets deletion protection.
func (c Config) IsProd() bool { return strings.HasPrefix(c.Stage, "prod") }

// LogRetention is how long function and access logs are kept: long enough
// in production to investigate an incident after the fact, short elsewhere
// because logs are billed by the GB-month.
func (c Config) LogRetention() time.Duration {
	if c.IsProd() {
		return 90 * 24 * time.Hour
	}
	return 14 * 24 * time.Hour
}

// Validate returns an error for a stage that would make invalid names, or
// for function code that is missing.
func (c Config) Validate() error {
	var errs []error
	if !stagePattern.MatchString(c.Stage) {
		errs = append(errs, fmt.Errorf("stage %q must match %s", c.Stage, stagePattern))
	} else if err := c.Names().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.PlaceholderDir == "" && c.BinDir == "" {
		errs = append(errs, errors.New("either BinDir or PlaceholderDir is required"))
	}
	return errors.Join(errs...)
}

// codeDir returns the directory holding function name's bootstrap, or an
// error naming the fix when it was not built.
func (c Config) codeDir(name string) (string, error) {
	if c.PlaceholderDir != "" {
		return c.PlaceholderDir, nil
	}
	dir := filepath.Join(c.BinDir, name)
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
		return "", fmt.Errorf("function %s: %s/bootstrap is missing: run `make functions`, or synth with -c %s=true: %w",
			name, dir, ContextPlaceholderCode, err)
	}
	return dir, nil
}
