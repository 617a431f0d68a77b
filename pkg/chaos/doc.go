// Package chaos is Tasker's fault-injection harness. Run starts the whole
// system in process (pkg/devstack) on a local AWS, runs many tasks of mixed
// shapes from the acceptance templates while injecting faults — throttled
// DynamoDB and SQS requests, duplicated, delayed and reordered queue
// messages, process crashes just before or just after DynamoDB writes and
// SQS sends and deletes, handler panics, handler timeouts, permanent
// handler failures and, optionally, an emulator restart — and then checks
// the invariants the engine promises: every task settles in the state it
// must, no attempt's effect is committed twice, every step completes at
// most once, every audit trail follows the state machines of
// pkg/statemachine and ends in the stored state, no step runs more attempts
// than it allows, and no dead-lettered message is left without a visible
// DLQ entry.
//
// Every fault decision comes from a seeded math/rand/v2 source, so a run is
// reproduced by its seed (see docs/reliability.md). StartEmulator runs the
// emulator in a child process so it can be restarted (and so pkg/soak can
// measure the system without the emulator's memory).
package chaos
