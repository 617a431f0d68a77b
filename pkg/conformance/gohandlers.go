package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// Handler names of the conformance contract: the template handler values a
// conformance worker registers.
const (
	HandlerEcho      = "conformance.echo"
	HandlerFlaky     = "conformance.flaky"
	HandlerPermanent = "conformance.permanent"
	HandlerSlow      = "conformance.slow"
	HandlerLarge     = "conformance.large"
	HandlerDecide    = "conformance.decide"
	HandlerBatch     = "conformance.batch"
	HandlerBatchWork = "conformance.batch_work"
	HandlerSum       = "conformance.sum"
)

// Error messages and classes the failing handlers report.
const (
	FlakyMessage     = "flaky: try again"
	FlakyClass       = "FlakyError"
	PermanentMessage = "permanent: bad input"
	PermanentClass   = "PermanentError"
)

// defaultWorkerTemplate is the batch worker template step the batch handler
// names when its configuration has no worker_template_name.
const defaultWorkerTemplate = "batch_work"

// effectLog writes the contract's "EFFECT <step_uuid> <attempt>" lines, one
// whole line per write, so concurrent handlers never interleave.
type effectLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *effectLog) record(s *worker.Step) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = fmt.Fprintf(l.w, "EFFECT %s %d\n", s.StepUUID, s.Attempt)
}

// RegisterGoHandlers registers the conformance contract's handlers on reg.
// Each handler writes "EFFECT <step_uuid> <attempt>" to effects when its body
// runs, before it returns. It panics if reg already holds one of the names.
func RegisterGoHandlers(reg *worker.Registry, effects io.Writer) {
	log := &effectLog{w: effects}
	handlers := map[string]worker.HandlerFunc{
		HandlerEcho:      echo,
		HandlerFlaky:     flaky,
		HandlerPermanent: permanent,
		HandlerSlow:      slow,
		HandlerLarge:     large,
		HandlerDecide:    decide,
		HandlerBatch:     batch,
		HandlerBatchWork: batchWork,
		HandlerSum:       sum,
	}
	for name, h := range handlers {
		reg.RegisterFunc(name, func(ctx context.Context, s *worker.Step) (worker.Result, error) {
			log.record(s)
			return h(ctx, s)
		})
	}
}

// objectOrEmpty returns raw, or {} when raw is absent or null.
func objectOrEmpty(raw json.RawMessage) json.RawMessage {
	if t := strings.TrimSpace(string(raw)); t == "" || t == "null" {
		return json.RawMessage(`{}`)
	}
	return raw
}

func echo(_ context.Context, s *worker.Step) (worker.Result, error) {
	parents := make(map[string]json.RawMessage, len(s.Parents))
	for name, r := range s.Parents {
		parents[name] = r
	}
	return worker.Success(map[string]any{
		"context":         objectOrEmpty(s.Context),
		"parents":         parents,
		"config":          objectOrEmpty(s.Config),
		"attempt":         s.Attempt,
		"idempotency_key": s.IdempotencyKey(),
	})
}

func flaky(_ context.Context, s *worker.Step) (worker.Result, error) {
	if s.Attempt < 2 {
		return worker.Result{}, worker.Retryable(errors.New(FlakyMessage)).WithType(FlakyClass)
	}
	return worker.Success(map[string]any{"attempt": s.Attempt})
}

func permanent(context.Context, *worker.Step) (worker.Result, error) {
	return worker.Result{}, worker.Permanent(errors.New(PermanentMessage)).WithType(PermanentClass)
}

func slow(ctx context.Context, s *worker.Step) (worker.Result, error) {
	var in struct {
		SleepMS int64 `json:"sleep_ms"`
	}
	if err := s.DecodeContext(&in); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	t := time.NewTimer(time.Duration(in.SleepMS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return worker.Result{}, ctx.Err()
	}
	return worker.Success(map[string]any{"slept_ms": in.SleepMS})
}

func large(_ context.Context, s *worker.Step) (worker.Result, error) {
	var in struct {
		Size int `json:"size"`
	}
	if err := s.DecodeContext(&in); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	if in.Size < 0 {
		return worker.Result{}, worker.Permanent(fmt.Errorf("size %d is negative", in.Size))
	}
	return worker.Success(map[string]any{"blob": strings.Repeat("x", in.Size)})
}

func decide(_ context.Context, s *worker.Step) (worker.Result, error) {
	var in struct {
		Branches []string `json:"branches"`
	}
	if err := s.DecodeContext(&in); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	chosen := in.Branches
	if chosen == nil {
		chosen = []string{}
	}
	return worker.DecisionWith(map[string]any{"chosen": chosen}, chosen...)
}

// batch splits [0, total) into batches of batch_size items, the last one
// shorter, with batch ids "000", "001", …
func batch(_ context.Context, s *worker.Step) (worker.Result, error) {
	var in struct {
		Total     int64 `json:"total"`
		BatchSize int64 `json:"batch_size"`
	}
	if err := s.DecodeContext(&in); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	var cfg struct {
		WorkerTemplate string `json:"worker_template_name"`
	}
	if err := s.DecodeConfig(&cfg); err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	if cfg.WorkerTemplate == "" {
		cfg.WorkerTemplate = defaultWorkerTemplate
	}
	if in.Total <= 0 {
		return worker.NoBatches()
	}
	if in.BatchSize <= 0 {
		return worker.Result{}, worker.Permanent(fmt.Errorf("batch_size %d must be positive", in.BatchSize))
	}
	var cursors []protocol.CursorConfig
	for start := int64(0); start < in.Total; start += in.BatchSize {
		end := min(start+in.BatchSize, in.Total)
		cursors = append(cursors, protocol.CursorConfig{
			BatchID:     fmt.Sprintf("%03d", len(cursors)),
			StartCursor: json.RawMessage(strconv.FormatInt(start, 10)),
			EndCursor:   json.RawMessage(strconv.FormatInt(end, 10)),
			BatchSize:   end - start,
		})
	}
	return worker.Batches(cfg.WorkerTemplate, in.Total, cursors...)
}

func batchWork(_ context.Context, s *worker.Step) (worker.Result, error) {
	in, err := s.BatchInputs()
	if err != nil {
		return worker.Result{}, worker.Permanent(err)
	}
	if in.IsNoOp {
		return worker.Success(map[string]any{"processed": 0})
	}
	var start, end int64
	if err := json.Unmarshal(in.Cursor.StartCursor, &start); err != nil {
		return worker.Result{}, worker.Permanent(fmt.Errorf("start_cursor: %w", err))
	}
	if err := json.Unmarshal(in.Cursor.EndCursor, &end); err != nil {
		return worker.Result{}, worker.Permanent(fmt.Errorf("end_cursor: %w", err))
	}
	return worker.Success(map[string]any{"processed": end - start})
}

func sum(_ context.Context, s *worker.Step) (worker.Result, error) {
	var total int64
	for _, name := range s.ParentNames() {
		var r struct {
			Processed *int64 `json:"processed"`
		}
		if err := s.DecodeParent(name, &r); err != nil {
			continue // a parent whose result is not an object has nothing to add
		}
		if r.Processed != nil {
			total += *r.Processed
		}
	}
	return worker.Success(map[string]any{"total": total})
}
