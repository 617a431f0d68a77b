package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decodedYAML is a YAML document as a generic tree plus the line of each path.
type decodedYAML struct {
	tree  any
	lines map[string]int
}

// decodeYAML parses one YAML document. Syntax errors come back as problems
// carrying the line goccy/go-yaml reports.
func decodeYAML(data []byte, c *collector) (out decodedYAML, ok bool) {
	if depth := nestingDepth(data); depth > maxValueDepth {
		c.addf("", "collections nested about %d levels deep; at most %d are allowed", depth, maxValueDepth)
		return decodedYAML{}, false
	}
	defer func() {
		// The YAML library parses untrusted input; a panic there is a bad
		// document to us, not a crash.
		if r := recover(); r != nil {
			c.addf("", "invalid YAML: parser failed: %v", r)
			out, ok = decodedYAML{}, false
		}
	}()
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		c.problems = append(c.problems, yamlProblem(err))
		return decodedYAML{}, false
	}
	body, ok := singleDocument(file, c)
	if !ok {
		return decodedYAML{}, false
	}
	var tree any
	if err := yaml.NodeToValue(body, &tree); err != nil {
		c.problems = append(c.problems, yamlProblem(err))
		return decodedYAML{}, false
	}
	lines := map[string]int{}
	indexLines(body, "", lines, 0)
	return decodedYAML{tree: tree, lines: lines}, true
}

// singleDocument returns the body of the file's only non-empty document.
func singleDocument(file *ast.File, c *collector) (ast.Node, bool) {
	var bodies []ast.Node
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			bodies = append(bodies, d.Body)
		}
	}
	switch len(bodies) {
	case 0:
		c.addf("", "empty document: a template needs at least namespace, name, version and steps")
		return nil, false
	case 1:
		return bodies[0], true
	default:
		c.addf("", "%d YAML documents found; a template source holds exactly one", len(bodies))
		return nil, false
	}
}

// nestingDepth estimates the deepest nesting of flow collections ([ and {)
// and compact block collections ("- - x") in a YAML document, skipping quoted
// text and comments. goccy/go-yaml takes time quadratic in that depth, so
// Parse rejects deep documents before parsing them. Brackets inside block
// scalars are counted too, which can only overestimate.
func nestingDepth(data []byte) int {
	depth, deepest := 0, 0
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		if prev == '\n' {
			compact, next := compactIndicators(data, i)
			deepest = max(deepest, depth+compact)
			if next > i {
				i, prev = next-1, ' '
				continue
			}
		}
		ch := data[i]
		startsToken := prev == ' ' || prev == '\t' || prev == '\n' || prev == '[' || prev == '{' || prev == ',' || prev == ':'
		switch {
		case ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			for i < len(data) && data[i] != '\n' {
				i++
			}
			ch = '\n'
		case ch == '"' && startsToken:
			i = skipDoubleQuoted(data, i)
		case ch == '\'' && startsToken:
			i = skipSingleQuoted(data, i)
		case ch == '[' || ch == '{':
			depth++
			deepest = max(deepest, depth)
		case (ch == ']' || ch == '}') && depth > 0:
			depth--
		}
		prev = ch
	}
	return deepest
}

// compactIndicators counts the "- ", "? " and ": " indicators that open a
// line (after indentation) and returns the index after them.
func compactIndicators(data []byte, i int) (int, int) {
	n := 0
	for {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
			i++
		}
		if i+1 < len(data) && (data[i] == '-' || data[i] == '?' || data[i] == ':') && (data[i+1] == ' ' || data[i+1] == '\t') {
			n++
			i += 2
			continue
		}
		return n, i
	}
}

func skipDoubleQuoted(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return i
}

func skipSingleQuoted(data []byte, i int) int {
	for i++; i < len(data); i++ {
		if data[i] == '\'' {
			if i+1 < len(data) && data[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return i
}

func yamlProblem(err error) Problem {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		p := Problem{Message: "invalid YAML: " + yerr.GetMessage()}
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			p.Line = tk.Position.Line
		}
		return p
	}
	return Problem{Message: "invalid YAML: " + err.Error()}
}

// indexLines records the line of every mapping key and sequence item under
// node, keyed by problem path. It is best effort: values reached through
// aliases or merge keys have no line of their own.
func indexLines(node ast.Node, path string, lines map[string]int, depth int) {
	if node == nil || depth > maxValueDepth {
		return
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		indexLines(n.Value, path, lines, depth+1)
	case *ast.TagNode:
		indexLines(n.Value, path, lines, depth+1)
	case *ast.MappingNode:
		for _, v := range n.Values {
			indexLines(v, path, lines, depth+1)
		}
	case *ast.MappingValueNode:
		key, ok := keyText(n.Key)
		if !ok {
			return
		}
		p := joinKey(path, key)
		if _, seen := lines[p]; !seen {
			lines[p] = lineOf(n.Key)
		}
		indexLines(n.Value, p, lines, depth+1)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := joinIndex(path, i)
			lines[p] = lineOf(v)
			indexLines(v, p, lines, depth+1)
		}
	}
}

func keyText(k ast.MapKeyNode) (string, bool) {
	if k == nil || k.IsMergeKey() {
		return "", false
	}
	switch n := k.(type) {
	case *ast.StringNode:
		return n.Value, true
	case ast.ScalarNode:
		return fmt.Sprint(n.GetValue()), true
	}
	return "", false
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// lineFor finds the line of a problem path, falling back to the nearest
// ancestor that has one (a missing key is reported at its mapping).
func (d decodedYAML) lineFor(path string) int {
	for {
		if l, ok := d.lines[path]; ok && l > 0 {
			return l
		}
		parent, ok := parentPath(path)
		if !ok {
			return 0
		}
		path = parent
	}
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(data []byte, c *collector) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		c.addf("", "invalid JSON: %v", err)
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		c.addf("", "invalid JSON: unexpected data after the template")
		return nil, false
	}
	return tree, true
}

// describe names a value's kind for messages: `string "x"`, `integer 3`.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case string:
		return "string " + quoteShort(x)
	case int64, uint64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case map[string]any:
		return "mapping"
	case []any:
		return "sequence"
	}
	return fmt.Sprintf("%T", v)
}

func quoteShort(s string) string {
	const limit = 40
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
