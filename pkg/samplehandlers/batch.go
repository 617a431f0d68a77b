package samplehandlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// batchConfig is a batchable step's handler initialization.
type batchConfig struct {
	BatchSize      int64
	MaxWorkers     int
	WorkerTemplate string
}

// readBatchConfig reads batch_size (required, > 0), max_workers (optional;
// 0 or absent means no limit) and worker_template_name (required) from the
// handler configuration.
func readBatchConfig(s *worker.Step) (batchConfig, error) {
	cfg, err := configObject(s)
	if err != nil {
		return batchConfig{}, err
	}
	size, err := cfg.requiredInteger("batch_size")
	if err != nil {
		return batchConfig{}, err
	}
	if size <= 0 {
		return batchConfig{}, invalid("batch_size must be greater than 0, got %d", size)
	}
	maxWorkers, err := cfg.integer("max_workers", 0)
	if err != nil {
		return batchConfig{}, err
	}
	if maxWorkers < 0 || maxWorkers > 1<<20 {
		return batchConfig{}, invalid("max_workers must be between 0 and %d, got %d", 1<<20, maxWorkers)
	}
	tpl, err := cfg.str("worker_template_name", true)
	if err != nil {
		return batchConfig{}, err
	}
	return batchConfig{BatchSize: size, MaxWorkers: int(maxWorkers), WorkerTemplate: tpl}, nil
}

// analyzeDataset is batch.analyze_dataset, a batchable step. With
// context.dataset_size below the configured batch_size it creates no batches
// (the engine then runs one no-op placeholder worker); otherwise
// min(ceil(size/batch_size), max_workers) workers, worker i covering
// [i·per, min((i+1)·per, size)) with per = ceil(size/workers) and batch ID
// i zero-padded to three digits. The result also carries dataset_size.
func analyzeDataset(_ context.Context, s *worker.Step) (worker.Result, error) {
	cfg, err := readBatchConfig(s)
	if err != nil {
		return worker.Result{}, err
	}
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	size, err := ctx.requiredInteger("dataset_size")
	if err != nil {
		return worker.Result{}, err
	}
	if size < 0 {
		return worker.Result{}, invalid("dataset_size must not be negative, got %d", size)
	}
	var res worker.Result
	if size < cfg.BatchSize {
		res, err = worker.NoBatches()
	} else {
		res, err = worker.Batches(cfg.WorkerTemplate, size, worker.RangeCursors(size, cfg.BatchSize, cfg.MaxWorkers)...)
	}
	if err != nil {
		return worker.Result{}, err
	}
	return withData(res, map[string]any{"dataset_size": size})
}

// processBatch is batch.process_batch, a batch worker: it returns
// {"processed_count": end - start} for its cursor, 0 for the no-op
// placeholder. A step without batch inputs, or with cursors that are not
// integers, is a permanent invalid_input error.
func processBatch(_ context.Context, s *worker.Step) (worker.Result, error) {
	in, err := s.BatchInputs()
	if err != nil {
		return worker.Result{}, invalid("%v", err)
	}
	n, err := cursorSpan(in)
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{"processed_count": n})
}

// cursorRange returns a batch's integer range [start, end); the no-op
// placeholder's is empty.
func cursorRange(in *protocol.BatchWorkerInputs) (start, end int64, err error) {
	if in.IsNoOp {
		return 0, 0, nil
	}
	if start, err = parseInt64(in.Cursor.StartCursor); err != nil {
		return 0, 0, invalid("batch %s: start_cursor: %v", in.Cursor.BatchID, err)
	}
	if end, err = parseInt64(in.Cursor.EndCursor); err != nil {
		return 0, 0, invalid("batch %s: end_cursor: %v", in.Cursor.BatchID, err)
	}
	if end < start {
		return 0, 0, invalid("batch %s: end_cursor %d is before start_cursor %d", in.Cursor.BatchID, end, start)
	}
	return start, end, nil
}

// cursorSpan returns the number of items in a batch's range.
func cursorSpan(in *protocol.BatchWorkerInputs) (int64, error) {
	start, end, err := cursorRange(in)
	return end - start, err
}

// aggregateBatches is batch.aggregate, the deferred convergence step after
// the batch workers: it sums processed_count over every parent whose result
// has one (the batch workers, including a no-op placeholder) and returns
// {"total_processed": sum, "worker_count": number of such parents}.
func aggregateBatches(_ context.Context, s *worker.Step) (worker.Result, error) {
	var total, workers int64
	for _, name := range s.ParentNames() {
		var res object
		if err := s.DecodeParent(name, &res); err != nil || !res.has("processed_count") {
			continue // not a batch worker
		}
		n, err := res.integer("processed_count", 0)
		if err != nil {
			return worker.Result{}, invalid("parent %s: %v", name, err)
		}
		total += n
		workers++
	}
	return worker.Success(map[string]any{"total_processed": total, "worker_count": workers})
}

// withData adds fields to a result object built by the worker package (a
// batch outcome, which worker.Batches cannot carry data next to). Keys the
// result already has win.
func withData(res worker.Result, data map[string]any) (worker.Result, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(res.Data, &m); err != nil {
		return worker.Result{}, fmt.Errorf("add result data: %w", err)
	}
	out := make(map[string]any, len(m)+len(data))
	for k, v := range data {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return worker.Success(out)
}
