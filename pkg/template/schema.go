package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

const schemaURL = "tasker:///input_schema.json"

var printer = message.NewPrinter(language.English)

// compiledSchemas caches compiled input schemas by their canonical JSON, so a
// schema is compiled once per process however many Template values (parsed,
// copied or reloaded from JSON) carry it. Keeping the cache out of Template
// keeps Template a plain value that reflect.DeepEqual can compare.
var compiledSchemas = struct {
	sync.Mutex
	m map[string]*jsonschema.Schema
}{m: map[string]*jsonschema.Schema{}}

const maxCachedSchemas = 1024

// errRemoteRef refuses every $ref outside the schema itself: templates come
// from users, and compiling one must not read files or the network.
var errRemoteRef = errors.New("$ref to another document is not supported; inline it or use $defs")

type noLoader struct{}

func (noLoader) Load(string) (any, error) { return nil, errRemoteRef }

// compileSchema compiles a JSON Schema (draft 2020-12 unless $schema says
// otherwise) with format assertions on.
func compileSchema(schema map[string]any) (*jsonschema.Schema, error) {
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	key := string(raw)
	compiledSchemas.Lock()
	sch, ok := compiledSchemas.m[key]
	compiledSchemas.Unlock()
	if ok {
		return sch, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	sch, err = c.Compile(schemaURL)
	if err != nil {
		return nil, err
	}
	compiledSchemas.Lock()
	if len(compiledSchemas.m) < maxCachedSchemas {
		compiledSchemas.m[key] = sch
	}
	compiledSchemas.Unlock()
	return sch, nil
}

// checkInputSchema reports an input_schema that does not compile, at the
// offending keyword when the library names one.
func checkInputSchema(schema map[string]any, c *collector) {
	_, err := compileSchema(schema)
	if err == nil {
		return
	}
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if errors.As(err, &sve) && errors.As(sve.Err, &ve) {
		leaf := firstLeaf(ve)
		c.addf(schemaPath(schema, leaf.InstanceLocation), "invalid JSON Schema: %s", leaf.ErrorKind.LocalizedString(printer))
		return
	}
	c.addf("input_schema", "invalid JSON Schema: %s", strings.TrimPrefix(err.Error(), "jsonschema: "))
}

// firstLeaf follows the first cause down to an error with no causes.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

// schemaPath turns a location inside the schema document into a problem path.
func schemaPath(doc any, tokens []string) string {
	path := "input_schema"
	for _, tok := range tokens {
		switch v := doc.(type) {
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				return path
			}
			path, doc = joinIndex(path, i), v[i]
		case map[string]any:
			path, doc = joinKey(path, tok), v[tok]
		default:
			return path
		}
	}
	return path
}

// ValidateContext checks a task's context against the template's input
// schema. The context must be a JSON object; empty input and null count as
// {}. Numbers are decoded exactly (no float rounding). With no input schema
// any object is accepted.
//
// It returns a *ContextError (matching ErrInvalidContext) naming the first
// offending field by JSON pointer; when several fields fail, the one first in
// pointer order is reported, so the result does not depend on map order. It
// returns a plain error only for a hand-built Template whose InputSchema does
// not compile.
func (t *Template) ValidateContext(context json.RawMessage) error {
	obj, cerr := decodeContext(context)
	if cerr != nil {
		return cerr
	}
	if t.InputSchema == nil {
		return nil
	}
	sch, err := compileSchema(t.InputSchema)
	if err != nil {
		return fmt.Errorf("template %s: input_schema: %w", t.Key(), err)
	}
	err = sch.Validate(obj)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return &ContextError{Field: "/", Reason: err.Error()}
	}
	return firstContextError(ve)
}

func decodeContext(context json.RawMessage) (map[string]any, *ContextError) {
	trimmed := bytes.TrimSpace(context)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return map[string]any{}, nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(trimmed))
	if err != nil {
		return nil, &ContextError{Field: "/", Reason: "is not valid JSON: " + err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &ContextError{Field: "/", Reason: "must be a JSON object, got " + jsonKind(v)}
	}
	return obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "null"
}

// firstContextError flattens the error tree to its leaves, turns each into a
// ContextError and returns the first in field order.
func firstContextError(root *jsonschema.ValidationError) *ContextError {
	var all []*ContextError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			all = append(all, leafErrors(e)...)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(root)
	if len(all) == 0 {
		return &ContextError{Field: "/", Reason: root.Error()}
	}
	return slices.MinFunc(all, func(a, b *ContextError) int {
		if c := comparePaths(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
}

// leafErrors describes one leaf. Errors about missing or extra properties
// name the property itself as the field.
func leafErrors(e *jsonschema.ValidationError) []*ContextError {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		out := make([]*ContextError, len(k.Missing))
		for i, m := range k.Missing {
			out[i] = &ContextError{Field: pointer(append(slices.Clone(loc), m)), Reason: "is required"}
		}
		return out
	case *kind.AdditionalProperties:
		out := make([]*ContextError, len(k.Properties))
		for i, p := range k.Properties {
			out[i] = &ContextError{Field: pointer(append(slices.Clone(loc), p)), Reason: "is not allowed (additionalProperties)"}
		}
		return out
	}
	return []*ContextError{{Field: pointer(loc), Reason: reason(e.ErrorKind)}}
}

// reason words a validation failure for people.
func reason(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s but found %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %s but found %s", ratText(k.Want), ratText(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %s but found %s", ratText(k.Want), ratText(k.Got))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be > %s but found %s", ratText(k.Want), ratText(k.Got))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be < %s but found %s", ratText(k.Want), ratText(k.Got))
	case *kind.MultipleOf:
		return fmt.Sprintf("must be a multiple of %s but found %s", ratText(k.Want), ratText(k.Got))
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long but has %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long but has %d", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items but has %d", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items but has %d", k.Want, k.Got)
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d properties but has %d", k.Want, k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d properties but has %d", k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("must match pattern %q", k.Want)
	case *kind.Format:
		return fmt.Sprintf("must be a valid %s", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	}
	return strings.TrimPrefix(k.LocalizedString(printer), "value ")
}

func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// pointer renders instance-location tokens as a JSON pointer; "/" is the root.
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
