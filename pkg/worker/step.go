package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
)

// StepTypeBatchWorker is the step type of batch worker instances.
const StepTypeBatchWorker = "batch_worker"

// Step is what a handler sees of the step it runs: identity, attempt, the
// task context, the handler's configuration and the results of its direct
// parents. JSON values are raw so numbers keep their exact form; the Decode
// helpers and ParentResult/ContextValue turn them into Go values.
type Step struct {
	TaskUUID      string
	StepUUID      string
	Name          string
	Type          string // template step type: "", "decision", "batchable", "batch_worker", …
	Namespace     string
	TaskName      string
	TaskVersion   string
	Handler       string // the callable the handler is registered under
	CorrelationID string
	Attempt       int // 1 for the first attempt
	MaxAttempts   int
	// Context is the task context (a JSON object).
	Context json.RawMessage
	// Config is the handler's initialization map from the template.
	Config json.RawMessage
	// Parents maps each direct parent step's name to its result.
	Parents map[string]json.RawMessage
	// ParentErrors holds the errors of parents that failed but still
	// released this step (batch workers under continue_on_failure).
	ParentErrors map[string]*protocol.StepError
	// BatchParents names the parents that are batch worker instances.
	BatchParents []string
	// Inputs are run-time inputs; batch workers get protocol.BatchWorkerInputs.
	Inputs json.RawMessage
	// LastCheckpoint is the checkpoint a previous attempt (or this one)
	// saved with Checkpoint, as JSON (see CheckpointRecord); nil if none.
	LastCheckpoint json.RawMessage

	saveCheckpoint func(ctx context.Context, checkpoint json.RawMessage) error
	now            func() time.Time
}

// IdempotencyKey returns the key to pass to external systems so a retried
// attempt does not repeat a side effect: the step UUID, stable across
// attempts and redeliveries.
func (s *Step) IdempotencyKey() string { return s.StepUUID }

// DecodeContext decodes the task context into v (a pointer). When v points
// to a map, a slice or an interface value, numbers are decoded as
// json.Number so they keep their exact value; struct fields follow
// encoding/json's rules (use json.Number or a sized integer field where
// precision matters). An empty context decodes like JSON null.
func (s *Step) DecodeContext(v any) error {
	if err := decodeJSON(s.Context, v); err != nil {
		return fmt.Errorf("decode context: %w", err)
	}
	return nil
}

// DecodeConfig decodes the handler's configuration into v (a pointer), with
// DecodeContext's rules for numbers.
func (s *Step) DecodeConfig(v any) error {
	if err := decodeJSON(s.Config, v); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

// DecodeParent decodes the result of the direct parent step name into v (a
// pointer). It returns an error wrapping ErrNoParent when the step has no
// such parent (for example a deferred convergence step whose branch a
// decision did not create).
func (s *Step) DecodeParent(name string, v any) error {
	raw, ok := s.Parents[name]
	if !ok {
		return fmt.Errorf("parent %q: %w", name, ErrNoParent)
	}
	if err := decodeJSON(raw, v); err != nil {
		return fmt.Errorf("decode parent %q: %w", name, err)
	}
	return nil
}

// ParentNames returns the names of the direct parents whose results the step
// received, sorted.
func (s *Step) ParentNames() []string {
	names := make([]string, 0, len(s.Parents))
	for n := range s.Parents {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParentResult decodes the result of the parent step name as a T. It
// returns an error wrapping ErrNoParent when there is no such parent.
func ParentResult[T any](s *Step, name string) (T, error) {
	var v T
	err := s.DecodeParent(name, &v)
	return v, err
}

// ContextValue decodes the task context as a T.
func ContextValue[T any](s *Step) (T, error) {
	var v T
	err := s.DecodeContext(&v)
	return v, err
}

// BatchInputs returns the cursor and metadata of a batch worker instance. It
// returns an error wrapping ErrNotBatchWorker when the step is not one.
func (s *Step) BatchInputs() (*protocol.BatchWorkerInputs, error) {
	if s.Type != "" && s.Type != StepTypeBatchWorker {
		return nil, fmt.Errorf("step %s has type %q: %w", s.Name, s.Type, ErrNotBatchWorker)
	}
	if len(bytes.TrimSpace(s.Inputs)) == 0 || string(s.Inputs) == "null" {
		return nil, fmt.Errorf("step %s has no inputs: %w", s.Name, ErrNotBatchWorker)
	}
	var in protocol.BatchWorkerInputs
	if err := json.Unmarshal(s.Inputs, &in); err != nil {
		return nil, fmt.Errorf("decode batch inputs of %s: %w", s.Name, err)
	}
	return &in, nil
}

// decodeJSON decodes raw into v. Empty input decodes like JSON null (v is
// left as it is). When v points to a map, a slice or an interface value,
// numbers are decoded as json.Number so they keep their exact value; struct
// targets follow encoding/json's rules (use json.Number or a sized integer
// field where precision matters).
func decodeJSON(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if wantsNumbers(v) {
		dec.UseNumber()
	}
	return dec.Decode(v)
}

func wantsNumbers(v any) bool {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return false
	}
	switch t.Elem().Kind() {
	case reflect.Interface, reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}
