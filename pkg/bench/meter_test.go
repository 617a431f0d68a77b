package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/resources"
)

// meteredTable returns a table on the embedded emulator, a client that goes
// through a meter (on), and the meter.
func meteredTable(t *testing.T) (string, *dynamodb.Client, *meter) {
	t.Helper()
	f := localtest.New(t)
	m := newMeter(f.Env.DynamoDB, resources.StateTable(f.Names).GSIs)
	opts := f.Env.ClientOptions
	opts.APIOptions = append(append(opts.APIOptions[:0:0], opts.APIOptions...), m.middleware)
	cfg, err := awsconn.Load(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	m.on.Store(true)
	return f.Provisioned.Table, awsconn.DynamoDB(cfg, opts), m
}

// item is a step-like item of about size bytes (pk, sk, kind and padding).
func item(sk string, size int, extra ...string) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{"pk": s("T#1"), "sk": s(sk), "kind": s("step")}
	for i := 0; i+1 < len(extra); i += 2 {
		it[extra[i]] = s(extra[i+1])
	}
	it["pad"] = s(strings.Repeat("x", max(0, size-ItemSize(it)-3)))
	return it
}

func TestMeterPricesWritesFromItemSizes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table, db, m := meteredTable(t)
	put := func(it map[string]types.AttributeValue) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{}
	wantIndex := map[string]float64{}

	// A new 1,500-byte item: 2 units. It enters both indexes: gsi1
	// projects ALL (the entry is the whole item: 2 units), sweep projects
	// the keys and a few attributes (a small entry: 1 unit).
	put(item("S#a", 1500, "sweep_shard", "SW#0", "sweep_at", "2026-01-01", "gsi1pk", "NS#x", "gsi1sk", "2026"))
	want["step"] += 2
	wantIndex[resources.IndexByNamespace] += 2
	wantIndex[resources.IndexSweep]++
	// Replacing it with a 500-byte item costs the larger, the old 1,500
	// bytes; leaving each index costs a delete of its old entry.
	put(item("S#a", 500))
	want["step"] += 2
	wantIndex[resources.IndexByNamespace] += 2
	wantIndex[resources.IndexSweep]++
	// An update growing a 900-byte item to 1,100 bytes: 2 units.
	put(item("S#b", 900))
	want["step"]++
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: keyOf(item("S#b", 0)),
		UpdateExpression: aws.String("SET more = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(strings.Repeat("y", 200))}}); err != nil {
		t.Fatal(err)
	}
	want["step"] += 2
	// A failed conditional update still costs the item's size (1,100
	// bytes: 2 units) and writes no index.
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: keyOf(item("S#b", 0)),
		UpdateExpression: aws.String("SET st = :v"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x")}})
	if err == nil {
		t.Fatal("conditional update succeeded, want a condition failure")
	}
	want["step"] += 2
	// A transaction: a new 300-byte marker (1 unit) and a condition check
	// on the 1,100-byte item (2 units), each twice.
	marker := item("M#b#a", 300)
	marker["kind"] = s("dep_marker")
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &table, Item: marker}},
		{ConditionCheck: &types.ConditionCheck{TableName: &table, Key: keyOf(item("S#b", 0)), ConditionExpression: aws.String("attribute_exists(pk)")}},
	}}); err != nil {
		t.Fatal(err)
	}
	want["dep_marker"] += 2
	want["step"] += 4

	got := m.snapshot()
	for k, v := range want {
		if got.writeByKind[k] != v {
			t.Errorf("write units of %s = %v, want %v (all: %v)", k, got.writeByKind[k], v, got.writeByKind)
		}
	}
	for k, v := range wantIndex {
		if got.indexWrite[k] != v {
			t.Errorf("index write units of %s = %v, want %v (all: %v)", k, got.indexWrite[k], v, got.indexWrite)
		}
	}
	if e := got.indexItems[resources.IndexSweep]; e != 2 {
		t.Errorf("sweep index entries written = %v, want 2 (enter, leave)", e)
	}
	if got.failedWrites != 1 {
		t.Errorf("failed writes = %d, want 1", got.failedWrites)
	}
	if got.writeByOp["TransactWriteItems"] != 6 {
		t.Errorf("TransactWriteItems units = %v, want 6", got.writeByOp["TransactWriteItems"])
	}
}

func TestMeterPricesReadsFromWholeItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	table, db, m := meteredTable(t)
	for _, sk := range []string{"S#1", "S#2", "S#3"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item(sk, 1500)}); err != nil {
			t.Fatal(err)
		}
	}
	m.reset()
	// A query reads 3 × 1,500 bytes = 4,500: two units, even though its
	// projection returns a few bytes per item.
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :s)"),
		ProjectionExpression:      aws.String("#k"),
		ExpressionAttributeNames:  map[string]string{"#k": "kind"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("T#1"), ":s": s("S#")}})
	if err != nil || len(out.Items) != 3 {
		t.Fatalf("query: %d items, %v", len(out.Items), err)
	}
	// A strongly consistent get of one: one unit; an eventually consistent
	// get of a missing item: half a unit.
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: keyOf(item("S#1", 0)), ConsistentRead: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: keyOf(item("S#9", 0))}); err != nil {
		t.Fatal(err)
	}
	got := m.snapshot()
	if got.readByOp["Query"] != 2 || got.readByOp["GetItem"] != 1.5 {
		t.Errorf("read units = %v, want Query 2, GetItem 1.5", got.readByOp)
	}
	if w := got.writeByKind["step"]; w != 0 {
		t.Errorf("reads recorded %v write units", w)
	}
}
