// Package samplehandlers holds the step handlers for every template shipped
// in templates/: the acceptance handlers (math.*, approval.*, batch.*,
// faults.*) whose results the acceptance suite checks exactly, and
// self-contained sample handlers for the use-case templates (order
// fulfillment, payments, customer ETL, user onboarding, daily reporting and
// conditional approvals).
//
// The sample handlers talk to no outside system. They stand in for the
// gateways, databases and mail services of the seed use cases with
// deterministic work: identifiers are derived from the step's idempotency key
// or the task context, so a retried attempt returns the same identifiers, and
// results depend only on the step's inputs (and on Options.Now for
// timestamps).
//
// Wiring a worker:
//
//	reg := worker.NewRegistry()
//	samplehandlers.Register(reg)
//
// Tests that need to observe execution pass a Recorder to RegisterWith: it
// records every handler invocation (task, step, attempt, start and end
// time), so a test can count attempts and check that parallel branches
// overlapped.
//
// Numbers: the math handlers use arbitrary-precision integers. They accept a
// parent's "result" as a JSON number or a decimal string and return a JSON
// number when the value fits in an int64, a decimal string otherwise.
//
// Errors: a handler rejects bad input with a permanent *worker.Error (type
// "invalid_input" unless a more specific type is given, such as
// "fraud_detected") and simulates transient failures with retryable ones.
package samplehandlers
