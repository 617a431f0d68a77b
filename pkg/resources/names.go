// Package resources is the one definition of Tasker's AWS resources: the
// DynamoDB state table and the SQS queues with their dead-letter queues. The
// local provisioner (Provision) and the CDK stack both read these specs, so
// a name, index, timeout or redrive limit is decided here and nowhere else.
package resources

import (
	"fmt"
	"regexp"
)

// DefaultPrefix is the resource-name prefix used when Names.Prefix is empty.
const DefaultPrefix = "tasker"

// Attribute and index names of the state table, used by the store.
const (
	AttrPK           = "pk"
	AttrSK           = "sk"
	IndexByNamespace = "gsi1"
	AttrGSI1PK       = "gsi1pk"
	AttrGSI1SK       = "gsi1sk"
	IndexSweep       = "sweep"
	AttrSweepShard   = "sweep_shard"
	AttrSweepAt      = "sweep_at"
	AttrTTL          = "expires_at"
)

// The limits are chosen so the longest queue name,
// "<prefix>-steps-<namespace>-dlq", is at most 40+7+29+4 = 80 characters,
// SQS's limit for queue names.
var (
	prefixPattern    = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)
	namespacePattern = regexp.MustCompile(`^[a-z0-9_]{1,29}$`)
)

// Names derives the physical names of one Tasker installation's resources.
// Several installations (stages, test runs) share an account by using
// different prefixes.
type Names struct {
	// Prefix starts every name; empty means DefaultPrefix. It must match
	// ^[a-z0-9-]{1,40}$.
	Prefix string
}

// Validate returns an error wrapping ErrInvalidName when the prefix does not
// match ^[a-z0-9-]{1,40}$.
func (n Names) Validate() error {
	if !prefixPattern.MatchString(n.prefix()) {
		return fmt.Errorf("prefix %q must match %s: %w", n.Prefix, prefixPattern, ErrInvalidName)
	}
	return nil
}

// ValidateNamespace returns an error wrapping ErrInvalidName when namespace
// does not match ^[a-z0-9_]{1,29}$.
func ValidateNamespace(namespace string) error {
	if !namespacePattern.MatchString(namespace) {
		return fmt.Errorf("namespace %q must match %s: %w", namespace, namespacePattern, ErrInvalidName)
	}
	return nil
}

func (n Names) prefix() string {
	if n.Prefix == "" {
		return DefaultPrefix
	}
	return n.Prefix
}

// StateTable returns the name of the DynamoDB table holding all state:
// "<prefix>-state".
func (n Names) StateTable() string { return n.prefix() + "-state" }

// OrchestrationQueue returns the name of the queue the engine sends to
// itself: "<prefix>-orchestration".
func (n Names) OrchestrationQueue() string { return n.prefix() + "-orchestration" }

// ResultsQueue returns the name of the queue workers report step results on:
// "<prefix>-results".
func (n Names) ResultsQueue() string { return n.prefix() + "-results" }

// StepQueue returns the name of the queue carrying the step messages of one
// namespace: "<prefix>-steps-<namespace>". Underscores are kept: they are
// valid in SQS names.
func (n Names) StepQueue(namespace string) string { return n.prefix() + "-steps-" + namespace }

// DLQName returns the name of the dead-letter queue of queue: queue+"-dlq".
func DLQName(queue string) string { return queue + "-dlq" }
