package samplehandlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// errMissing says a required value is absent (or JSON null).
var errMissing = errors.New("missing")

// isAbsent reports whether raw holds no value: empty or JSON null.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// numberText returns the text of a JSON number, or of a JSON string holding
// one, so that big.Int and big.Rat can parse it.
func numberText(raw json.RawMessage) (string, error) {
	if isAbsent(raw) {
		return "", errMissing
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("not a number: %s", raw)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("not a number: %s", raw)
	}
	return n.String(), nil
}

// parseDecimal reads a JSON number, or a JSON string holding a decimal
// number, exactly. It returns errMissing for an absent value.
func parseDecimal(raw json.RawMessage) (*big.Rat, error) {
	s, err := numberText(raw)
	if err != nil {
		return nil, err
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("not a number: %q", s)
	}
	return r, nil
}

// parseBigInt reads an integer given as a JSON number (6, 36.0, 1e3) or as a
// JSON string holding a decimal integer ("63340286662973277706162286946811886609896461828096").
// It returns errMissing for an absent value and an error for a fraction.
func parseBigInt(raw json.RawMessage) (*big.Int, error) {
	r, err := parseDecimal(raw)
	if err != nil {
		return nil, err
	}
	if !r.IsInt() {
		return nil, fmt.Errorf("not an integer: %s", r.RatString())
	}
	return new(big.Int).Set(r.Num()), nil
}

// parseInt64 is parseBigInt for values that must fit in an int64.
func parseInt64(raw json.RawMessage) (int64, error) {
	n, err := parseBigInt(raw)
	if err != nil {
		return 0, err
	}
	if !n.IsInt64() {
		return 0, fmt.Errorf("out of range: %s", n)
	}
	return n.Int64(), nil
}

// jsonInt returns n in the form results use: an int64 (a JSON number) when
// it fits, its decimal string otherwise.
func jsonInt(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n.String()
}

// jsonDecimal returns r as a JSON number with its exact value: an integer
// stays an integer, and a fraction is written with as many decimals as it
// needs (up to 12).
func jsonDecimal(r *big.Rat) json.Number {
	if r.IsInt() {
		return json.Number(r.Num().String())
	}
	if prec, exact := r.FloatPrec(); exact {
		return json.Number(r.FloatString(prec))
	}
	return json.Number(r.FloatString(12))
}
