package bench

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// The rules of the AWS Developer Guide page "DynamoDB item sizes and
// formats", one case each.
func TestItemSizeRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name bytes + UTF-8 bytes", map[string]types.AttributeValue{"name": s("value")}, 4 + 5},
		{"string: multi-byte UTF-8 counts bytes", map[string]types.AttributeValue{"é": s("日本")}, 2 + 6},
		{"number: 1 byte per two significant digits + 1", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number: leading and trailing zeros trimmed", map[string]types.AttributeValue{"n": n("001200")}, 1 + 1 + 1},
		{"number: decimal point is not a digit", map[string]types.AttributeValue{"n": n("3.14")}, 1 + 2 + 1},
		{"number: zero", map[string]types.AttributeValue{"n": n("0")}, 1 + 0 + 1},
		{"binary: raw bytes, not base64", map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{1, 2, 3, 4}}}, 1 + 4},
		{"boolean: 1 byte", map[string]types.AttributeValue{"ok": &types.AttributeValueMemberBOOL{Value: true}}, 2 + 1},
		{"null: 1 byte", map[string]types.AttributeValue{"nil": &types.AttributeValueMemberNULL{Value: true}}, 3 + 1},
		{"empty list: 3 bytes", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{}}, 1 + 3},
		{"empty map: 3 bytes", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{}}, 1 + 3},
		{"list: 3 + per element 1 + its size", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), n("7")}}}, 1 + 3 + (1 + 2) + (1 + 2)},
		{"map: elements count their names", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"to": s("done")}}}, 1 + 3 + (1 + 2 + 4)},
		{"nested map in list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}}}}}, 1 + 3 + (1 + (3 + (1 + 1 + 1)))},
		{"string set: sum of members", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}}, 2 + 3},
		{"several attributes add up", map[string]types.AttributeValue{"pk": s("T#1"), "sk": s("TASK"), "rev": n("10")}, (2 + 3) + (2 + 4) + (3 + 1 + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ItemSize(tt.item); got != tt.want {
				t.Errorf("ItemSize = %d, want %d", got, tt.want)
			}
		})
	}
}

// The worked examples of "DynamoDB read and write operations": reads round
// up to 4 KB (a 3,500-byte item costs one unit, 8 KB two, 10 KB three;
// eventually consistent half), writes to 1 KB, at least one unit.
func TestUnitRounding(t *testing.T) {
	t.Parallel()
	reads := []struct {
		size       int
		consistent bool
		want       float64
	}{
		{3500, true, 1}, {8 * 1024, true, 2}, {8 * 1024, false, 1}, {10 * 1024, true, 3}, {0, true, 1}, {0, false, 0.5},
	}
	for _, r := range reads {
		if got := readUnitsFor(r.size, r.consistent); got != r.want {
			t.Errorf("readUnitsFor(%d, %v) = %v, want %v", r.size, r.consistent, got, r.want)
		}
	}
	writes := []struct {
		size int
		want float64
	}{{0, 1}, {500, 1}, {1024, 1}, {1025, 2}, {2560, 3}}
	for _, w := range writes {
		if got := writeUnitsFor(w.size); got != w.want {
			t.Errorf("writeUnitsFor(%d) = %v, want %v", w.size, got, w.want)
		}
	}
	// BatchGetItem rounds each item before adding: 1.5 KB + 6.5 KB reads as
	// 4 KB + 8 KB = 3 units, not 8 KB = 2.
	if got := readUnitsFor(1536, true) + readUnitsFor(6656, true); got != 3 {
		t.Errorf("batch of 1.5 KB and 6.5 KB = %v units, want 3", got)
	}
	// An item of exactly 1 KB by the size rules costs one write; one more
	// byte costs two.
	item := map[string]types.AttributeValue{"pk": s(strings.Repeat("x", 1022))}
	if got := writeUnitsFor(ItemSize(item)); got != 1 {
		t.Errorf("1,024-byte item = %v write units, want 1", got)
	}
	item["b"] = &types.AttributeValueMemberBOOL{}
	if got := writeUnitsFor(ItemSize(item)); got != 2 {
		t.Errorf("1,026-byte item = %v write units, want 2", got)
	}
}

func TestCompactSizeShortensOnlyHistory(t *testing.T) {
	t.Parallel()
	rec := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"from": s("a"), "to": s("b"), "event": s("c")}}
	name := "h_20261127T041344.526000000_0123456789abcdef_00"
	item := map[string]types.AttributeValue{"st": s("complete"), name: rec}
	full := ItemSize(item)
	saved := (len(name) - compactHistoryName) + (3 + 1 + 4) // names shortened to 20, keys to 1 byte
	if got := compactSize(item); got != full-saved {
		t.Errorf("compactSize = %d, want %d (full %d)", got, full-saved, full)
	}
	if got, want := historySize(item), len(name)+valueSize(rec); got != want {
		t.Errorf("historySize = %d, want %d", got, want)
	}
}
