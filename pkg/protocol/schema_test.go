package protocol_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// schemaDir holds the published JSON Schemas of the wire contract.
const schemaDir = "../../schemas"

// schemaBase is the $id prefix of every v1 schema.
const schemaBase = "https://tasker.dev/schemas/v1/"

// Schema names (file names without ".schema.json").
const (
	sStepMessage          = "step-message"
	sResultMessage        = "result-message"
	sStepError            = "step-error"
	sStepResult           = "step-result"
	sOrchestrationMessage = "orchestration-message"
	sDecisionOutcome      = "decision-outcome"
	sBatchOutcome         = "batch-outcome"
	sCursorConfig         = "cursor-config"
	sBatchWorkerInputs    = "batch-worker-inputs"
	sCompensationInputs   = "compensation-inputs"
	sPayloadRef           = "payload-ref"
	sCheckpoint           = "checkpoint"
)

var allSchemas = []string{
	sStepMessage, sResultMessage, sStepError, sStepResult, sOrchestrationMessage, sDecisionOutcome,
	sBatchOutcome, sCursorConfig, sBatchWorkerInputs, sCompensationInputs, sPayloadRef, sCheckpoint,
}

// schemas is the compiled set, with each file's raw JSON for inspection.
type schemas struct {
	compiled map[string]*jsonschema.Schema
	raw      map[string]map[string]any
}

func loadSchemas(t *testing.T) *schemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	s := &schemas{compiled: map[string]*jsonschema.Schema{}, raw: map[string]map[string]any{}}
	for _, name := range allSchemas {
		data, err := os.ReadFile(filepath.Join(schemaDir, name+".schema.json"))
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		require.NoError(t, err, name)
		require.NoError(t, c.AddResource(schemaBase+name+".schema.json", doc), name)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(data, &raw), name)
		s.raw[name] = raw
	}
	for _, name := range allSchemas {
		sch, err := c.Compile(schemaBase + name + ".schema.json")
		require.NoError(t, err, name)
		s.compiled[name] = sch
	}
	return s
}

// validate checks a JSON document against a named schema.
func (s *schemas) validate(t *testing.T, name string, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	sch, ok := s.compiled[name]
	require.True(t, ok, "no schema %q", name)
	return sch.Validate(inst)
}

func TestSchemasCompileAndAreListed(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	require.NoError(t, err)
	var onDisk []string
	for _, f := range files {
		require.True(t, strings.HasSuffix(f, ".schema.json"), "%s: schema files end in .schema.json", f)
		onDisk = append(onDisk, strings.TrimSuffix(filepath.Base(f), ".schema.json"))
	}
	want := slices.Clone(allSchemas)
	sort.Strings(want)
	sort.Strings(onDisk)
	require.Equal(t, want, onDisk, "every schema file is compiled and tested")
	for name, raw := range s.raw {
		require.Equal(t, "https://json-schema.org/draft/2020-12/schema", raw["$schema"], name)
		require.Equal(t, schemaBase+name+".schema.json", raw["$id"], name)
	}
	for _, name := range []string{sStepMessage, sResultMessage, sOrchestrationMessage} {
		v := s.raw[name]["properties"].(map[string]any)["v"].(map[string]any)
		require.InDelta(t, float64(protocol.Version), v["const"], 0, "%s: v is protocol.Version", name)
	}
}

// goSchemaPair ties a Go type to the object schema describing it.
type goSchemaPair struct {
	schema string
	path   []string // inside the schema file, e.g. {"$defs", "batch_metadata"}
	typ    reflect.Type
	// conditional lists fields Go always writes that the schema requires
	// only for some variants (e.g. task_uuid, absent from fire_schedule).
	conditional []string
}

var goSchemaPairs = []goSchemaPair{
	{schema: sStepMessage, typ: reflect.TypeFor[protocol.StepMessage]()},
	{schema: sResultMessage, typ: reflect.TypeFor[protocol.ResultMessage]()},
	{schema: sStepError, typ: reflect.TypeFor[protocol.StepError]()},
	{schema: sOrchestrationMessage, typ: reflect.TypeFor[protocol.OrchestrationMessage](), conditional: []string{"task_uuid"}},
	{schema: sDecisionOutcome, typ: reflect.TypeFor[protocol.DecisionOutcome]()},
	{schema: sBatchOutcome, typ: reflect.TypeFor[protocol.BatchOutcome]()},
	{schema: sCursorConfig, typ: reflect.TypeFor[protocol.CursorConfig]()},
	{schema: sBatchWorkerInputs, typ: reflect.TypeFor[protocol.BatchWorkerInputs]()},
	{schema: sBatchWorkerInputs, path: []string{"$defs", "batch_metadata"}, typ: reflect.TypeFor[protocol.BatchMetadata]()},
	{schema: sCompensationInputs, typ: reflect.TypeFor[protocol.CompensationInputs]()},
	{schema: sPayloadRef, typ: reflect.TypeFor[protocol.PayloadRef]()},
	{schema: sCheckpoint, typ: reflect.TypeFor[worker.CheckpointRecord]()},
}

// jsonFields walks t's json tags (flattening embedded structs) and returns
// every field name and the names marshalled even when empty.
func jsonFields(t reflect.Type) (all, always []string) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			a, r := jsonFields(f.Type)
			all, always = append(all, a...), append(always, r...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			always = append(always, name)
		}
	}
	return all, always
}

