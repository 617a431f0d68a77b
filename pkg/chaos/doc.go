// Package chaos is Tasker's fault-injection harness. Run starts the whole
// system in process (pkg/devstack) on a local AWS, runs many tasks of mixed
// shapes from the acceptance templates while injecting faults — throttled
// DynamoDB and SQS requests, duplicated queue messages, handler panics,
// handler timeouts and permanent handler failures — and then checks the
// invariants the engine promises: every task settles, no attempt's effect
// is committed twice, every step completes at most once, every audit trail
// follows the state machines of pkg/statemachine and ends in the stored
// state, and no step runs more attempts than it allows.
//
// Every fault decision comes from a seeded math/rand/v2 source, so a run is
// reproduced by its seed (see docs/reliability.md).
package chaos
