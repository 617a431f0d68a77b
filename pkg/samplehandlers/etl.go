package samplehandlers

import (
	"context"
	"encoding/json"
	"math/big"
	"slices"
	"time"

	"github.com/tasker-go/tasker/pkg/worker"
)

// ErrorTypeDataQuality is the permanent error generate_summary_report
// reports when too many records were skipped.
const ErrorTypeDataQuality = "data_quality_issue"

const (
	// defaultCustomerCount stands in for counting the customer table when
	// the context gives no customer_count.
	defaultCustomerCount = 1000
	// malformedEvery: one customer record in this many is malformed and
	// skipped (IDs 96, 193, …), to show skipped-record accounting.
	malformedEvery = 97
)

// maxSkipRate is the share of skipped records above which the run is
// rejected as a data quality issue.
var maxSkipRate = big.NewRat(1, 10)

func (h samples) etlHandlers() []entry {
	return []entry{
		{"etl.analyze_customers", h.analyzeCustomers},
		{"etl.transform_partition", h.transformPartition},
		{"etl.load_to_warehouse", h.loadToWarehouse},
		{"etl.generate_summary_report", h.generateSummaryReport},
	}
}

// processingDate reads context.processing_date (YYYY-MM-DD, required).
func processingDate(ctx object) (string, error) {
	date, err := ctx.str("processing_date", true)
	if err != nil {
		return "", err
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return "", invalid("processing_date must be a date (YYYY-MM-DD), got %q", date)
	}
	return date, nil
}

// analyzeCustomers is the batchable step of the customer ETL: it splits
// customer IDs [0, customer_count) into partitions of batch_size (at most
// max_workers, from the handler configuration), one transform_partition
// worker each. customer_count defaults to 1000; with 0 customers it creates
// no batches.
func (h samples) analyzeCustomers(_ context.Context, s *worker.Step) (worker.Result, error) {
	cfg, err := readBatchConfig(s)
	if err != nil {
		return worker.Result{}, err
	}
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	date, err := processingDate(ctx)
	if err != nil {
		return worker.Result{}, err
	}
	count, err := ctx.integer("customer_count", defaultCustomerCount)
	if err != nil {
		return worker.Result{}, err
	}
	if count < 0 {
		return worker.Result{}, invalid("customer_count must not be negative, got %d", count)
	}
	cursors := worker.RangeCursors(count, cfg.BatchSize, cfg.MaxWorkers)
	var res worker.Result
	if len(cursors) == 0 {
		res, err = worker.NoBatches()
	} else {
		res, err = worker.Batches(cfg.WorkerTemplate, count, cursors...)
	}
	if err != nil {
		return worker.Result{}, err
	}
	return withData(res, map[string]any{
		"processing_date": date,
		"customer_count":  count,
		"partition_count": len(cursors),
		"analyzed_at":     h.stamp(),
	})
}

// transformPartition is the batch worker of the customer ETL: it cleans and
// enriches the customers of its cursor range, skipping malformed records
// (one in 97). Batch IDs listed in the context's "flaky_partitions" fail
// their first attempt with a retryable service_unavailable error, to show a
// single partition being retried.
func (h samples) transformPartition(_ context.Context, s *worker.Step) (worker.Result, error) {
	in, err := s.BatchInputs()
	if err != nil {
		return worker.Result{}, invalid("%v", err)
	}
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	var flaky []string
	if err := ctx.decode("flaky_partitions", &flaky); err != nil {
		return worker.Result{}, err
	}
	if slices.Contains(flaky, in.Cursor.BatchID) && !in.IsNoOp {
		if err := failFirst(s, 1, ErrorTypeServiceUnavailable, "enrichment API unavailable"); err != nil {
			return worker.Result{}, err
		}
	}
	start, end, err := cursorRange(in)
	if err != nil {
		return worker.Result{}, err
	}
	skipped := end/malformedEvery - start/malformedEvery
	return worker.Success(map[string]any{
		"batch_id":            in.Cursor.BatchID,
		"no_op":               in.IsNoOp,
		"cursor_field":        in.BatchMetadata.CursorField,
		"range":               []int64{start, end},
		"records_transformed": end - start - skipped,
		"records_skipped":     skipped,
		"transformed_at":      h.stamp(),
	})
}

// loadToWarehouse is the deferred convergence step after the partitions: it
// bulk-loads what every transform_partition worker produced (every parent
// whose result has records_transformed) and reports the totals.
func (h samples) loadToWarehouse(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	date, err := processingDate(ctx)
	if err != nil {
		return worker.Result{}, err
	}
	var loaded, skipped, partitions int64
	for _, name := range s.ParentNames() {
		var res object
		if err := s.DecodeParent(name, &res); err != nil || !res.has("records_transformed") {
			continue // not a partition worker
		}
		n, err := res.integer("records_transformed", 0)
		if err != nil {
			return worker.Result{}, invalid("parent %s: %v", name, err)
		}
		m, err := res.integer("records_skipped", 0)
		if err != nil {
			return worker.Result{}, invalid("parent %s: %v", name, err)
		}
		loaded, skipped, partitions = loaded+n, skipped+m, partitions+1
	}
	return worker.Success(map[string]any{
		"load_id":           stableID("load_", key),
		"table":             "warehouse.customer_profiles",
		"partition":         "dt=" + date,
		"rows_loaded":       loaded,
		"rows_skipped":      skipped,
		"partitions_loaded": partitions,
		"loaded_at":         h.stamp(),
	})
}

// generateSummaryReport summarises the load: rows, partitions and the share
// of skipped records. A skip rate above 10% is a permanent
// data_quality_issue error.
func (h samples) generateSummaryReport(_ context.Context, s *worker.Step) (worker.Result, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	date, err := processingDate(ctx)
	if err != nil {
		return worker.Result{}, err
	}
	load, err := parentObject(s, "load_to_warehouse")
	if err != nil {
		return worker.Result{}, err
	}
	var totals [3]int64
	for i, key := range []string{"rows_loaded", "rows_skipped", "partitions_loaded"} {
		if totals[i], err = load.integer(key, 0); err != nil {
			return worker.Result{}, invalid("parent load_to_warehouse: %v", err)
		}
	}
	loaded, skipped, partitions := totals[0], totals[1], totals[2]
	rate := new(big.Rat)
	if loaded+skipped > 0 {
		rate.SetFrac64(skipped, loaded+skipped)
	}
	errorRate := rate.FloatString(4)
	if rate.Cmp(maxSkipRate) > 0 {
		return worker.Result{}, rejected(ErrorTypeDataQuality, "%s: %s of records skipped", date, errorRate).
			WithContext(map[string]any{"rows_loaded": loaded, "rows_skipped": skipped})
	}
	return worker.Success(map[string]any{
		"report_id":       stableID("etl_", date, s.TaskUUID),
		"processing_date": date,
		"rows_loaded":     loaded,
		"rows_skipped":    skipped,
		"partitions":      partitions,
		"error_rate":      json.Number(errorRate),
		"status":          "ok",
		"generated_at":    h.stamp(),
	})
}
