package samplehandlers

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/tasker-go/tasker/pkg/worker"
)

// squareEvenNumber is math.square_even_number: it squares context.even_number
// and returns {"result": n²}. A missing, non-integer or odd even_number is a
// permanent invalid_input error.
func squareEvenNumber(_ context.Context, s *worker.Step) (worker.Result, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	n, err := parseBigInt(ctx["even_number"])
	switch {
	case errors.Is(err, errMissing):
		return worker.Result{}, invalid("even_number is required")
	case err != nil:
		return worker.Result{}, invalid("even_number: %v", err)
	case n.Bit(0) == 1:
		return worker.Result{}, invalid("even_number must be even, got %s", n)
	}
	return worker.Success(map[string]any{"result": jsonInt(n.Mul(n, n))})
}

// squareParentsProduct is math.square_parents_product: it multiplies the
// "result" of every parent, squares the product and returns {"result": …}.
// A step without parents, or a parent without an integer result, is a
// permanent invalid_input error.
func squareParentsProduct(_ context.Context, s *worker.Step) (worker.Result, error) {
	names := s.ParentNames()
	if len(names) == 0 {
		return worker.Result{}, invalid("step %s has no parent results to multiply", s.Name)
	}
	product := big.NewInt(1)
	for _, name := range names {
		n, err := parentInt(s, name, "result")
		if err != nil {
			return worker.Result{}, err
		}
		product.Mul(product, n)
	}
	return worker.Success(map[string]any{"result": jsonInt(product.Mul(product, product))})
}

// parentInt reads the integer field key of parent name's result, given as a
// JSON number or a decimal string.
func parentInt(s *worker.Step, name, key string) (*big.Int, error) {
	var res map[string]json.RawMessage
	if err := s.DecodeParent(name, &res); err != nil {
		return nil, invalid("%v", err)
	}
	n, err := parseBigInt(res[key])
	switch {
	case errors.Is(err, errMissing):
		return nil, invalid("parent %s has no %q in its result", name, key)
	case err != nil:
		return nil, invalid("parent %s: %s: %v", name, key, err)
	}
	return n, nil
}
