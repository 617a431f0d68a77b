// Package statemachine holds Tasker's two state machines, for tasks and for
// workflow steps, as pure transition tables.
//
// The tables follow Tasker Core's (tasker-systems/tasker-core) task and step
// machines, with the few restrictions listed in docs/state-machines.md. The
// package does no I/O: it answers "where does this event take a record in
// this state?" and nothing else. Guards that need data (are a step's
// dependencies met, is it still eligible for a retry) are the engine's job,
// and so is persisting the change; the store applies a transition only if the
// record's state and version still match.
//
// NextTask and NextStep look up a single hop. ApplyTask and ApplyStep check a
// sequence of hops that the engine records in one conditional write, and
// TaskPath and StepPath return those hops for the audit trail. Every failed
// lookup is an *IllegalTransitionError, which matches ErrIllegalTransition
// under errors.Is.
//
// MermaidTask and MermaidStep render the tables as the diagrams kept in
// docs/state-machines.md; a test keeps the two in step.
package statemachine
