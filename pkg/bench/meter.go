package bench

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/tasker-go/tasker/pkg/resources"
)

// itemReader is the one operation the meter needs from an unmetered client:
// reading an item (or re-running a query) without the read being billed to
// the run.
type itemReader interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// meter prices every DynamoDB request in request units from the sizes of
// the items it touches, because the emulator returns no ConsumedCapacity.
// Around a write it reads the item before and after through raw (a client
// without the meter); around a read it sizes the returned items, re-reading
// them whole where a projection returned only part. It measures only while
// on is set: the extra reads slow the requests they surround.
type meter struct {
	raw  itemReader
	gsis []resources.GSISpec
	on   atomic.Bool

	mu    sync.Mutex
	units unitTotals
}

// unitTotals accumulates what the meter measured.
type unitTotals struct {
	writeByKind   map[string]float64 // table write units by item kind
	writeByOp     map[string]float64 // table write units by operation
	indexWrite    map[string]float64 // index write units by index name
	indexItems    map[string]float64 // index entries written (puts and deletes) by index name
	readByKind    map[string]float64
	readByOp      map[string]float64
	compactWrite  float64 // table + index write units with the compact history encoding
	failedWrites  int
	unmetered     map[string]int
	stepDoneBytes []int // step item sizes when a write completed the step
	stepDoneHist  []int // the transition-record share of those sizes
}

func newMeter(raw itemReader, gsis []resources.GSISpec) *meter {
	m := &meter{raw: raw, gsis: gsis}
	m.reset()
	return m
}

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.units = unitTotals{writeByKind: map[string]float64{}, writeByOp: map[string]float64{}, indexWrite: map[string]float64{},
		indexItems: map[string]float64{}, readByKind: map[string]float64{}, readByOp: map[string]float64{}, unmetered: map[string]int{}}
}

func (m *meter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("tasker-bench-units",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if !m.on.Load() || middleware.GetServiceID(ctx) != "DynamoDB" {
				return next.HandleInitialize(ctx, in)
			}
			return m.handle(ctx, in, next)
		}), middleware.After)
}

// writeKind is what a write does to one item.
type writeKind int

const (
	wPut writeKind = iota
	wUpdate
	wDelete
	wCheck
)

// itemWrite is one item of a write request, with its images.
type itemWrite struct {
	table  string
	key    map[string]types.AttributeValue
	kind   writeKind
	put    map[string]types.AttributeValue
	before map[string]types.AttributeValue
	after  map[string]types.AttributeValue
}

func (m *meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	op := middleware.GetOperationName(ctx)
	writes, factor := writesOf(in.Parameters)
	if writes == nil {
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			m.meterRead(ctx, op, in.Parameters, out.Result)
		}
		return out, md, err
	}
	for _, w := range writes {
		w.before = m.get(ctx, w.table, w.key)
	}
	out, md, err := next.HandleInitialize(ctx, in)
	for _, w := range writes {
		switch {
		case err != nil || w.kind == wCheck:
			w.after = w.before
		case w.kind == wPut:
			w.after = w.put
		case w.kind == wUpdate:
			w.after = m.get(ctx, w.table, w.key)
		}
	}
	m.record(op, writes, factor, err != nil)
	return out, md, err
}

// writesOf lists the items a write request touches and the price factor
// (2 for a transaction: DynamoDB prepares and commits every item); nil for
// anything that is not a write.
func writesOf(p any) ([]*itemWrite, float64) {
	switch p := p.(type) {
	case *dynamodb.PutItemInput:
		return []*itemWrite{{table: aws.ToString(p.TableName), key: keyOf(p.Item), kind: wPut, put: p.Item}}, 1
	case *dynamodb.UpdateItemInput:
		return []*itemWrite{{table: aws.ToString(p.TableName), key: p.Key, kind: wUpdate}}, 1
	case *dynamodb.DeleteItemInput:
		return []*itemWrite{{table: aws.ToString(p.TableName), key: p.Key, kind: wDelete}}, 1
	case *dynamodb.BatchWriteItemInput:
		var ws []*itemWrite
		for table, reqs := range p.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					ws = append(ws, &itemWrite{table: table, key: keyOf(r.PutRequest.Item), kind: wPut, put: r.PutRequest.Item})
				case r.DeleteRequest != nil:
					ws = append(ws, &itemWrite{table: table, key: r.DeleteRequest.Key, kind: wDelete})
				}
			}
		}
		return ws, 1
	case *dynamodb.TransactWriteItemsInput:
		ws := make([]*itemWrite, 0, len(p.TransactItems))
		for _, t := range p.TransactItems {
			switch {
			case t.Put != nil:
				ws = append(ws, &itemWrite{table: aws.ToString(t.Put.TableName), key: keyOf(t.Put.Item), kind: wPut, put: t.Put.Item})
			case t.Update != nil:
				ws = append(ws, &itemWrite{table: aws.ToString(t.Update.TableName), key: t.Update.Key, kind: wUpdate})
			case t.Delete != nil:
				ws = append(ws, &itemWrite{table: aws.ToString(t.Delete.TableName), key: t.Delete.Key, kind: wDelete})
			case t.ConditionCheck != nil:
				ws = append(ws, &itemWrite{table: aws.ToString(t.ConditionCheck.TableName), key: t.ConditionCheck.Key, kind: wCheck})
			}
		}
		return ws, 2
	}
	return nil, 0
}

