package template

// The nested sections of a step or template: retry, batch_config,
// lifecycle, system_dependencies, event declarations and environments.

func readRetry(f *fields) Retry {
	r := defaultRetry()
	rf, ok := f.sub("retry")
	if !ok {
		return r
	}
	r.Retryable = rf.boolean("retryable", true)
	attempts, _ := rf.integer("max_attempts", 1, 100, 3)
	r.MaxAttempts = int(attempts)
	r.Backoff = Backoff(rf.oneOf("backoff", backoffs, string(BackoffExponential)))
	base, baseOK := rf.integer("backoff_base_ms", 100, 3_600_000, 1000)
	r.BackoffBaseMS = base
	maxDefault := max(30000, base)
	maxMS, maxOK := rf.integer("max_backoff_ms", 100, 3_600_000, maxDefault)
	r.MaxBackoffMS = maxMS
	if _, given := rf.get("max_backoff_ms"); given && baseOK && maxOK && maxMS < base {
		rf.c.addf(rf.at("max_backoff_ms"), "must be at least backoff_base_ms (%s), got %s", groupDigits(base), groupDigits(maxMS))
	}
	r.Jitter = rf.boolean("jitter", true)
	rf.done()
	return r
}

func readBatchConfig(f *fields) *BatchConfig {
	size, _ := f.integer("batch_size", 1, 100_000, 1000)
	par, _ := f.integer("parallelism", 1, 1000, 10)
	b := &BatchConfig{BatchSize: int(size), Parallelism: int(par), CursorField: "id"}
	if cf, ok := f.str("cursor_field"); ok {
		if cf == "" || len(cf) > 255 {
			f.c.addf(f.at("cursor_field"), "must be 1 to 255 characters long")
		} else {
			b.CursorField = cf
		}
	}
	b.WorkerTemplate, _ = f.str("worker_template")
	b.FailureStrategy = f.oneOf("failure_strategy", failureStrategies, FailureContinue)
	f.done()
	return b
}

func readLifecycle(f *fields) *Lifecycle {
	minutes := func(key string, hi int64) int {
		n, _ := f.integer(key, 1, hi, 0)
		return int(n)
	}
	l := &Lifecycle{
		MaxDurationMinutes:               minutes("max_duration_minutes", 43200),
		MaxWaitingForDependenciesMinutes: minutes("max_waiting_for_dependencies_minutes", 10080),
		MaxWaitingForRetryMinutes:        minutes("max_waiting_for_retry_minutes", 10080),
		MaxStepsInProcessMinutes:         minutes("max_steps_in_process_minutes", 10080),
		StalenessAction:                  f.oneOf("staleness_action", stalenessActions, StalenessDLQ),
		AutoFailOnTimeout:                f.boolean("auto_fail_on_timeout", false),
		AutoDLQOnTimeout:                 f.boolean("auto_dlq_on_timeout", false),
	}
	f.done()
	return l
}

func readSystemDependencies(f *fields) map[string]any {
	sf, ok := f.sub("system_dependencies")
	if !ok {
		return nil
	}
	if primary, ok := sf.str("primary"); ok && (primary == "" || len(primary) > 255) {
		sf.c.addf(sf.at("primary"), "must be 1 to 255 characters long")
	}
	sf.strList("secondary")
	sf.done()
	if len(sf.m) == 0 {
		return nil
	}
	return sf.m
}

// eventKeys checks one event declaration's keys beyond its name.
type eventKeys func(f *fields)

func domainEventKeys(f *fields) {
	f.str("description")
	f.opaque("schema")
}

func publishedEventKeys(f *fields) {
	f.str("description")
	f.opaque("schema")
	f.oneOf("condition", eventConditions, "")
	f.oneOf("delivery_mode", deliveryModes, "")
	f.str("publisher")
}

// readEventList reads a list of event declarations, keeping each as given.
func readEventList(f *fields, key string, check eventKeys) []map[string]any {
	items, ok := f.list(key)
	if !ok || len(items) == 0 {
		return nil
	}
	out := make([]map[string]any, 0, len(items))
	for i, item := range items {
		ef, ok := mappingAt(f.c, joinIndex(f.at(key), i), item)
		if !ok {
			continue
		}
		if name, ok := ef.requiredStr("name"); ok && len(name) > 255 {
			ef.c.addf(ef.at("name"), "is %d characters long; at most 255 are allowed", len(name))
		}
		check(ef)
		ef.done()
		out = append(out, ef.m)
	}
	return out
}

// readEnvironments checks `environments: {<env>: {steps: [overrides]}}` and
// keeps it as given. An override names a step of this template, or ALL.
func readEnvironments(f *fields, steps []Step) map[string]any {
	envs := f.opaque("environments")
	for _, env := range sortedKeys(envs) {
		ef, ok := mappingAt(f.c, joinKey(f.at("environments"), env), envs[env])
		if !ok {
			continue
		}
		items, _ := ef.list("steps")
		for i, item := range items {
			readStepOverride(ef.c, joinIndex(ef.at("steps"), i), item, steps)
		}
		ef.done()
	}
	return envs
}

func readStepOverride(c *collector, path string, item any, steps []Step) {
	of, ok := mappingAt(c, path, item)
	if !ok {
		return
	}
	if name, ok := of.requiredStr("name"); ok && name != "ALL" && !hasStep(steps, name) {
		c.addf(of.at("name"), "unknown step %s (name a step of this template, or ALL)", quoteShort(name))
	}
	if hf, ok := of.sub("handler"); ok {
		hf.opaque("initialization")
		hf.done()
	}
	of.integer("timeout_seconds", 1, 86400, 0)
	readRetry(of)
	of.done()
}

func hasStep(steps []Step, name string) bool {
	for _, s := range steps {
		if s.Name == name {
			return true
		}
	}
	return false
}
