package samplehandlers

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/worker"
)

func TestParseBigInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want "" means an error
	}{
		{`6`, "6"},
		{`"6"`, "6"},
		{`-4`, "-4"},
		{`36.0`, "36"},
		{`1e3`, "1000"},
		{`"63340286662973277706162286946811886609896461828096"`, "63340286662973277706162286946811886609896461828096"},
		{`63340286662973277706162286946811886609896461828096`, "63340286662973277706162286946811886609896461828096"},
		{`2.5`, ""},
		{`"2.5"`, ""},
		{`"six"`, ""},
		{`true`, ""},
		{`[1]`, ""},
		{`{}`, ""},
	}
	for _, tt := range tests {
		n, err := parseBigInt(json.RawMessage(tt.in))
		if tt.want == "" {
			require.Error(t, err, tt.in)
			require.NotErrorIs(t, err, errMissing)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, n.String())
	}
	for _, in := range []string{``, `null`, ` null `} {
		_, err := parseBigInt(json.RawMessage(in))
		require.ErrorIs(t, err, errMissing, "%q", in)
	}
}

func TestJSONInt(t *testing.T) {
	t.Parallel()
	maxInt := new(big.Int).SetInt64(1<<63 - 1)
	over := new(big.Int).Add(maxInt, big.NewInt(1))
	minInt := new(big.Int).SetInt64(-1 << 63)
	under := new(big.Int).Sub(minInt, big.NewInt(1))
	for _, tt := range []struct {
		n    *big.Int
		want string
	}{
		{big.NewInt(2821109907456), `2821109907456`},
		{maxInt, `9223372036854775807`},
		{over, `"9223372036854775808"`},
		{minInt, `-9223372036854775808`},
		{under, `"-9223372036854775809"`},
	} {
		b, err := json.Marshal(jsonInt(tt.n))
		require.NoError(t, err)
		require.Equal(t, tt.want, string(b))
	}
}

func TestJSONDecimal(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"500": "500", "1234.50": "1234.5", "999.99": "999.99", "0.125": "0.125", "1/3": "0.333333333333",
	} {
		r, ok := new(big.Rat).SetString(in)
		require.True(t, ok)
		require.Equal(t, want, string(jsonDecimal(r)), in)
	}
}

func TestInstrumentRecordsPanics(t *testing.T) {
	t.Parallel()
	rec := &Recorder{}
	h := instrument("boom", func(context.Context, *worker.Step) (worker.Result, error) { panic("kaboom") }, Options{Recorder: rec})
	require.PanicsWithValue(t, "kaboom", func() { _, _ = h(context.Background(), &worker.Step{Name: "s", Attempt: 1}) })
	runs := rec.Runs()
	require.Len(t, runs, 1)
	require.Equal(t, "panic: kaboom", runs[0].Err)
}

func TestInstrumentIsANoOpWithoutOptions(t *testing.T) {
	t.Parallel()
	called := false
	fn := worker.HandlerFunc(func(context.Context, *worker.Step) (worker.Result, error) {
		called = true
		return worker.Result{}, errors.New("x")
	})
	_, err := instrument("plain", fn, Options{})(context.Background(), &worker.Step{})
	require.True(t, called)
	require.EqualError(t, err, "x")
}

func TestStableIDsAreDeterministic(t *testing.T) {
	t.Parallel()
	a, b := stableID("txn_", "key-1"), stableID("txn_", "key-1")
	require.Equal(t, a, b)
	require.NotEqual(t, a, stableID("txn_", "key-2"))
	require.True(t, strings.HasPrefix(a, "txn_"))
	require.Len(t, a, len("txn_")+12)
	require.NotEqual(t, stableID("", "a", "bc"), stableID("", "ab", "c"), "parts are separated")
	for range 100 {
		n := stableInt(5, 9, a)
		require.GreaterOrEqual(t, n, int64(5))
		require.LessOrEqual(t, n, int64(9))
	}
}
