package samplehandlers

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/worker"
)

// ErrorTypeWarehouseUnavailable is the retryable error refresh_data
// simulates when the context sets "fail_refresh_times".
const ErrorTypeWarehouseUnavailable = "warehouse_unavailable"

// reportTypes are the report types a daily_reporting task may ask for; all
// of them when it names none.
var reportTypes = []string{"sales", "inventory", "customer_activity"}

func (h samples) reportHandlers() []entry {
	return []entry{
		{"reports.refresh_data", h.refreshData},
		{"reports.generate_sales_report", h.generateSalesReport},
		{"reports.generate_inventory_report", h.generateInventoryReport},
		{"reports.publish_reports", h.publishReports},
	}
}

// reportRequest is what a daily_reporting task asks for.
type reportRequest struct {
	Date  string
	Types []string
}

func (r *reportRequest) wants(kind string) bool { return slices.Contains(r.Types, kind) }

// location is where the report of kind is published.
func (r *reportRequest) location(kind string) string {
	return "reports/" + r.Date + "/" + kind + ".json"
}

// readReportRequest reads report_date (YYYY-MM-DD, required) and
// report_types (each one of sales, inventory, customer_activity; all when
// absent) from the task context.
func readReportRequest(s *worker.Step) (*reportRequest, object, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return nil, nil, err
	}
	r := &reportRequest{}
	if r.Date, err = ctx.str("report_date", true); err != nil {
		return nil, nil, err
	}
	if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
		return nil, nil, invalid("report_date must be a date (YYYY-MM-DD), got %q", r.Date)
	}
	if err := ctx.decode("report_types", &r.Types); err != nil {
		return nil, nil, err
	}
	if !ctx.has("report_types") {
		r.Types = slices.Clone(reportTypes)
	}
	for _, t := range r.Types {
		if !slices.Contains(reportTypes, t) {
			return nil, nil, invalid("report_types: %q is not one of %s", t, strings.Join(reportTypes, ", "))
		}
	}
	return r, ctx, nil
}

// refreshData refreshes the reporting snapshot for the report date. The
// context can make it fail: "fail_refresh_times": n fails the first n
// attempts with a retryable warehouse_unavailable.
func (h samples) refreshData(_ context.Context, s *worker.Step) (worker.Result, error) {
	r, ctx, err := readReportRequest(s)
	if err != nil {
		return worker.Result{}, err
	}
	failTimes, err := ctx.integer("fail_refresh_times", 0)
	if err != nil {
		return worker.Result{}, err
	}
	if err := failFirst(s, failTimes, ErrorTypeWarehouseUnavailable, "warehouse unavailable"); err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"report_date":      r.Date,
		"snapshot_id":      "snap_" + strings.ReplaceAll(r.Date, "-", ""),
		"tables_refreshed": []string{"orders", "order_items", "inventory", "customers"},
		"rows_refreshed":   stableInt(10_000, 50_000, "rows", r.Date),
		"refreshed_at":     h.stamp(),
	})
}

// generateSalesReport builds the day's sales figures from the refreshed
// snapshot, or reports {"skipped": true} when the task did not ask for it.
func (h samples) generateSalesReport(_ context.Context, s *worker.Step) (worker.Result, error) {
	r, _, err := readReportRequest(s)
	if err != nil {
		return worker.Result{}, err
	}
	snapshot, err := parentField(s, "refresh_data", "snapshot_id")
	if err != nil {
		return worker.Result{}, err
	}
	if !r.wants("sales") {
		return worker.Success(map[string]any{"report": "sales", "skipped": true})
	}
	orders := stableInt(800, 1500, "orders", r.Date)
	averageCents := stableInt(2500, 9000, "order_value", r.Date)
	return worker.Success(map[string]any{
		"report":              "sales",
		"skipped":             false,
		"report_date":         r.Date,
		"snapshot_id":         snapshot,
		"orders":              orders,
		"revenue":             jsonDecimal(big.NewRat(orders*averageCents, 100)),
		"average_order_value": jsonDecimal(big.NewRat(averageCents, 100)),
		"currency":            "USD",
		"location":            r.location("sales"),
		"generated_at":        h.stamp(),
	})
}

// generateInventoryReport builds the day's stock figures from the refreshed
// snapshot, or reports {"skipped": true} when the task did not ask for it.
func (h samples) generateInventoryReport(_ context.Context, s *worker.Step) (worker.Result, error) {
	r, _, err := readReportRequest(s)
	if err != nil {
		return worker.Result{}, err
	}
	snapshot, err := parentField(s, "refresh_data", "snapshot_id")
	if err != nil {
		return worker.Result{}, err
	}
	if !r.wants("inventory") {
		return worker.Success(map[string]any{"report": "inventory", "skipped": true})
	}
	return worker.Success(map[string]any{
		"report":         "inventory",
		"skipped":        false,
		"report_date":    r.Date,
		"snapshot_id":    snapshot,
		"skus_tracked":   stableInt(400, 600, "skus", r.Date),
		"low_stock_skus": stableInt(5, 40, "low_stock", r.Date),
		"out_of_stock":   stableInt(0, 5, "out_of_stock", r.Date),
		"location":       r.location("inventory"),
		"generated_at":   h.stamp(),
	})
}

// publishedReport is a report publish_reports found among its parents.
type publishedReport struct {
	Report   string `json:"report"`
	Skipped  bool   `json:"skipped"`
	Location string `json:"location"`
}

// publishReports publishes every report a parent generated (a parent result
// with a "report" name that was not skipped) and lists them sorted by name,
// with their locations in the same order.
func (h samples) publishReports(_ context.Context, s *worker.Step) (worker.Result, error) {
	r, _, err := readReportRequest(s)
	if err != nil {
		return worker.Result{}, err
	}
	var reports []publishedReport
	for _, name := range s.ParentNames() {
		var res publishedReport
		if err := s.DecodeParent(name, &res); err != nil || res.Report == "" || res.Skipped {
			continue
		}
		reports = append(reports, res)
	}
	slices.SortFunc(reports, func(a, b publishedReport) int { return strings.Compare(a.Report, b.Report) })
	published, locations := []string{}, []string{}
	for _, rep := range reports {
		published = append(published, rep.Report)
		locations = append(locations, rep.Location)
	}
	return worker.Success(map[string]any{
		"report_date":     r.Date,
		"published":       published,
		"published_count": len(published),
		"locations":       locations,
		"published_at":    h.stamp(),
	})
}
