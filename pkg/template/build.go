package template

import (
	"fmt"
	"strings"
)

var (
	identityStrategies = []string{IdentityStrict, IdentityCallerProvided, IdentityAlwaysUnique}
	backoffs           = []string{string(BackoffNone), string(BackoffLinear), string(BackoffExponential), string(BackoffFibonacci)}
	failureStrategies  = []string{FailureContinue, FailureFailFast, FailureIsolate}
	stalenessActions   = []string{StalenessDLQ, StalenessError, StalenessNone}
	eventConditions    = []string{"success", "failure", "retryable_failure", "permanent_failure", "always"}
	deliveryModes      = []string{"durable", "fast", "broadcast"}
)

// stepTypeNames maps every accepted spelling to its StepType.
var stepTypeNames = map[string]StepType{
	"standard":             StepStandard,
	"decision":             StepDecision,
	"decision_point":       StepDecision,
	"deferred_convergence": StepDeferredConvergence,
	"deferred":             StepDeferredConvergence,
	"batchable":            StepBatchable,
	"batch_worker":         StepBatchWorker,
}

// stepSource remembers how a step was written, so that later checks can
// point at the key the author used.
type stepSource struct {
	path    string // "steps[3]"
	depsKey string // "dependencies" or "depends_on"
	// initialization is handler.initialization as given (nil in the seed form).
	initialization map[string]any
}

func (s stepSource) deps() string          { return joinKey(s.path, s.depsKey) }
func (s stepSource) dep(i int) string      { return joinIndex(s.deps(), i) }
func (s stepSource) key(key string) string { return joinKey(s.path, key) }

// build reads a normalized document into a Template. Problems go to c; the
// Template is meaningful only when c stays empty.
func build(tree any, c *collector) *Template {
	top, ok := tree.(map[string]any)
	if !ok {
		c.addf("", "a template must be a mapping, got %s", describe(tree))
		return nil
	}
	f := &fields{c: c, m: top}
	t := &Template{}
	t.Namespace = readNamespace(f)
	t.Name = readName(f)
	t.Version = readVersion(f)
	t.Description, _ = f.str("description")
	t.IdentityStrategy = f.oneOf("identity_strategy", identityStrategies, IdentityStrict)
	t.InputSchema = f.opaque("input_schema")
	t.Metadata = f.opaque("metadata")
	t.LoadedFrom, _ = f.str("loaded_from")
	t.CompensateOnFailure = f.boolean("compensate_on_failure", false)
	t.SystemDependencies = readSystemDependencies(f)
	t.DomainEvents = readEventList(f, "domain_events", domainEventKeys)
	if lf, ok := f.sub("lifecycle"); ok {
		t.Lifecycle = readLifecycle(lf)
	}
	var sources []stepSource
	t.Steps, sources = readSteps(f)
	t.Environments = readEnvironments(f, t.Steps)
	var readable []int
	t.Schedules, readable = readSchedules(f)
	f.done()
	checkTemplate(t, sources, c)
	checkScheduleContexts(t, readable, c)
	return t
}

func readNamespace(f *fields) string {
	key := f.alias("namespace", "namespace_name")
	if _, given := f.get(key); !given {
		f.c.addf("namespace", "required (namespace, or namespace_name in the Tasker form)")
		return ""
	}
	ns, ok := f.requiredStr(key)
	if !ok {
		return ""
	}
	switch {
	case namespacePattern.MatchString(ns):
	case strings.ToLower(ns) != ns && namespacePattern.MatchString(strings.ToLower(ns)):
		f.c.addf(key, "%s must be lower-case (it becomes part of SQS queue names); use %s", quoteShort(ns), quoteShort(strings.ToLower(ns)))
	case len(ns) > maxNamespaceLen:
		f.c.addf(key, "%s is %d characters long; at most %d are allowed (it becomes part of SQS queue names)", quoteShort(ns), len(ns), maxNamespaceLen)
	default:
		f.c.addf(key, "%s may contain only lower-case letters, digits and '_'", quoteShort(ns))
	}
	return ns
}

func readName(f *fields) string {
	name, ok := f.requiredStr("name")
	if ok && !namePattern.MatchString(name) {
		if len(name) > maxNameLen {
			f.c.addf("name", "is %d characters long; at most %d are allowed", len(name), maxNameLen)
		} else {
			f.c.addf("name", "%s may contain only letters, digits, '_', '.' and '-'", quoteShort(name))
		}
	}
	return name
}

