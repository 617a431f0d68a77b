package template

import "encoding/json"

// The canonical JSON form is Tasker Core's dialect with every default
// written out: namespace_name, handler as a mapping, type, dependencies,
// a full retry block.
type templateJSON struct {
	NamespaceName       string           `json:"namespace_name"`
	Name                string           `json:"name"`
	Version             string           `json:"version"`
	Description         string           `json:"description,omitempty"`
	IdentityStrategy    string           `json:"identity_strategy,omitempty"`
	InputSchema         map[string]any   `json:"input_schema,omitempty"`
	Steps               []stepJSON       `json:"steps"`
	Lifecycle           *Lifecycle       `json:"lifecycle,omitempty"`
	Metadata            map[string]any   `json:"metadata,omitempty"`
	SystemDependencies  map[string]any   `json:"system_dependencies,omitempty"`
	DomainEvents        []map[string]any `json:"domain_events,omitempty"`
	Environments        map[string]any   `json:"environments,omitempty"`
	Schedules           []Schedule       `json:"schedules,omitempty"`
	LoadedFrom          string           `json:"loaded_from,omitempty"`
	CompensateOnFailure bool             `json:"compensate_on_failure,omitempty"`
}

type stepJSON struct {
	Name             string            `json:"name"`
	Description      string            `json:"description,omitempty"`
	Handler          handlerJSON       `json:"handler"`
	Type             StepType          `json:"type"`
	Dependencies     []string          `json:"dependencies,omitempty"`
	Retry            Retry             `json:"retry"`
	TimeoutSeconds   int               `json:"timeout_seconds,omitempty"`
	BatchConfig      *BatchConfig      `json:"batch_config,omitempty"`
	PublishesEvents  []map[string]any  `json:"publishes_events,omitempty"`
	SystemDependency string            `json:"system_dependency,omitempty"`
	ResultSchema     map[string]any    `json:"result_schema,omitempty"`
	Composition      map[string]any    `json:"composition,omitempty"`
	Compensation     *compensationJSON `json:"compensation,omitempty"`
}

type handlerJSON struct {
	Callable       string         `json:"callable"`
	Method         string         `json:"method,omitempty"`
	Resolver       string         `json:"resolver,omitempty"`
	Initialization map[string]any `json:"initialization,omitempty"`
}

// MarshalJSON writes the template's canonical JSON form: Tasker Core's
// dialect with defaults filled in. Map keys are sorted, so equal templates
// marshal to identical bytes. ParseJSON reads it back into an equal
// Template.
func (t Template) MarshalJSON() ([]byte, error) {
	out := templateJSON{
		NamespaceName:       t.Namespace,
		Name:                t.Name,
		Version:             t.Version,
		Description:         t.Description,
		IdentityStrategy:    t.IdentityStrategy,
		InputSchema:         t.InputSchema,
		Steps:               make([]stepJSON, len(t.Steps)),
		Lifecycle:           t.Lifecycle,
		Metadata:            t.Metadata,
		SystemDependencies:  t.SystemDependencies,
		DomainEvents:        t.DomainEvents,
		Environments:        t.Environments,
		Schedules:           t.Schedules,
		LoadedFrom:          t.LoadedFrom,
		CompensateOnFailure: t.CompensateOnFailure,
	}
	for i, s := range t.Steps {
		out.Steps[i] = stepJSON{
			Name:        s.Name,
			Description: s.Description,
			Handler: handlerJSON{
				Callable:       s.Handler,
				Method:         s.HandlerMethod,
				Resolver:       s.HandlerResolver,
				Initialization: s.Initialization,
			},
			Type:             s.Type,
			Dependencies:     s.Dependencies,
			Retry:            s.Retry,
			TimeoutSeconds:   s.TimeoutSeconds,
			BatchConfig:      s.BatchConfig,
			PublishesEvents:  s.PublishesEvents,
			SystemDependency: s.SystemDependency,
			ResultSchema:     s.ResultSchema,
			Composition:      s.Composition,
			Compensation:     s.Compensation.toJSON(),
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON parses and validates a template's JSON form with ParseJSON,
// so json.Unmarshal into a Template applies every rule Parse does. It
// returns a *ValidationError when the template is invalid.
func (t *Template) UnmarshalJSON(data []byte) error {
	parsed, err := ParseJSON(data)
	if err != nil {
		return err
	}
	*t = *parsed
	return nil
}
