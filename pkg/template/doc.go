// Package template parses and validates Tasker workflow templates.
//
// A template names a workflow (namespace, name and version) and lists its
// steps: the handler each step calls, the steps it depends on, how it is
// retried and what kind of step it is (standard, decision,
// deferred_convergence, batchable or batch_worker).
//
// Two YAML dialects load into the same [Template]:
//
//   - the seed form, with `namespace`, `handler: <name>` and `dependencies`;
//   - Tasker Core's own form, with `namespace_name`,
//     `handler: {callable, method, resolver, initialization}` and
//     `depends_on` or `dependencies`.
//
// JSON is accepted too, since JSON is YAML. Unknown keys are errors, and a
// template is checked as a whole: [Parse] reports every problem it finds, each
// with a path such as `steps[2].retry.max_attempts`, in a *[ValidationError].
//
// A parsed template has its defaults filled in. Its JSON form (see
// [Template.MarshalJSON]) is canonical: [ParseJSON] turns it back into an
// equal Template, which is how the engine stores templates.
//
// [Template.ValidateContext] checks a task's context against the template's
// input_schema (JSON Schema, draft 2020-12 unless the schema says otherwise).
//
// A template's `schedules` (see [Schedule]) start tasks on EventBridge
// Scheduler expressions; Parse checks each expression with package
// schedule and each context against input_schema, and
// [Template.ScheduleEntries] readies them for a schedule.Runner.
//
// A Template's methods only read it, so one Template may be shared by
// concurrent goroutines as long as nobody modifies it.
package template