func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{resources.AttrPK: item[resources.AttrPK], resources.AttrSK: item[resources.AttrSK]}
}

// get reads an item whole and strongly consistent; nil when it does not
// exist or cannot be read.
func (m *meter) get(ctx context.Context, table string, key map[string]types.AttributeValue) map[string]types.AttributeValue {
	out, err := m.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil
	}
	return out.Item
}

// record prices the writes of one request: each item at the larger of its
// sizes before and after (a delete at the size it had, a condition check at
// the size of the item it checks), at least one unit, times factor; and the
// index writes a successful request causes.
func (m *meter) record(op string, writes []*itemWrite, factor float64, failed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if failed {
		m.units.failedWrites++
	}
	for _, w := range writes {
		kind := itemKind(w.after, w.before, w.key)
		u := writeUnitsFor(max(ItemSize(w.before), ItemSize(w.after))) * factor
		m.units.writeByKind[kind] += u
		m.units.writeByOp[op] += u
		m.units.compactWrite += writeUnitsFor(max(compactSize(w.before), compactSize(w.after))) * factor
		if failed {
			continue
		}
		for _, g := range m.gsis {
			iu, cu, entries := indexWriteUnits(g, w.before, w.after)
			m.units.indexWrite[g.Name] += iu
			m.units.indexItems[g.Name] += entries
			m.units.compactWrite += cu
		}
		if kind == "step" && getS(w.after, "st") == "complete" && getS(w.before, "st") != "complete" {
			m.units.stepDoneBytes = append(m.units.stepDoneBytes, ItemSize(w.after))
			m.units.stepDoneHist = append(m.units.stepDoneHist, historySize(w.after))
		}
	}
}

// indexWriteUnits prices the writes an index takes for one item change
// (the index entry is the item as the index projects it: whole for ALL, the
// keys and the listed attributes for INCLUDE): one write when the
// item enters, leaves or changes within the index, two when its index key
// changes (delete the old entry, put the new one), none when it is not in
// the index before or after or did not change. It also returns the same
// price for the compact history encoding, and the number of index entries
// written.
func indexWriteUnits(g resources.GSISpec, before, after map[string]types.AttributeValue) (units, compact, entries float64) {
	inB, inA := inIndex(g, before), inIndex(g, after)
	before, after = projected(g, before), projected(g, after)
	switch {
	case !inB && !inA:
		return 0, 0, 0
	case !inB:
		return writeUnitsFor(ItemSize(after)), writeUnitsFor(compactSize(after)), 1
	case !inA:
		return writeUnitsFor(ItemSize(before)), writeUnitsFor(compactSize(before)), 1
	case !reflect.DeepEqual(before[g.PartitionKey], after[g.PartitionKey]) || !reflect.DeepEqual(before[g.SortKey], after[g.SortKey]):
		return writeUnitsFor(ItemSize(before)) + writeUnitsFor(ItemSize(after)), writeUnitsFor(compactSize(before)) + writeUnitsFor(compactSize(after)), 2
	case reflect.DeepEqual(before, after):
		return 0, 0, 0
	}
	return writeUnitsFor(max(ItemSize(before), ItemSize(after))), writeUnitsFor(max(compactSize(before), compactSize(after))), 1
}

// projected is the index entry of item: the whole item for ALL, else the
// table and index keys and (INCLUDE) the listed attributes.
func projected(g resources.GSISpec, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil || g.Projection == "" || g.Projection == string(types.ProjectionTypeAll) {
		return item
	}
	out := map[string]types.AttributeValue{}
	for _, k := range append([]string{resources.AttrPK, resources.AttrSK, g.PartitionKey, g.SortKey}, g.NonKeyAttributes...) {
		if v, ok := item[k]; ok && k != "" {
			out[k] = v
		}
	}
	return out
}

func inIndex(g resources.GSISpec, item map[string]types.AttributeValue) bool {
	if item == nil || item[g.PartitionKey] == nil {
		return false
	}
	return g.SortKey == "" || item[g.SortKey] != nil
}

