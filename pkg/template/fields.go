package template

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// fields reads the keys of one mapping, recording type errors, and at the
// end reports every key nobody asked for as unknown. Absent keys and keys
// set to null read as "not given".
type fields struct {
	c     *collector
	path  string
	m     map[string]any
	known []string
}

// mappingAt wraps v as a mapping, or records a problem when it is not one.
func mappingAt(c *collector, path string, v any) (*fields, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.addf(path, "must be a mapping, got %s", describe(v))
		return nil, false
	}
	return &fields{c: c, path: path, m: m}, true
}

func (f *fields) at(key string) string { return joinKey(f.path, key) }

// get returns a key's value, or false when it is absent or null.
func (f *fields) get(key string) (any, bool) {
	if !slices.Contains(f.known, key) {
		f.known = append(f.known, key)
	}
	v, ok := f.m[key]
	return v, ok && v != nil
}

// alias reads a key that has a second spelling; giving both is an error.
// It returns the spelling that was used.
func (f *fields) alias(key, other string) string {
	_, a := f.get(key)
	_, b := f.get(other)
	if a && b {
		f.c.addf(f.at(other), "%s and %s mean the same; give only one", key, other)
	}
	if b && !a {
		return other
	}
	return key
}

func (f *fields) str(key string) (string, bool) {
	v, ok := f.get(key)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		f.c.addf(f.at(key), "must be a string, got %s", describe(v))
		return "", false
	}
	return s, true
}

// requiredStr reads a key that must be a non-empty string.
func (f *fields) requiredStr(key string) (string, bool) {
	s, ok := f.str(key)
	if !ok {
		if _, given := f.get(key); !given {
			f.c.addf(f.at(key), "required")
		}
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		f.c.addf(f.at(key), "must not be empty")
		return "", false
	}
	return s, true
}

func (f *fields) boolean(key string, def bool) bool {
	v, ok := f.get(key)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		f.c.addf(f.at(key), "must be true or false, got %s", describe(v))
		return def
	}
	return b
}

// integer reads an integer key and checks it lies in [lo, hi]. It returns def
// when the key is absent and false when the value is unusable.
func (f *fields) integer(key string, lo, hi, def int64) (int64, bool) {
	v, ok := f.get(key)
	if !ok {
		return def, true
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case uint64:
		n = math.MaxInt64
	default:
		f.c.addf(f.at(key), "must be an integer, got %s", describe(v))
		return def, false
	}
	if n < lo || n > hi {
		f.c.addf(f.at(key), "must be between %s and %s, got %s", groupDigits(lo), groupDigits(hi), integerText(v))
		return def, false
	}
	return n, true
}

func integerText(v any) string {
	switch x := v.(type) {
	case int64:
		return groupDigits(x)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return describe(v)
}

// groupDigits writes 3600000 as 3,600,000 so ranges read easily.
func groupDigits(n int64) string {
	s := []byte(strconv.FormatInt(n, 10))
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, d)
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// oneOf reads a string key that must be one of the allowed values.
func (f *fields) oneOf(key string, allowed []string, def string) string {
	s, ok := f.str(key)
	if !ok {
		return def
	}
	if !slices.Contains(allowed, s) {
		f.c.addf(f.at(key), "must be one of %s, got %s", strings.Join(allowed, ", "), quoteShort(s))
		return def
	}
	return s
}

func (f *fields) strList(key string) ([]string, bool) {
	v, ok := f.get(key)
	if !ok {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		f.c.addf(f.at(key), "must be a list of strings, got %s", describe(v))
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, isStr := e.(string)
		if !isStr {
			f.c.addf(joinIndex(f.at(key), i), "must be a string, got %s", describe(e))
			continue
		}
		out = append(out, s)
	}
	return out, true
}

// sub reads a key whose value must be a mapping.
func (f *fields) sub(key string) (*fields, bool) {
	v, ok := f.get(key)
	if !ok {
		return nil, false
	}
	return mappingAt(f.c, f.at(key), v)
}

// opaque reads a free-form mapping, kept as given; nil when absent or empty.
func (f *fields) opaque(key string) map[string]any {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		f.c.addf(f.at(key), "must be a mapping, got %s", describe(v))
		return nil
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// list reads a key whose value must be a sequence.
func (f *fields) list(key string) ([]any, bool) {
	v, ok := f.get(key)
	if !ok {
		return nil, false
	}
	l, isList := v.([]any)
	if !isList {
		f.c.addf(f.at(key), "must be a list, got %s", describe(v))
		return nil, false
	}
	return l, true
}

// done reports every key that was never read, in sorted order, suggesting
// the nearest known key when there is a likely typo.
func (f *fields) done() {
	for _, k := range sortedKeys(f.m) {
		if slices.Contains(f.known, k) {
			continue
		}
		if s := suggest(k, f.known); s != "" {
			f.c.addf(f.at(k), "unknown key (did you mean %q?)", s)
			continue
		}
		f.c.addf(f.at(k), "unknown key")
	}
}

// suggest returns the known key closest to k when it is within two edits.
func suggest(k string, known []string) string {
	best, bestDist := "", 3
	for _, cand := range slices.Sorted(slices.Values(known)) {
		if d := editDistance(k, cand, bestDist); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, or limit when it is at least limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(rb)], limit)
}