func readVersion(f *fields) string {
	v, given := f.get("version")
	switch v.(type) {
	case int64, uint64, float64:
		f.c.addf("version", "must be a string; quote it (version: \"1.0.0\"): YAML reads an unquoted 1.0 as a number")
		return ""
	}
	version, ok := f.requiredStr("version")
	if given && ok && (len(version) > maxVersionLen || !versionPattern.MatchString(version)) {
		f.c.addf("version", "%s is not a version: use MAJOR.MINOR or MAJOR.MINOR.PATCH, optionally with a pre-release (1.0, 1.2.3, 2.0.0-rc.1)", quoteShort(version))
	}
	return version
}

func readSteps(f *fields) ([]Step, []stepSource) {
	items, ok := f.list("steps")
	if !ok {
		if _, given := f.get("steps"); !given {
			f.c.addf("steps", "required: a template needs at least one step")
		}
		return nil, nil
	}
	if len(items) == 0 {
		f.c.addf("steps", "at least one step is required")
	}
	if len(items) > maxSteps {
		f.c.addf("steps", "%d steps given; a template may have at most %d", len(items), maxSteps)
	}
	steps := make([]Step, len(items))
	sources := make([]stepSource, len(items))
	for i, item := range items {
		steps[i], sources[i] = readStep(f.c, joinIndex("steps", i), item)
	}
	return steps, sources
}

func readStep(c *collector, path string, item any) (Step, stepSource) {
	src := stepSource{path: path, depsKey: "dependencies"}
	f, ok := mappingAt(c, path, item)
	if !ok {
		return Step{}, src
	}
	var s Step
	if name, ok := f.requiredStr("name"); ok {
		s.Name = name
		if !stepNamePattern.MatchString(name) {
			c.addf(f.at("name"), "%s must be 1 to 64 letters, digits or '_'", quoteShort(name))
		}
	}
	s.Description, _ = f.str("description")
	src.initialization = readHandler(f, &s)
	s.Type = readStepType(f)
	src.depsKey = f.alias("dependencies", "depends_on")
	s.Dependencies, _ = f.strList(src.depsKey)
	if len(s.Dependencies) == 0 {
		s.Dependencies = nil
	}
	s.Retry = readRetry(f)
	timeout, _ := f.integer("timeout_seconds", 1, 86400, 0)
	s.TimeoutSeconds = int(timeout)
	if bf, ok := f.sub("batch_config"); ok {
		s.BatchConfig = readBatchConfig(bf)
		if s.Type == StepBatchWorker && s.BatchConfig.WorkerTemplate == "" {
			s.BatchConfig.WorkerTemplate = s.Name
		}
	}
	s.PublishesEvents = readEventList(f, "publishes_events", publishedEventKeys)
	s.SystemDependency, _ = f.str("system_dependency")
	s.ResultSchema = f.opaque("result_schema")
	s.Composition = f.opaque("composition")
	s.Compensation = readCompensation(f)
	f.done()
	return s, src
}

// readHandler reads `handler: name` (seed form) or
// `handler: {callable, method, resolver, initialization}` (Tasker form).
// It returns the initialization mapping as given, for later checks.
func readHandler(f *fields, s *Step) map[string]any {
	v, ok := f.get("handler")
	if !ok {
		f.c.addf(f.at("handler"), "required")
		return nil
	}
	switch h := v.(type) {
	case string:
		s.Handler, _ = f.requiredStr("handler")
		return nil
	case map[string]any:
		hf := &fields{c: f.c, path: f.at("handler"), m: h}
		s.Handler, _ = hf.requiredStr("callable")
		if len(s.Handler) > 500 {
			f.c.addf(hf.at("callable"), "is %d characters long; at most 500 are allowed", len(s.Handler))
		}
		s.HandlerMethod, _ = hf.str("method")
		s.HandlerResolver, _ = hf.str("resolver")
		s.Initialization = hf.opaque("initialization")
		hf.done()
		return s.Initialization
	default:
		f.c.addf(f.at("handler"), "must be a handler name (seed form) or a mapping with callable (Tasker form), got %s", describe(v))
		return nil
	}
}

func readStepType(f *fields) StepType {
	key := f.alias("type", "step_type")
	name, ok := f.str(key)
	if !ok {
		return StepStandard
	}
	typ, known := stepTypeNames[name]
	if !known {
		f.c.addf(f.at(key), "must be one of standard, decision, deferred_convergence, batchable, batch_worker (or the aliases decision_point, deferred), got %s", quoteShort(name))
		return StepStandard
	}
	return typ
}

// typeArticle renders a step type for messages: "a standard step".
func typeArticle(t StepType) string {
	return fmt.Sprintf("a %s step", t)
}
