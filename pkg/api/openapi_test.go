package api_test

import (
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/engine"
)

const openAPIPath = "../../docs/openapi.yaml"

// openAPIDoc is the part of docs/openapi.yaml the tests read.
type openAPIDoc struct {
	OpenAPI    string                    `yaml:"openapi"`
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas         map[string]openAPISchema  `yaml:"schemas"`
		SecuritySchemes map[string]map[string]any `yaml:"securitySchemes"`
		Parameters      map[string]map[string]any `yaml:"parameters"`
	} `yaml:"components"`
}

type openAPISchema struct {
	Properties map[string]any   `yaml:"properties"`
	Required   []string         `yaml:"required"`
	OneOf      []map[string]any `yaml:"oneOf"`
}

func readOpenAPI(t *testing.T) (openAPIDoc, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(openAPIPath)
	require.NoError(t, err)
	var doc openAPIDoc
	require.NoError(t, yaml.Unmarshal(data, &doc))
	var raw map[string]any
	require.NoError(t, yaml.Unmarshal(data, &raw))
	return doc, raw
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml and Handler.Routes in
// step: the document describes exactly the routes the handler serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, _ := readOpenAPI(t)
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "an OpenAPI 3 document")
	var documented []string
	for path, item := range doc.Paths {
		for key := range item {
			if slices.Contains(httpMethods, key) {
				documented = append(documented, strings.ToUpper(key)+" "+path)
			}
		}
	}
	var served []string
	for _, rt := range newServer(t).Handler.Routes() {
		served = append(served, rt.Method+" "+rt.Path)
	}
	sort.Strings(documented)
	sort.Strings(served)
	require.Equal(t, served, documented, "docs/openapi.yaml must describe exactly Handler.Routes()")
}

// TestOpenAPISchemasMatchTypes checks that each schema lists exactly the
// JSON fields of the Go type it describes, and that required fields exist.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	t.Parallel()
	doc, _ := readOpenAPI(t)
	types := map[string]any{
		"TaskRequest": engine.TaskRequest{}, "TaskResponse": api.TaskResponse{}, "StepResponse": api.StepResponse{},
		"StepError": api.StepError{}, "AuditEntry": api.AuditEntry{}, "TaskList": api.TaskList{},
		"Pagination": api.Pagination{}, "TemplateSummary": api.TemplateSummary{}, "HealthResponse": api.HealthResponse{},
		"ErrorResponse": api.ErrorResponse{}, "ErrorDetail": api.ErrorDetail{}, "CancelRequest": api.CancelRequest{},
		"PauseRequest": api.PauseRequest{}, "ResumeRequest": api.ResumeRequest{}, "CompletionData": api.CompletionData{},
		"DLQEntry": api.DLQEntry{}, "DLQList": api.DLQList{}, "DLQStats": api.DLQStats{},
		"DLQUpdateRequest": api.DLQUpdateRequest{},
	}
	for name, v := range types {
		schema, ok := doc.Components.Schemas[name]
		require.True(t, ok, "schema %s", name)
		require.ElementsMatch(t, jsonFields(reflect.TypeOf(v)), keys(schema.Properties), "schema %s lists the fields of %T", name, v)
		for _, r := range schema.Required {
			require.Contains(t, schema.Properties, r, "schema %s requires a field it has", name)
		}
	}
	// The manual action union: its variants together have the fields of
	// api.StepManualAction, and each variant names its own operator.
	union := map[string]bool{}
	for _, variant := range []string{"ResetForRetryAction", "ResolveManuallyAction", "CompleteManuallyAction"} {
		for f := range doc.Components.Schemas[variant].Properties {
			union[f] = true
		}
	}
	require.ElementsMatch(t, jsonFields(reflect.TypeOf(api.StepManualAction{})), keys(union))
	require.Len(t, doc.Components.Schemas["StepManualAction"].OneOf, 3)

	require.Equal(t, "X-API-Key", doc.Components.SecuritySchemes["ApiKeyAuth"]["name"])
	require.Equal(t, "bearer", doc.Components.SecuritySchemes["BearerAuth"]["scheme"])
	require.Equal(t, "JWT", doc.Components.SecuritySchemes["BearerAuth"]["bearerFormat"])
}

// TestOpenAPIRefsResolve checks every $ref points at a component that exists.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	_, raw := readOpenAPI(t)
	components := raw["components"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref := x.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
					require.Len(t, parts, 2, "ref %s", ref)
					section, ok := components[parts[0]].(map[string]any)
					require.True(t, ok, "ref %s", ref)
					require.Contains(t, section, parts[1], "ref %s", ref)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
