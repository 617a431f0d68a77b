package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/pkg/resources"
)

// Table is the deployed state table.
type Table struct {
	// Spec is the definition the table was built from.
	Spec resources.TableSpec
	// Resource is the CloudFormation table.
	Resource awsdynamodb.CfnTable
}

// newTable builds the table of spec as an L1 resource translated field by
// field from spec.CreateTableInput(), the very request the local
// provisioner sends, so keys, attribute types, indexes and billing cannot
// differ. TTL and point-in-time recovery come from the spec too. Encryption
// uses the AWS-managed KMS key (SSE is always on in DynamoDB; this makes it
// auditable in the account's key list). A prod stage gets deletion
// protection and keeps the table when the stack is deleted.
func newTable(scope constructs.Construct, id string, spec resources.TableSpec, prod bool) *Table {
	in := spec.CreateTableInput()
	props := &awsdynamodb.CfnTableProps{
		TableName:            in.TableName,
		BillingMode:          jsii.String(string(in.BillingMode)),
		KeySchema:            keySchema(in.KeySchema),
		AttributeDefinitions: attributeDefinitions(in.AttributeDefinitions),
		SseSpecification:     &awsdynamodb.CfnTable_SSESpecificationProperty{SseEnabled: true, SseType: jsii.String("KMS")},
		PointInTimeRecoverySpecification: &awsdynamodb.CfnTable_PointInTimeRecoverySpecificationProperty{
			PointInTimeRecoveryEnabled: spec.PointInTimeRecovery,
		},
		DeletionProtectionEnabled: prod,
	}
	var gsis []*awsdynamodb.CfnTable_GlobalSecondaryIndexProperty
	for _, g := range in.GlobalSecondaryIndexes {
		gsis = append(gsis, &awsdynamodb.CfnTable_GlobalSecondaryIndexProperty{
			IndexName:  g.IndexName,
			KeySchema:  keySchema(g.KeySchema),
			Projection: projection(g.Projection),
		})
	}
	if len(gsis) > 0 {
		props.GlobalSecondaryIndexes = gsis
	}
	if spec.TTLAttribute != "" {
		props.TimeToLiveSpecification = &awsdynamodb.CfnTable_TimeToLiveSpecificationProperty{
			AttributeName: jsii.String(spec.TTLAttribute), Enabled: true,
		}
	}
	if s := in.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		props.StreamSpecification = &awsdynamodb.CfnTable_StreamSpecificationProperty{StreamViewType: jsii.String(string(s.StreamViewType))}
	}
	t := awsdynamodb.NewCfnTable(scope, jsii.String(id), props)
	t.ApplyRemovalPolicy(removalPolicy(prod), nil)
	return &Table{Spec: spec, Resource: t}
}

// ARN returns the table's ARN.
func (t *Table) ARN() *string { return t.Resource.AttrArn() }

// IndexARNs returns the ARN of each of the table's indexes, named one by
// one from the spec: no wildcard in a policy.
func (t *Table) IndexARNs() []*string {
	arns := make([]*string, 0, len(t.Spec.GSIs))
	for _, g := range t.Spec.GSIs {
		arns = append(arns, jsii.String(*t.ARN()+"/index/"+g.Name))
	}
	return arns
}

func keySchema(ks []ddbtypes.KeySchemaElement) []*awsdynamodb.CfnTable_KeySchemaProperty {
	out := make([]*awsdynamodb.CfnTable_KeySchemaProperty, 0, len(ks))
	for _, k := range ks {
		out = append(out, &awsdynamodb.CfnTable_KeySchemaProperty{AttributeName: k.AttributeName, KeyType: jsii.String(string(k.KeyType))})
	}
	return out
}

func attributeDefinitions(defs []ddbtypes.AttributeDefinition) []*awsdynamodb.CfnTable_AttributeDefinitionProperty {
	out := make([]*awsdynamodb.CfnTable_AttributeDefinitionProperty, 0, len(defs))
	for _, d := range defs {
		out = append(out, &awsdynamodb.CfnTable_AttributeDefinitionProperty{AttributeName: d.AttributeName, AttributeType: jsii.String(string(d.AttributeType))})
	}
	return out
}

// removalPolicy keeps data of prod stages when the stack goes away.
func removalPolicy(prod bool) awscdk.RemovalPolicy {
	if prod {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}

// projection converts an index projection of the local provisioner's request.
func projection(p *ddbtypes.Projection) *awsdynamodb.CfnTable_ProjectionProperty {
	out := &awsdynamodb.CfnTable_ProjectionProperty{ProjectionType: jsii.String(string(p.ProjectionType))}
	if len(p.NonKeyAttributes) > 0 {
		out.NonKeyAttributes = jsii.Strings(p.NonKeyAttributes...)
	}
	return out
}
