package resources

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableSpec describes a DynamoDB table. Every key attribute, of the table and
// of its indexes, is a string (S).
type TableSpec struct {
	Name         string
	PartitionKey string
	SortKey      string
	GSIs         []GSISpec
	// TTLAttribute names the number attribute (epoch seconds) DynamoDB
	// expires items by; empty means no TTL.
	TTLAttribute string
	// BillingMode is PAY_PER_REQUEST for every Tasker table.
	BillingMode types.BillingMode
	// PointInTimeRecovery is applied by the CDK stack. CreateTable cannot set
	// it and the local provisioner skips it: emulated tables need no backups
	// (and kumo has no UpdateContinuousBackups).
	PointInTimeRecovery bool
	// Stream enables a NEW_AND_OLD_IMAGES stream.
	Stream bool
}

// GSISpec describes a global secondary index.
type GSISpec struct {
	Name         string
	PartitionKey string
	SortKey      string
	// Projection is a types.ProjectionType. Queries on an index never need
	// a second read: an index projects ALL attributes, or INCLUDE with
	// NonKeyAttributes listing every attribute its one reader uses.
	Projection       string
	NonKeyAttributes []string
}

// SweepIndexAttributes are the non-key attributes the sweep index projects:
// exactly what the sweeper's query reads (pkg/dynamo builds its projection
// expression from this list). Every step moves through the index several
// times, and DynamoDB bills each index write by the size of the projected
// entry, so the index carries these few attributes instead of whole items.
var SweepIndexAttributes = []string{"task_uuid", "kind", "name", "st", "attempts"}

// StateTable returns the spec of the single table holding all of Tasker's
// state: items keyed by pk/sk; index gsi1 (gsi1pk, gsi1sk) lists tasks and
// templates by namespace; index sweep (sweep_shard, sweep_at) finds items due
// for the sweeper in time order; finished items expire through expires_at.
// On-demand billing because load is bursty and unknown up front; PITR
// because the table is the only copy of workflow state.
func StateTable(n Names) TableSpec {
	return TableSpec{
		Name:         n.StateTable(),
		PartitionKey: AttrPK,
		SortKey:      AttrSK,
		GSIs: []GSISpec{
			{Name: IndexByNamespace, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK, Projection: string(types.ProjectionTypeAll)},
			{Name: IndexSweep, PartitionKey: AttrSweepShard, SortKey: AttrSweepAt, Projection: string(types.ProjectionTypeInclude),
				NonKeyAttributes: SweepIndexAttributes},
		},
		TTLAttribute:        AttrTTL,
		BillingMode:         types.BillingModePayPerRequest,
		PointInTimeRecovery: true,
	}
}

// CreateTableInput returns the CreateTable request for t. TTL and PITR are
// not part of it: they need UpdateTimeToLive and UpdateContinuousBackups.
func (t TableSpec) CreateTableInput() *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: t.BillingMode,
		KeySchema:   keySchema(t.PartitionKey, t.SortKey),
	}
	if in.BillingMode == "" {
		in.BillingMode = types.BillingModePayPerRequest
	}
	defined := map[string]bool{}
	define := func(names ...string) {
		for _, name := range names {
			if name != "" && !defined[name] {
				defined[name] = true
				in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
					AttributeName: aws.String(name),
					AttributeType: types.ScalarAttributeTypeS,
				})
			}
		}
	}
	define(t.PartitionKey, t.SortKey)
	for _, g := range t.GSIs {
		define(g.PartitionKey, g.SortKey)
		projection := types.ProjectionType(g.Projection)
		if projection == "" {
			projection = types.ProjectionTypeAll
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.Name),
			KeySchema:  keySchema(g.PartitionKey, g.SortKey),
			Projection: &types.Projection{ProjectionType: projection, NonKeyAttributes: g.NonKeyAttributes},
		})
	}
	if t.Stream {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		}
	}
	return in
}

func keySchema(partition, sort string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(partition), KeyType: types.KeyTypeHash}}
	if sort != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(sort), KeyType: types.KeyTypeRange})
	}
	return ks
}
