package resources

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStateTableCreateInput(t *testing.T) {
	t.Parallel()
	spec := StateTable(Names{Prefix: "dev"})
	if !spec.PointInTimeRecovery || spec.TTLAttribute != "expires_at" || spec.Stream {
		t.Errorf("spec = %+v", spec)
	}
	in := spec.CreateTableInput()
	if aws.ToString(in.TableName) != "dev-state" || in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("table %s billing %s", aws.ToString(in.TableName), in.BillingMode)
	}
	if got := keysOf(in.KeySchema); got != "(pk, sk)" {
		t.Errorf("keys %s", got)
	}
	defs := map[string]types.ScalarAttributeType{}
	for _, d := range in.AttributeDefinitions {
		defs[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	for _, name := range []string{"pk", "sk", "gsi1pk", "gsi1sk", "sweep_shard", "sweep_at"} {
		if defs[name] != types.ScalarAttributeTypeS {
			t.Errorf("attribute %s defined as %q", name, defs[name])
		}
	}
	if len(defs) != 6 {
		t.Errorf("%d attribute definitions, want 6 (TTL is not a key)", len(defs))
	}
	wantIdx := map[string]string{"gsi1": "(gsi1pk, gsi1sk)", "sweep": "(sweep_shard, sweep_at)"}
	if len(in.GlobalSecondaryIndexes) != len(wantIdx) {
		t.Fatalf("%d indexes", len(in.GlobalSecondaryIndexes))
	}
	wantProjection := map[string]string{"gsi1": "ALL []", "sweep": "INCLUDE [task_uuid kind name st attempts]"}
	for _, g := range in.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		projection := fmt.Sprintf("%s %v", g.Projection.ProjectionType, g.Projection.NonKeyAttributes)
		if keysOf(g.KeySchema) != wantIdx[name] || projection != wantProjection[name] {
			t.Errorf("index %s keys %s projection %s", name, keysOf(g.KeySchema), projection)
		}
	}
	if in.StreamSpecification != nil {
		t.Error("stream enabled")
	}
}
