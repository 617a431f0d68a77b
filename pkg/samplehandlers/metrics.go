package samplehandlers

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/tasker-go/tasker/pkg/worker"
)

// Business metrics of the order fulfillment handlers, recorded through the
// worker SDK's meter (worker.Meter): they reach /metrics in `tasker dev`
// and CloudWatch (EMF) in Lambda beside Tasker's own metrics.
var (
	ordersValidated, _ = worker.Meter().Int64Counter("orders.validated",
		metric.WithDescription("Orders that passed validation."), metric.WithUnit("{order}"))
	orderFulfillmentTime, _ = worker.Meter().Float64Histogram("order.fulfillment_time_ms",
		metric.WithDescription("Time from stock reservation to shipment, in milliseconds."))
)

// recordShipped records an order's fulfillment time from its reservation
// (RFC 3339, as reserve_inventory reports it) to now.
func recordShipped(ctx context.Context, reservedAt string, now time.Time) {
	t, err := time.Parse(time.RFC3339, reservedAt)
	if err != nil {
		return
	}
	orderFulfillmentTime.Record(ctx, float64(max(0, now.Sub(t).Milliseconds())))
}
