package bench

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Sizes and rounding of DynamoDB billing, from the AWS Developer Guide pages
// "DynamoDB item sizes and formats" (CapacityUnitCalculations.html) and
// "DynamoDB read and write operations" (read-write-operations.html); see
// docs/performance.md for the exact rules relied on.
const (
	writeUnitBytes = 1024 // one write request unit: an item of up to 1 KB
	readUnitBytes  = 4096 // one strongly consistent read request unit: up to 4 KB
)

// ItemSize returns the size DynamoDB bills for an item: the sum over its
// attributes of the UTF-8 bytes of the name plus the size of the value.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize is the size of one attribute value, without its name: strings
// and binaries by their bytes, numbers by their significant digits, booleans
// and nulls one byte, lists and maps 3 bytes plus one byte and the size (and,
// in a map, the name) of every element, sets the sum of their members.
func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	}
	return 0
}

// numberSize is the documented approximation for a number: one byte per two
// significant digits (leading and trailing zeros trimmed), plus one byte.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.Replace(s, ".", "", 1)
	s = strings.Trim(s, "0")
	digits := len(s)
	return (digits+1)/2 + 1
}

// writeUnitsFor is the write request units one write of an item of size
// bytes costs: 1 KB or part thereof, at least one.
func writeUnitsFor(size int) float64 {
	return float64(max(1, (size+writeUnitBytes-1)/writeUnitBytes))
}

// readUnitsFor is the read request units for reading size bytes: 4 KB or
// part thereof, at least one; half that for an eventually consistent read.
func readUnitsFor(size int, consistent bool) float64 {
	u := float64(max(1, (size+readUnitBytes-1)/readUnitBytes))
	if !consistent {
		u /= 2
	}
	return u
}

// compactHistoryName is the length of a transition record's attribute name in
// the compact encoding the report prices for comparison ("h_" and a base-32
// write time, process and sequence: 20 bytes instead of 47).
const compactHistoryName = 20

// historySize is the part of an item's size taken by its transition records
// (attributes named "h_…" in the wire form, "h:…" in the compact one).
func historySize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		if strings.HasPrefix(name, "h_") || strings.HasPrefix(name, "h:") {
			n += len(name) + valueSize(v)
		}
	}
	return n
}

// compactSize is what an item would weigh if its wire-form transition
// records (since the engine writes compact records, only workers' claim
// records) had 20-byte names and one-byte keys ("f", "t", "e", "a", …) with
// the same values: the saving a compact claim record would bring.
func compactSize(item map[string]types.AttributeValue) int {
	n := ItemSize(item)
	for name, v := range item {
		if !strings.HasPrefix(name, "h_") {
			continue
		}
		n -= max(0, len(name)-compactHistoryName)
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			for k := range m.Value {
				n -= len(k) - 1
			}
		}
	}
	return n
}
