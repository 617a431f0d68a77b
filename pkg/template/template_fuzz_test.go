package template_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/tasker-go/tasker/pkg/template"
)

// maxFuzzInput caps fuzz inputs a little above what Parse accepts, so the
// size limit itself is exercised without unbounded memory.
const maxFuzzInput = 600 << 10

// FuzzParseJSON feeds the JSON form (the form POST /v1/templates and the
// store use) to ParseJSON. Seeds: the canonical JSON of every template
// under templates/. Whatever ParseJSON accepts has names that are safe as
// keys and queue names, and marshals back to a document it accepts again.
func FuzzParseJSON(f *testing.F) {
	for _, path := range templateFiles(f) {
		tmpl, err := template.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(tmpl)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"namespace_name":"ns","name":"n","version":"1.0","steps":[{"name":"a","handler":{"callable":"h"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		tmpl, err := template.ParseJSON(data)
		if err != nil {
			var verr *template.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 || !errors.Is(err, template.ErrInvalidTemplate) {
				t.Fatalf("ParseJSON error is not a *ValidationError with problems: %v", err)
			}
			return
		}
		checkKeyNames(t, tmpl)
		encoded, err := json.Marshal(tmpl)
		if err != nil {
			t.Fatalf("marshal accepted template: %v", err)
		}
		if _, err := template.ParseJSON(encoded); err != nil {
			t.Fatalf("canonical JSON does not re-validate: %v\n%s", err, encoded)
		}
	})
}

// checkKeyNames asserts that every name of an accepted template that
// becomes part of a DynamoDB key or an SQS queue name passes the same
// checks the API applies to request fields.
func checkKeyNames(t *testing.T, tmpl *template.Template) {
	t.Helper()
	for what, err := range map[string]error{
		"namespace": template.CheckNamespace(tmpl.Namespace),
		"name":      template.CheckName(tmpl.Name),
		"version":   template.CheckVersion(tmpl.Version),
	} {
		if err != nil {
			t.Fatalf("accepted template with a bad %s: %v", what, err)
		}
	}
	for _, s := range tmpl.Steps {
		if len(s.Name) == 0 || len(s.Name) > 64 {
			t.Fatalf("accepted step name %q", s.Name)
		}
		for _, r := range s.Name {
			if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				t.Fatalf("accepted step name %q", s.Name)
			}
		}
	}
}

// hostileContexts seed FuzzValidateContext besides the schedule contexts
// the templates ship.
var hostileContexts = []string{
	`{}`, `null`, `[]`, `"x"`, `{"even_number": 1e400}`, `{"even_number": -0}`, `{"a": {"b": {"c": [1, 2, {"d": null}]}}}`,
	`{"amount": "1000", "order_id": 7}`, `{"items": [{"sku": "A", "quantity": 1e-400}]}`, `{"\u0000": "\ud800"}`,
}

// FuzzValidateContext checks task contexts against the input schemas of
// the templates under templates/: no panic, and every rejection is a
// *ContextError with a field and a reason (the API answers it with 400).
func FuzzValidateContext(f *testing.F) {
	var tmpls []*template.Template
	for _, path := range templateFiles(f) {
		tmpl, err := template.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if tmpl.InputSchema == nil {
			continue
		}
		tmpls = append(tmpls, tmpl)
		entries, err := tmpl.ScheduleEntries()
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			f.Add(uint8(len(tmpls)-1), []byte(e.Context))
		}
	}
	if len(tmpls) == 0 {
		f.Fatal("no template under templates/ has an input_schema")
	}
	for i, c := range hostileContexts {
		f.Add(uint8(i), []byte(c))
	}
	f.Fuzz(func(t *testing.T, which uint8, context []byte) {
		if len(context) > maxFuzzInput {
			return
		}
		tmpl := tmpls[int(which)%len(tmpls)]
		err := tmpl.ValidateContext(context)
		if err == nil {
			var obj map[string]any
			if trimmed := bytes.TrimSpace(context); len(trimmed) > 0 && json.Unmarshal(trimmed, &obj) != nil {
				t.Fatalf("%s accepted a context that is not a JSON object: %q", tmpl.Key(), context)
			}
			return
		}
		var cerr *template.ContextError
		if !errors.As(err, &cerr) || cerr.Field == "" || cerr.Reason == "" {
			t.Fatalf("%s: rejection is not a *ContextError with field and reason: %v", tmpl.Key(), err)
		}
	})
}
