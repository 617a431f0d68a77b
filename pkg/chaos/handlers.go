package chaos

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/worker"
)

// Context fields the workload adds to every task so handlers can make
// reproducible decisions (task UUIDs are random; the sequence number is not).
const (
	fieldSeq      = "chaos_seq"
	fieldFailStep = "chaos_fail_step"
)

// chaosContext is what handlers read of a task's context.
type chaosContext struct {
	Seq      int    `json:"chaos_seq"`
	FailStep string `json:"chaos_fail_step"`
}

// effectKey identifies one attempt of one step.
type effectKey struct {
	Step    string // worker.Step.IdempotencyKey (the step UUID)
	Attempt int
}

// effect is what the ledger knows of one step attempt.
type effect struct {
	Task, Name  string
	MaxAttempts int
	Count       int
}

// ledger records each handler invocation's effect. Claims must make the
// count of every (step, attempt) at most one.
type ledger struct {
	mu      sync.Mutex
	effects map[effectKey]*effect
}

func newLedger() *ledger { return &ledger{effects: map[effectKey]*effect{}} }

func (l *ledger) record(s *worker.Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := effectKey{Step: s.IdempotencyKey(), Attempt: s.Attempt}
	e := l.effects[k]
	if e == nil {
		e = &effect{Task: s.TaskUUID, Name: s.Name, MaxAttempts: s.MaxAttempts}
		l.effects[k] = e
	}
	e.Count++
}

// faultPlan decides the handler faults of each attempt.
type faultPlan struct {
	seed        uint64
	panicRate   float64
	timeoutRate float64
	log         *faultLog
	ledger      *ledger
}

// decision is the fault planned for one attempt.
type decision int

const (
	noFault decision = iota
	panicFault
	timeoutFault
	permanentFault
)

// decide derives the attempt's fault from the seed, the task's sequence
// number, the step and the attempt, so it does not depend on scheduling.
// Transient faults hit only attempts that have a retry left, and never the
// faults.* handlers, whose attempts are already planned by their template.
func (p *faultPlan) decide(s *worker.Step, cc chaosContext) decision {
	if cc.FailStep != "" && cc.FailStep == s.Name {
		return permanentFault
	}
	if s.Attempt >= s.MaxAttempts || strings.HasPrefix(s.Handler, "faults.") {
		return noFault
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%d", cc.Seq, s.Name, s.Attempt)
	x := rand.New(rand.NewPCG(p.seed, h.Sum64())).Float64()
	switch {
	case x < p.panicRate:
		return panicFault
	case x < p.panicRate+p.timeoutRate:
		return timeoutFault
	}
	return noFault
}

// wrap returns h with effect recording and planned faults.
func (p *faultPlan) wrap(h worker.Handler) worker.HandlerFunc {
	return func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		var cc chaosContext
		_ = s.DecodeContext(&cc) // a task without the fields gets no faults
		switch p.decide(s, cc) {
		case panicFault:
			p.log.add(FaultHandlerPanic)
			panic(fmt.Sprintf("chaos: injected panic in %s attempt %d", s.Name, s.Attempt))
		case permanentFault:
			p.ledger.record(s)
			p.log.add(FaultPermanent)
			return worker.Result{}, worker.Permanent(errors.New("chaos: injected permanent failure")).WithType("chaos_permanent")
		case timeoutFault:
			p.ledger.record(s)
			_, _ = h.Handle(ctx, s) // the effect happens, the report does not
			p.log.add(FaultHandlerTimeout)
			return worker.Result{}, fmt.Errorf("chaos: injected timeout after the effect: %w", context.DeadlineExceeded)
		}
		p.ledger.record(s)
		return h.Handle(ctx, s)
	}
}

// registry returns the acceptance handlers, each wrapped by the plan.
func (p *faultPlan) registry() *worker.Registry {
	base := worker.NewRegistry()
	samplehandlers.RegisterAcceptance(base)
	reg := worker.NewRegistry()
	for _, name := range base.Names() {
		h, _ := base.Lookup(name)
		reg.RegisterFunc(name, p.wrap(h))
	}
	return reg
}
