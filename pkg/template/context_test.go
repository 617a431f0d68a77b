package template_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/template"
)

func TestValidateContextLinear(t *testing.T) {
	t.Parallel()
	tmpl, err := template.ParseFile(filepath.Join(templatesDir, "acceptance", "linear.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		context string
		field   string // empty: valid
		reason  string
	}{
		{name: "even number", context: `{"even_number": 6}`},
		{name: "extra keys allowed", context: `{"even_number": 2, "_test_run_id": "x"}`},
		{name: "integral float is an integer", context: `{"even_number": 6.0}`},
		{name: "missing", context: `{}`, field: "/even_number", reason: "is required"},
		{name: "null context", context: `null`, field: "/even_number", reason: "is required"},
		{name: "empty context", context: ``, field: "/even_number", reason: "is required"},
		{name: "below minimum", context: `{"even_number": 1}`, field: "/even_number", reason: "must be >= 2 but found 1"},
		{name: "above maximum", context: `{"even_number": 101}`, field: "/even_number", reason: "must be <= 100 but found 101"},
		{name: "beyond int64 stays exact", context: `{"even_number": 123456789012345678901234567890}`, field: "/even_number", reason: "must be <= 100 but found 123456789012345678901234567890"},
		{name: "wrong type", context: `{"even_number": "6"}`, field: "/even_number", reason: "must be integer but found string"},
		{name: "fraction", context: `{"even_number": 6.5}`, field: "/even_number", reason: "must be integer but found number"},
		{name: "not an object", context: `"not an object"`, field: "/", reason: "must be a JSON object, got a string"},
		{name: "array", context: `[1]`, field: "/", reason: "must be a JSON object, got an array"},
		{name: "invalid JSON", context: `{"even_number":`, field: "/"},
		{name: "trailing data", context: `{} {}`, field: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tmpl.ValidateContext(json.RawMessage(tt.context))
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, template.ErrInvalidContext)
			var cerr *template.ContextError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, tt.field, cerr.Field)
			if tt.reason != "" {
				require.Equal(t, tt.reason, cerr.Reason)
				require.Equal(t, "invalid task context: "+tt.field+": "+tt.reason, err.Error())
			}
		})
	}
}

func TestValidateContextWithoutSchema(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSteps(oneStep))
	require.NoError(t, tmpl.ValidateContext(json.RawMessage(`{"anything": [1, 2]}`)))
	require.NoError(t, tmpl.ValidateContext(nil))
	var cerr *template.ContextError
	require.ErrorAs(t, tmpl.ValidateContext(json.RawMessage(`42`)), &cerr)
	require.Equal(t, "must be a JSON object, got a number", cerr.Reason)
}

func TestValidateContextMessages(t *testing.T) {
	t.Parallel()
	tmpl := mustParse(t, withSteps(oneStep)+`
input_schema:
  type: object
  required: [zeta, alpha]
  additionalProperties: false
  properties:
    zeta: {type: string, minLength: 2, maxLength: 3, pattern: "^[a-z]+$"}
    alpha: {type: number, exclusiveMinimum: 0, multipleOf: 0.5}
    tags: {type: array, minItems: 1, maxItems: 2, items: {enum: [x, y]}}
    when: {type: string, format: date}
    "a/b~c": {const: 1}
`)
	tests := []struct {
		context, field, reason string
	}{
		{`{}`, "/alpha", "is required"}, // both missing: the first in field order wins
		{`{"alpha": 1}`, "/zeta", "is required"},
		{`{"alpha": 0, "zeta": "ab"}`, "/alpha", "must be > 0 but found 0"},
		{`{"alpha": 0.25, "zeta": "ab"}`, "/alpha", "must be a multiple of 0.5 but found 0.25"},
		{`{"alpha": 1, "zeta": "a"}`, "/zeta", "must be at least 2 characters long but has 1"},
		{`{"alpha": 1, "zeta": "abcd"}`, "/zeta", "must be at most 3 characters long but has 4"},
		{`{"alpha": 1, "zeta": "A1"}`, "/zeta", `must match pattern "^[a-z]+$"`},
		{`{"alpha": 1, "zeta": "ab", "tags": []}`, "/tags", "must have at least 1 items but has 0"},
		{`{"alpha": 1, "zeta": "ab", "tags": ["x", "y", "x"]}`, "/tags", "must have at most 2 items but has 3"},
		{`{"alpha": 1, "zeta": "ab", "tags": ["z"]}`, "/tags/0", "must be one of 'x', 'y'"},
		{`{"alpha": 1, "zeta": "ab", "when": "yesterday"}`, "/when", "must be a valid date"},
		{`{"alpha": 1, "zeta": "ab", "extra": true}`, "/extra", "is not allowed (additionalProperties)"},
		{`{"alpha": 1, "zeta": "ab", "a/b~c": 2}`, "/a~1b~0c", "must be 1"},
	}
	for _, tt := range tests {
		t.Run(tt.context, func(t *testing.T) {
			t.Parallel()
			var cerr *template.ContextError
			require.ErrorAs(t, tmpl.ValidateContext(json.RawMessage(tt.context)), &cerr)
			require.Equal(t, tt.field, cerr.Field)
			require.Equal(t, tt.reason, cerr.Reason)
		})
	}
	require.NoError(t, tmpl.ValidateContext(json.RawMessage(`{"alpha": 1.5, "zeta": "ab", "tags": ["x"], "when": "2026-01-31"}`)))
}

func TestValidateContextHonoursDollarSchema(t *testing.T) {
	t.Parallel()
	// In draft-04 exclusiveMinimum is a boolean modifier of minimum; under
	// the 2020-12 default it would be a number and this would not compile.
	tmpl := mustParse(t, withSteps(oneStep)+`
input_schema:
  $schema: "http://json-schema.org/draft-04/schema#"
  type: object
  properties:
    n: {type: integer, minimum: 5, exclusiveMinimum: true}
`)
	require.NoError(t, tmpl.ValidateContext(json.RawMessage(`{"n": 6}`)))
	var cerr *template.ContextError
	require.ErrorAs(t, tmpl.ValidateContext(json.RawMessage(`{"n": 5}`)), &cerr)
	require.Equal(t, "/n", cerr.Field)
	require.Equal(t, "must be > 5 but found 5", cerr.Reason)

	_, err := template.Parse([]byte(withSteps(oneStep)+"input_schema: {properties: {n: {exclusiveMinimum: true}}}\n"), "t.yaml")
	require.ErrorContains(t, err, "input_schema.properties.n.exclusiveMinimum: invalid JSON Schema: got boolean, want number")
}

func TestValidateContextOnHandBuiltTemplate(t *testing.T) {
	t.Parallel()
	tmpl := &template.Template{Namespace: "a", Name: "b", Version: "1.0", InputSchema: map[string]any{"type": "object", "required": []any{"x"}}}
	var cerr *template.ContextError
	require.ErrorAs(t, tmpl.ValidateContext(json.RawMessage(`{}`)), &cerr)
	require.Equal(t, "/x", cerr.Field)

	broken := &template.Template{Namespace: "a", Name: "b", Version: "1.0", InputSchema: map[string]any{"type": 5}}
	err := broken.ValidateContext(json.RawMessage(`{}`))
	require.Error(t, err)
	require.NotErrorIs(t, err, template.ErrInvalidContext)
	require.ErrorContains(t, err, "template a/b:1.0: input_schema:")
}
