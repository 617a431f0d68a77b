package template_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/tasker-go/tasker/pkg/template"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives the canonical JSON round trip and answers graph queries sensibly.
// Seeds: every file under templates/ plus testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, path := range templateFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(everyKey))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := template.Parse(data, "fuzz")
		if err != nil {
			var verr *template.ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("Parse error is not a *ValidationError with problems: %v", err)
			}
			_ = err.Error()
			return
		}
		encoded, err := json.Marshal(tmpl)
		if err != nil {
			t.Fatalf("marshal accepted template: %v", err)
		}
		back, err := template.ParseJSON(encoded)
		if err != nil {
			t.Fatalf("canonical JSON does not re-validate: %v\n%s", err, encoded)
		}
		again, err := json.Marshal(back)
		if err != nil || string(again) != string(encoded) {
			t.Fatalf("canonical JSON changed on the round trip:\n%s\n%s", encoded, again)
		}
		if got := len(tmpl.TopologicalOrder()); got != len(tmpl.Steps) {
			t.Fatalf("topological order has %d steps, template %d", got, len(tmpl.Steps))
		}
		for _, s := range tmpl.Steps {
			tmpl.Dependents(s.Name)
			tmpl.DecisionDescendants(s.Name)
		}
		tmpl.InitialSteps()
		_ = tmpl.ValidateContext(json.RawMessage(`{"n": 1}`))
		entries, err := tmpl.ScheduleEntries()
		if err != nil || len(entries) != len(tmpl.Schedules) {
			t.Fatalf("schedules of an accepted template do not load: %v", err)
		}
		for _, e := range entries {
			if err := tmpl.ValidateContext(e.Context); err != nil {
				t.Fatalf("schedule %s: context of an accepted template is invalid: %v", e.Name, err)
			}
		}
	})
}
