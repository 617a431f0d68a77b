package infra

import (
	"slices"

	"github.com/tasker-go/tasker/pkg/template"
)

// Samples is what the stack deploys from a templates directory.
type Samples struct {
	// Namespaces are the templates' namespaces, sorted, each once.
	Namespaces []string
	// Schedules are the templates' schedules.
	Schedules []TemplateSchedule
}

// LoadSamples reads every template under dir (pkg/template.LoadDir: the
// same validation as `tasker templates validate`). It returns LoadDir's
// error for an invalid template.
func LoadSamples(dir string) (*Samples, error) {
	templates, err := template.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Samples{}
	for _, t := range templates {
		s.Namespaces = append(s.Namespaces, t.Namespace)
		s.Schedules = append(s.Schedules, templateSchedules(t)...)
	}
	slices.Sort(s.Namespaces)
	s.Namespaces = slices.Compact(s.Namespaces)
	return s, nil
}

// templateSchedules returns the schedules of t, each to be deployed as an
// EventBridge Scheduler schedule (AddTemplateSchedules).
func templateSchedules(t *template.Template) []TemplateSchedule {
	out := make([]TemplateSchedule, 0, len(t.Schedules))
	for _, s := range t.Schedules {
		out = append(out, TemplateSchedule{
			Namespace: t.Namespace, Name: t.Name, Version: t.Version,
			Schedule: s.Name, Expression: s.Expression, Timezone: s.Timezone, Enabled: s.Enabled,
		})
	}
	return out
}
