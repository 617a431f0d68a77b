package samplehandlers

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/tasker-go/tasker/pkg/worker"
)

// Approval routing thresholds: below smallAmount a request is approved
// automatically, below largeAmount a manager approves it, and from
// largeAmount on a manager and finance both review it.
var (
	smallAmount = big.NewRat(1000, 1)
	largeAmount = big.NewRat(5000, 1)
)

// Route types the routing decision reports next to its outcome.
const (
	RouteAuto    = "auto_approval"
	RouteManager = "manager_only"
	RouteDual    = "dual_approval"
)

// validateRequest is approval.validate_request (and approvals.validate_request):
// context.amount must be a number > 0, else a permanent invalid_input error.
// It returns {"amount": amount}, plus requester and purpose when the context
// gives them.
func validateRequest(_ context.Context, s *worker.Step) (worker.Result, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	amount, err := positiveAmount(ctx["amount"])
	if err != nil {
		return worker.Result{}, err
	}
	out := map[string]any{"amount": jsonDecimal(amount)}
	for _, key := range []string{"requester", "purpose"} {
		v, err := ctx.str(key, false)
		if err != nil {
			return worker.Result{}, err
		}
		if v != "" {
			out[key] = v
		}
	}
	return worker.Success(out)
}

// routeByAmount is approval.route_by_amount (and approvals.route_by_amount),
// a decision point: amount < 1000 creates [auto_approve]; < 5000
// [manager_approval]; otherwise [manager_approval, finance_review]. The
// amount is context.amount, or the amount a parent validated when the
// context has none. The result carries route_type and amount next to the
// outcome.
func routeByAmount(_ context.Context, s *worker.Step) (worker.Result, error) {
	raw, err := requestAmount(s)
	if err != nil {
		return worker.Result{}, err
	}
	amount, err := positiveAmount(raw)
	if err != nil {
		return worker.Result{}, err
	}
	route, steps := routeFor(amount)
	return worker.DecisionWith(map[string]any{"route_type": route, "amount": jsonDecimal(amount)}, steps...)
}

// routeFor returns the route type and the approval steps for amount.
func routeFor(amount *big.Rat) (string, []string) {
	switch {
	case amount.Cmp(smallAmount) < 0:
		return RouteAuto, []string{"auto_approve"}
	case amount.Cmp(largeAmount) < 0:
		return RouteManager, []string{"manager_approval"}
	default:
		return RouteDual, []string{"manager_approval", "finance_review"}
	}
}

// requestAmount returns context.amount, or else the first parent result's
// amount (in parent name order); nil when neither has one, which
// positiveAmount reports as missing.
func requestAmount(s *worker.Step) (json.RawMessage, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return nil, err
	}
	if ctx.has("amount") {
		return ctx["amount"], nil
	}
	for _, name := range s.ParentNames() {
		var res object
		if err := s.DecodeParent(name, &res); err == nil && res.has("amount") {
			return res["amount"], nil
		}
	}
	return nil, nil
}

// positiveAmount parses an amount that must be a number > 0.
func positiveAmount(raw json.RawMessage) (*big.Rat, error) {
	amount, err := parseDecimal(raw)
	switch {
	case errors.Is(err, errMissing):
		return nil, invalid("amount is required")
	case err != nil:
		return nil, invalid("amount: %v", err)
	case amount.Sign() <= 0:
		return nil, invalid("amount must be greater than 0, got %s", jsonDecimal(amount))
	}
	return amount, nil
}

// approve is approval.approve (and approvals.approve): it returns
// {"approved": true, "by": <step name>}.
func approve(_ context.Context, s *worker.Step) (worker.Result, error) {
	return worker.Success(map[string]any{"approved": true, "by": s.Name})
}

// finalizeApproval is approval.finalize (and approvals.finalize), a deferred
// convergence step: its approval parents are those whose result has an
// "approved" flag, i.e. the approval steps the decision created. It returns
// {"approved": <every one approved, and there was at least one>,
// "approval_chain": [their names, sorted]}.
func finalizeApproval(_ context.Context, s *worker.Step) (worker.Result, error) {
	chain := []string{}
	approved := true
	for _, name := range s.ParentNames() {
		var res struct {
			Approved *bool `json:"approved"`
		}
		if err := s.DecodeParent(name, &res); err != nil || res.Approved == nil {
			continue // not an approval step
		}
		chain = append(chain, name)
		approved = approved && *res.Approved
	}
	return worker.Success(map[string]any{"approved": approved && len(chain) > 0, "approval_chain": chain})
}