// meterRead prices a read from what it returned: GetItem and BatchGetItem
// per item rounded up to 4 KB (a missing item still costs the minimum),
// Query and Scan by the summed size of the page's items rounded up once.
// Projections and filters do not lower the price, so items read through
// them are sized whole.
func (m *meter) meterRead(ctx context.Context, op string, p, res any) {
	var units float64
	kinds := map[string]float64{}
	switch p := p.(type) {
	case *dynamodb.GetItemInput:
		out, _ := res.(*dynamodb.GetItemOutput)
		item := out.Item
		if p.ProjectionExpression != nil && item != nil {
			item = m.get(ctx, aws.ToString(p.TableName), p.Key)
		}
		units = readUnitsFor(ItemSize(item), aws.ToBool(p.ConsistentRead))
		kinds[itemKind(item, nil, p.Key)] += units
	case *dynamodb.BatchGetItemInput:
		out, _ := res.(*dynamodb.BatchGetItemOutput)
		for table, ka := range p.RequestItems {
			got := out.Responses[table]
			if ka.ProjectionExpression != nil {
				got = nil
				for _, k := range ka.Keys {
					if it := m.get(ctx, table, k); it != nil {
						got = append(got, it)
					}
				}
			}
			for _, it := range got {
				u := readUnitsFor(ItemSize(it), aws.ToBool(ka.ConsistentRead))
				units += u
				kinds[itemKind(it, nil, nil)] += u
			}
			missing := len(ka.Keys) - len(got) - len(out.UnprocessedKeys[table].Keys)
			for range max(0, missing) {
				units += readUnitsFor(0, aws.ToBool(ka.ConsistentRead))
			}
		}
	case *dynamodb.QueryInput:
		out, _ := res.(*dynamodb.QueryOutput)
		items := out.Items
		if p.ProjectionExpression != nil || p.FilterExpression != nil || p.Select == types.SelectCount || p.Select == types.SelectSpecificAttributes {
			items = m.requery(ctx, p, items)
		}
		size := 0
		for _, it := range items {
			size += ItemSize(it)
		}
		units = readUnitsFor(size, aws.ToBool(p.ConsistentRead))
		for _, it := range items {
			kinds[itemKind(it, nil, nil)] += units * float64(ItemSize(it)) / float64(max(1, size))
		}
		if len(items) == 0 {
			kinds["(empty query)"] += units
		}
	default:
		m.mu.Lock()
		m.units.unmetered[op]++
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.units.readByOp[op] += units
	for k, u := range kinds {
		m.units.readByKind[k] += u
	}
}

// requery runs a query again without projection and filter, to size the
// items it read in full; on failure it keeps what the query returned.
func (m *meter) requery(ctx context.Context, p *dynamodb.QueryInput, returned []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	q := *p
	q.ProjectionExpression, q.FilterExpression, q.Select = nil, nil, ""
	used := placeholders(aws.ToString(q.KeyConditionExpression))
	q.ExpressionAttributeNames = map[string]string{}
	for k, v := range p.ExpressionAttributeNames {
		if used[k] {
			q.ExpressionAttributeNames[k] = v
		}
	}
	q.ExpressionAttributeValues = map[string]types.AttributeValue{}
	for k, v := range p.ExpressionAttributeValues {
		if used[k] {
			q.ExpressionAttributeValues[k] = v
		}
	}
	if len(q.ExpressionAttributeNames) == 0 {
		q.ExpressionAttributeNames = nil
	}
	out, err := m.raw.Query(ctx, &q)
	if err != nil {
		return returned
	}
	return out.Items
}

var placeholderPattern = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)

func placeholders(expr string) map[string]bool {
	out := map[string]bool{}
	for _, p := range placeholderPattern.FindAllString(expr, -1) {
		out[p] = true
	}
	return out
}

// itemKind names what an item is: its "kind" attribute, else its sort key's
// prefix.
func itemKind(items ...map[string]types.AttributeValue) string {
	for _, it := range items {
		if k := getS(it, "kind"); k != "" {
			return k
		}
	}
	for _, it := range items {
		sk := getS(it, resources.AttrSK)
		if sk == "" {
			continue
		}
		switch {
		case sk == "ID":
			return "identity"
		case sk == "CB":
			return "breaker"
		case strings.HasPrefix(sk, "S#"):
			return "step"
		case strings.HasPrefix(sk, "M#"):
			return "dep_marker"
		case strings.HasPrefix(sk, "B#"):
			return "blob"
		case strings.HasPrefix(sk, "DLQ"):
			return "dlq"
		}
		return sk
	}
	return "unknown"
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
