package resources

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TableActiveTimeout bounds how long ProvisionTable waits for a new table and
// its indexes to become ACTIVE. On AWS an on-demand table with two indexes
// usually takes well under a minute; emulators create tables ACTIVE.
const TableActiveTimeout = 5 * time.Minute

// Polling of DescribeTable while a table is CREATING: start fast for
// emulators, back off to a few calls a minute on AWS.
const (
	firstPoll = 20 * time.Millisecond
	maxPoll   = 2 * time.Second
)

// ProvisionTable creates table t, or accepts it when it already exists with
// the same keys and indexes, waits until it is ACTIVE and enables TTL. Errors
// are those of Provision.
func ProvisionTable(ctx context.Context, ddb DynamoAPI, t TableSpec) error {
	if t.Name == "" || t.PartitionKey == "" {
		return fmt.Errorf("table spec %+v needs a name and a partition key: %w", t, ErrInvalidName)
	}
	if _, err := ddb.CreateTable(ctx, t.CreateTableInput()); err != nil && !isTableInUse(err) {
		return wrapf(err, "create table %s", t.Name)
	}
	desc, err := waitActive(ctx, ddb, t.Name)
	if err != nil {
		return err
	}
	if diff := tableDiff(desc, t); diff != "" {
		return fmt.Errorf("table %s %w: %s", t.Name, ErrMismatch, diff)
	}
	return ensureTTL(ctx, ddb, t)
}

func isTableInUse(err error) bool {
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return true
	}
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ResourceInUseException"
}

// waitActive polls DescribeTable until the table and all its indexes are
// ACTIVE, for at most TableActiveTimeout.
func waitActive(ctx context.Context, ddb DynamoAPI, name string) (*types.TableDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, TableActiveTimeout)
	defer cancel()
	delay := firstPoll
	for {
		out, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return nil, wrapf(err, "describe table %s", name)
		}
		t := out.Table
		if t == nil {
			return nil, fmt.Errorf("describe table %s: no table description in the answer", name)
		}
		switch {
		case t.TableStatus == types.TableStatusDeleting:
			return nil, fmt.Errorf("table %s is being deleted: %w", name, ErrNotReady)
		case tableActive(t):
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("table %s still %s: %w (%w)", name, t.TableStatus, ErrNotReady, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, maxPoll)
	}
}

func tableActive(t *types.TableDescription) bool {
	if t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// tableDiff describes how an existing table differs from t in what Tasker
// relies on (keys, index keys and projections); "" when it does not. Extra
// indexes are tolerated.
func tableDiff(desc *types.TableDescription, t TableSpec) string {
	var diffs []string
	if got, want := keysOf(desc.KeySchema), keysString(t.PartitionKey, t.SortKey); got != want {
		diffs = append(diffs, fmt.Sprintf("key schema is %s, want %s", got, want))
	}
	for _, g := range t.GSIs {
		idx := findIndex(desc.GlobalSecondaryIndexes, g.Name)
		if idx == nil {
			diffs = append(diffs, fmt.Sprintf("index %s is missing", g.Name))
			continue
		}
		if got, want := keysOf(idx.KeySchema), keysString(g.PartitionKey, g.SortKey); got != want {
			diffs = append(diffs, fmt.Sprintf("index %s keys are %s, want %s", g.Name, got, want))
		}
		if idx.Projection != nil && g.Projection != "" && !projects(idx.Projection.ProjectionType, g.Projection) {
			diffs = append(diffs, fmt.Sprintf("index %s projects %s, want %s", g.Name, idx.Projection.ProjectionType, g.Projection))
		}
	}
	return strings.Join(diffs, "; ")
}

func findIndex(indexes []types.GlobalSecondaryIndexDescription, name string) *types.GlobalSecondaryIndexDescription {
	for i := range indexes {
		if aws.ToString(indexes[i].IndexName) == name {
			return &indexes[i]
		}
	}
	return nil
}

func keysOf(ks []types.KeySchemaElement) string {
	var hash, rng string
	for _, k := range ks {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	return keysString(hash, rng)
}

func keysString(hash, rng string) string {
	if rng == "" {
		return "(" + hash + ")"
	}
	return "(" + hash + ", " + rng + ")"
}

// ensureTTL enables TTL on t.TTLAttribute unless it is already enabled there.
// DynamoDB refuses to enable TTL twice, and to change it more than once an
// hour, so it is read first.
func ensureTTL(ctx context.Context, ddb DynamoAPI, t TableSpec) error {
	if t.TTLAttribute == "" {
		return nil
	}
	out, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(t.Name)})
	if err != nil {
		return wrapf(err, "describe ttl of table %s", t.Name)
	}
	var status types.TimeToLiveStatus
	var attr string
	if d := out.TimeToLiveDescription; d != nil {
		status, attr = d.TimeToLiveStatus, aws.ToString(d.AttributeName)
	}
	switch status {
	case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
		if attr != t.TTLAttribute {
			return fmt.Errorf("table %s %w: ttl is on attribute %q, want %q", t.Name, ErrMismatch, attr, t.TTLAttribute)
		}
		return nil
	case types.TimeToLiveStatusDisabling:
		return fmt.Errorf("table %s: ttl is being disabled, try again in an hour: %w", t.Name, ErrNotReady)
	}
	_, err = ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(t.Name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return wrapf(err, "enable ttl on table %s", t.Name)
	}
	return nil
}

// projects reports whether an index with projection got serves a reader
// that needs want: ALL serves everything (a table made before an index was
// narrowed to INCLUDE keeps working).
func projects(got types.ProjectionType, want string) bool {
	return string(got) == want || got == types.ProjectionTypeAll
}
