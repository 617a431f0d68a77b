package template

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// collector gathers problems.
type collector struct {
	problems []Problem
}

func (c *collector) addf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// normalizer turns a decoded document (from YAML or from JSON) into one
// canonical tree: map[string]any, []any, string, bool, nil, int64 for
// integers (uint64 above math.MaxInt64), float64 for other numbers. Both
// decoders therefore yield equal trees for equal documents, and the tree
// survives a JSON round trip unchanged.
type normalizer struct {
	c       *collector
	nodes   int
	tooBig  bool
	tooDeep bool
}

func (n *normalizer) value(path string, v any, depth int) any {
	n.nodes++
	if n.nodes > maxValueNodes {
		if !n.tooBig {
			n.tooBig = true
			n.c.addf("", "document has more than %d values (aliases count each time they are used)", maxValueNodes)
		}
		return nil
	}
	if depth > maxValueDepth {
		if !n.tooDeep {
			n.tooDeep = true
			n.c.addf(path, "nested more than %d levels deep", maxValueDepth)
		}
		return nil
	}
	switch x := v.(type) {
	case nil, bool:
		return x
	case string:
		if !utf8.ValidString(x) {
			n.c.addf(path, "string is not valid UTF-8")
			return nil
		}
		return x
	case map[string]any:
		return n.mapping(path, x, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = n.value(joinIndex(path, i), e, depth+1)
		}
		return out
	case json.Number:
		return n.number(path, string(x))
	case float64:
		return n.float(path, x)
	case float32:
		return n.float(path, float64(x))
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint:
		return unsigned(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return unsigned(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	default:
		n.c.addf(path, "unsupported value of type %T", v)
		return nil
	}
}

func (n *normalizer) mapping(path string, m map[string]any, depth int) map[string]any {
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		p := joinKey(path, k)
		if !utf8.ValidString(k) {
			n.c.addf(path, "key is not valid UTF-8")
			continue
		}
		out[k] = n.value(p, m[k], depth+1)
	}
	return out
}

func (n *normalizer) number(path, s string) any {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		n.c.addf(path, "number %s is out of range", s)
		return nil
	}
	return n.float(path, f)
}

func (n *normalizer) float(path string, f float64) any {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		n.c.addf(path, "%v is not allowed: templates are stored as JSON, which has no NaN or infinity", f)
		return nil
	case f != math.Trunc(f):
		return f
	case f >= -(1<<63) && f < 1<<63:
		return int64(f)
	case f >= 0 && f < 1<<64:
		return uint64(f)
	default:
		return f
	}
}

func unsigned(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return u
}
