// Package breaker is a distributed circuit breaker for the dependencies of
// step handlers (a payment gateway, a partner API). A breaker is keyed by a
// dependency name, and its state lives in a Store shared by every process
// that calls the dependency, so all Lambda instances of a worker agree on
// whether the dependency is usable.
//
// The machine follows Tasker Core's breakers:
//
//	closed    --trip-->   open       after FailureThreshold consecutive failures
//	open      --probe-->  half_open  once CoolDown has passed
//	half_open --close-->  closed     after SuccessThreshold successful probes
//	half_open --reopen--> open       on any failure
//
// The package has two layers. The pure layer is the transition table (Next,
// Transitions, Mermaid) and the model over a Record: Allowed says whether an
// event's guard holds, Apply computes the record an event leaves, OnFailure,
// OnSuccess, Settle and Admit pick the event for an outcome. It does no I/O;
// the store makes one guarded write per event, conditional on the guard, so
// concurrent writers never apply a transition twice.
//
// Breaker is the client layer: Do calls a function unless the breaker is
// open, in which case it returns an *OpenError (matching ErrOpen) without
// calling it. Breaker caches the shared record for a short time (one second
// by default), so a healthy dependency costs one store read per second per
// process, and a state change or a failure one conditional write.
//
// docs/circuit-breakers.md describes the states, the configuration, the
// stored item and the costs.
package breaker
