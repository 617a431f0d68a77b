package samplehandlers_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSquareEvenNumber(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct {
		name, context, want string // want "" means a permanent invalid_input error
	}{
		{"six", `{"even_number": 6}`, `{"result": 36}`},
		{"decimal string", `{"even_number": "6"}`, `{"result": 36}`},
		{"integral float", `{"even_number": 6.0}`, `{"result": 36}`},
		{"negative", `{"even_number": -4}`, `{"result": 16}`},
		{"zero", `{"even_number": 0}`, `{"result": 0}`},
		{"big input", `{"even_number": "10000000000000000000"}`, `{"result": "100000000000000000000000000000000000000"}`},
		{"odd", `{"even_number": 7}`, ""},
		{"missing", `{}`, ""},
		{"null", `{"even_number": null}`, ""},
		{"no context", ``, ""},
		{"fraction", `{"even_number": 2.5}`, ""},
		{"not a number", `{"even_number": "six"}`, ""},
		{"boolean", `{"even_number": true}`, ""},
		{"context not an object", `[6]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := call(t, reg, "math.square_even_number", stepSpec{Name: "linear_step_1", Context: tt.context})
			if tt.want == "" {
				requirePermanent(t, err)
				return
			}
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(res))
		})
	}
}

func TestSquareParentsProduct(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	tests := []struct {
		name    string
		parents map[string]string
		want    string // "" means a permanent invalid_input error
	}{
		{"one parent", map[string]string{"a": `{"result": 36}`}, `{"result": 1296}`},
		{"linear step 4", map[string]string{"linear_step_3": `{"result": 1679616}`}, `{"result": 2821109907456}`},
		{"two parents", map[string]string{"b": `{"result": 1296}`, "c": `{"result": 1296}`}, `{"result": 2821109907456}`},
		{"string parent", map[string]string{"a": `{"result": "1296"}`, "b": `{"result": 1296}`}, `{"result": 2821109907456}`},
		{
			"tree convergence",
			map[string]string{
				"tree_leaf_d": `{"result": 1679616}`, "tree_leaf_e": `{"result": "1679616"}`,
				"tree_leaf_f": `{"result": 1679616}`, "tree_leaf_g": `{"result": 1679616}`,
			},
			`{"result": "63340286662973277706162286946811886609896461828096"}`,
		},
		{"big string in, big string out", map[string]string{"a": `{"result": "7958661109946400884391936"}`},
			`{"result": "63340286662973277706162286946811886609896461828096"}`},
		{"largest int64 square stays a number", map[string]string{"a": `{"result": 3037000499}`}, `{"result": 9223372030926249001}`},
		{"first square past int64 is a string", map[string]string{"a": `{"result": 3037000500}`}, `{"result": "9223372037000250000"}`},
		{"negative", map[string]string{"a": `{"result": -3}`}, `{"result": 9}`},
		{"extra fields ignored", map[string]string{"a": `{"result": 2, "note": "x"}`}, `{"result": 4}`},
		{"no parents", map[string]string{}, ""},
		{"parent without result", map[string]string{"a": `{"value": 2}`}, ""},
		{"fractional result", map[string]string{"a": `{"result": 1.5}`}, ""},
		{"result not a number", map[string]string{"a": `{"result": "many"}`}, ""},
		{"parent result not an object", map[string]string{"a": `36`}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := call(t, reg, "math.square_parents_product", stepSpec{Name: "next", Parents: tt.parents})
			if tt.want == "" {
				requirePermanent(t, err)
				return
			}
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(res))
		})
	}
}

// TestMathChains runs the linear chain and the tree by hand from 6, feeding
// each result to the next step in the form the previous one returned.
func TestMathChains(t *testing.T) {
	t.Parallel()
	reg := acceptanceRegistry()
	res := mustCall(t, reg, "math.square_even_number", stepSpec{Context: `{"even_number": 6}`})
	for range 3 {
		res = mustCall(t, reg, "math.square_parents_product", stepSpec{Parents: map[string]string{"prev": string(res)}})
	}
	require.JSONEq(t, `{"result": 2821109907456}`, string(res), "linear_step_4 is 6^16, a JSON number")

	level := mustCall(t, reg, "math.square_even_number", stepSpec{Context: `{"even_number": 6}`}) // root: 6^2
	level = mustCall(t, reg, "math.square_parents_product", stepSpec{Parents: map[string]string{"root": string(level)}})
	leaf := mustCall(t, reg, "math.square_parents_product", stepSpec{Parents: map[string]string{"branch": string(level)}})
	final := mustCall(t, reg, "math.square_parents_product", stepSpec{Parents: map[string]string{
		"d": string(leaf), "e": string(leaf), "f": string(leaf), "g": string(leaf),
	}})
	require.JSONEq(t, `{"result": "63340286662973277706162286946811886609896461828096"}`, string(final), "tree is 6^64, a decimal string")
}