func objectSchema(t *testing.T, s *schemas, p goSchemaPair) map[string]any {
	t.Helper()
	obj := s.raw[p.schema]
	for _, k := range p.path {
		next, ok := obj[k].(map[string]any)
		require.True(t, ok, "%s: no %v", p.schema, p.path)
		obj = next
	}
	return obj
}

func stringsOf(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			out = append(out, e.(string))
		}
	}
	return out
}

// TestSchemaFieldsMatchGoStructs fails when a field is added to (or removed
// from) a message type without the same change to its schema, or when what
// Go always sends and what the schema requires part ways.
func TestSchemaFieldsMatchGoStructs(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	for _, p := range goSchemaPairs {
		t.Run(p.typ.Name(), func(t *testing.T) {
			t.Parallel()
			obj := objectSchema(t, s, p)
			props, ok := obj["properties"].(map[string]any)
			require.True(t, ok, "%s: no properties", p.schema)
			require.Equal(t, false, obj["additionalProperties"], "%s: envelopes are strict", p.schema)
			var inSchema []string
			for k := range props {
				inSchema = append(inSchema, k)
			}
			all, always := jsonFields(p.typ)
			sort.Strings(all)
			sort.Strings(inSchema)
			require.Equal(t, all, inSchema, "%s properties vs %s json fields", p.schema, p.typ)

			required := stringsOf(obj["required"])
			wantRequired := slices.DeleteFunc(slices.Clone(always), func(n string) bool { return slices.Contains(p.conditional, n) })
			sort.Strings(required)
			sort.Strings(wantRequired)
			require.Equal(t, wantRequired, required, "%s required vs %s fields without omitempty", p.schema, p.typ)
		})
	}
}

// TestGoValuesMatchSchemas marshals representative values, minimal and
// with every optional field set, and validates them.
func TestGoValuesMatchSchemas(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	for _, tc := range goValues(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := json.Marshal(tc.value)
			require.NoError(t, err)
			require.NoError(t, s.validate(t, tc.schema, data), "%s", data)
		})
	}
}

// TestFixtures validates testdata/valid/<schema>/*.json and rejects
// testdata/invalid/<schema>/*.json. Valid messages must also pass the Go
// decoder; invalid ones must fail it too unless their name starts with
// "strict_" (the schema is stricter than the decoder, which ignores unknown
// fields).
func TestFixtures(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	for _, kind := range []string{"valid", "invalid"} {
		dirs, err := os.ReadDir(filepath.Join("testdata", kind))
		require.NoError(t, err)
		require.NotEmpty(t, dirs)
		for _, d := range dirs {
			require.Contains(t, allSchemas, d.Name(), "testdata/%s/%s names a schema", kind, d.Name())
			files, err := filepath.Glob(filepath.Join("testdata", kind, d.Name(), "*.json"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, f := range files {
				t.Run(kind+"/"+d.Name()+"/"+filepath.Base(f), func(t *testing.T) {
					t.Parallel()
					data, err := os.ReadFile(f)
					require.NoError(t, err)
					serr := s.validate(t, d.Name(), data)
					gerr, decoded := goDecode(d.Name(), data)
					if kind == "valid" {
						require.NoError(t, serr)
						if decoded {
							require.NoError(t, gerr, "the Go decoder accepts a valid %s", d.Name())
						}
						return
					}
					require.Error(t, serr, "schema %s must reject %s", d.Name(), f)
					if decoded && !strings.HasPrefix(filepath.Base(f), "strict_") {
						require.Error(t, gerr, "the Go decoder must reject %s", f)
					}
				})
			}
		}
	}
}

// goDecode runs the engine's and SDK's own decoding where there is one.
func goDecode(schema string, data []byte) (err error, decoded bool) {
	switch schema {
	case sStepMessage:
		_, err = protocol.Decode[protocol.StepMessage](data)
		return err, true
	case sResultMessage:
		m, err := protocol.Decode[protocol.ResultMessage](data)
		if err != nil {
			return err, true
		}
		_, err = protocol.ExtractOutcomes(m.Result)
		return err, true
	case sOrchestrationMessage:
		_, err = protocol.Decode[protocol.OrchestrationMessage](data)
		return err, true
	case sStepResult:
		_, err = protocol.ExtractOutcomes(data)
		return err, true
	}
	return nil, false
}

// TestDocExamples validates every example in docs/protocol.md that is
// preceded by a "<!-- schema: NAME -->" marker, so the document cannot
// show a message the schemas reject.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	s := loadSchemas(t)
	doc, err := os.ReadFile("../../docs/protocol.md")
	require.NoError(t, err)
	lines := strings.Split(string(doc), "\n")
	seen := map[string]bool{}
	for i := 0; i < len(lines); i++ {
		name, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "<!-- schema: ")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, " -->")
		require.Less(t, i+1, len(lines))
		require.Equal(t, "```json", strings.TrimSpace(lines[i+1]), "line %d: a schema marker precedes a json block", i+1)
		var block []string
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			block = append(block, lines[j])
		}
		data := []byte(strings.Join(block, "\n"))
		require.NoError(t, s.validate(t, name, data), "docs/protocol.md line %d (%s)", i+1, name)
		if err, decoded := goDecode(name, data); decoded {
			require.NoError(t, err, "docs/protocol.md line %d: the Go decoder accepts it", i+1)
		}
		seen[name] = true
		i = j
	}
	for _, name := range allSchemas {
		require.True(t, seen[name], "docs/protocol.md has a worked example of %s", name)
	}
}
