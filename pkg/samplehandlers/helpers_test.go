package samplehandlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/worker"
)

// fixedNow is the clock of every test registry, so sample results are
// deterministic.
var fixedNow = time.Date(2025, 10, 10, 12, 0, 0, 0, time.UTC)

// registry returns a registry holding every handler, with a fixed clock.
func registry(t testing.TB) *worker.Registry {
	t.Helper()
	reg := worker.NewRegistry()
	samplehandlers.RegisterWith(reg, samplehandlers.Options{Now: func() time.Time { return fixedNow }})
	return reg
}

// stepSpec describes a step for call; JSON fields are JSON text.
type stepSpec struct {
	Name     string
	Type     string
	StepUUID string
	Attempt  int
	Context  string
	Config   string
	Inputs   string
	Parents  map[string]string
}

func (sp stepSpec) step(handler string) *worker.Step {
	s := &worker.Step{
		TaskUUID: "task-0001", StepUUID: sp.StepUUID, Name: sp.Name, Type: sp.Type, Handler: handler,
		Attempt: sp.Attempt, MaxAttempts: 3,
		Context: raw(sp.Context), Config: raw(sp.Config), Inputs: raw(sp.Inputs),
		Parents: map[string]json.RawMessage{},
	}
	if s.Name == "" {
		s.Name = "step"
	}
	if s.StepUUID == "" {
		s.StepUUID = "00000000-0000-0000-0000-000000000001"
	}
	if s.Attempt == 0 {
		s.Attempt = 1
	}
	for name, res := range sp.Parents {
		s.Parents[name] = json.RawMessage(res)
	}
	return s
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// call runs the handler registered as handler on the step sp describes and
// returns its result as the worker would report it (checked like the
// worker's own result check), or its error.
func call(t testing.TB, reg *worker.Registry, handler string, sp stepSpec) (json.RawMessage, error) {
	t.Helper()
	return callStep(t, reg, sp.step(handler))
}

func callStep(t testing.TB, reg *worker.Registry, s *worker.Step) (json.RawMessage, error) {
	t.Helper()
	h, ok := reg.Lookup(s.Handler)
	require.Truef(t, ok, "no handler %q", s.Handler)
	res, err := h.Handle(context.Background(), s)
	if err != nil {
		require.Empty(t, res.Data, "a failed attempt returns no result")
		return nil, err
	}
	require.Truef(t, json.Valid(res.Data), "result is not JSON: %s", res.Data)
	_, oerr := protocol.ExtractOutcomes(res.Data)
	require.NoError(t, oerr, "result embeds a malformed outcome")
	return res.Data, nil
}

// mustCall is call for an attempt that must succeed.
func mustCall(t testing.TB, reg *worker.Registry, handler string, sp stepSpec) json.RawMessage {
	t.Helper()
	res, err := call(t, reg, handler, sp)
	require.NoError(t, err)
	return res
}

// requireFailure checks err is a *worker.Error with the given class and type.
func requireFailure(t testing.TB, err error, retryable bool, errType string) *worker.Error {
	t.Helper()
	require.Error(t, err)
	var we *worker.Error
	require.Truef(t, errors.As(err, &we), "error %v (%T) is not a *worker.Error", err, err)
	require.Equal(t, retryable, we.Retryable, "retryable: %v", err)
	require.Equal(t, errType, we.Type, "error type: %v", err)
	return we
}

// requirePermanent checks err is a permanent invalid_input error.
func requirePermanent(t testing.TB, err error) {
	t.Helper()
	requireFailure(t, err, false, samplehandlers.ErrorTypeInvalidInput)
}

// fields decodes a result object, numbers kept exact.
func fields(t testing.TB, res json.RawMessage) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(res))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

// without returns res with the named keys removed, as JSON, for JSONEq
// comparisons that leave out timestamps.
func without(t testing.TB, res json.RawMessage, keys ...string) string {
	t.Helper()
	m := fields(t, res)
	for _, k := range keys {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}
