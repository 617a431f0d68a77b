package samplehandlers

import (
	"context"

	"github.com/tasker-go/tasker/pkg/worker"
)

// notificationHandlers returns the handler of the order confirmation
// template. `tasker demo` runs the TypeScript SDK's version of it
// (sdk/typescript/examples/order_confirmation.ts); this Go one serves the
// namespace where Node is not available, with the same result shape.
func (h samples) notificationHandlers() []entry {
	return []entry{{"notifications.send_order_confirmation", h.sendOrderConfirmation}}
}

// sendOrderConfirmation "emails" the customer that the order has shipped.
// The message id is derived from the idempotency key, so a retry reports
// the message of the first attempt instead of sending another.
func (h samples) sendOrderConfirmation(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	ctx, err := contextObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	cfg, err := configObject(s)
	if err != nil {
		return worker.Result{}, err
	}
	orderID, err := ctx.str("order_id", true)
	if err != nil {
		return worker.Result{}, err
	}
	customer, err := ctx.str("customer_id", true)
	if err != nil {
		return worker.Result{}, err
	}
	tracking, err := ctx.str("tracking_number", true)
	if err != nil {
		return worker.Result{}, err
	}
	recipient, err := ctx.str("email", false)
	if err != nil {
		return worker.Result{}, err
	}
	if recipient == "" {
		recipient = "customer:" + customer
	}
	tpl, err := cfg.str("template", false)
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"sent": true, "recipient": recipient, "order_id": orderID, "tracking_number": tracking,
		"template": tpl, "message_id": stableID("msg_", key), "sent_at": h.stamp(), "worker": "go",
	})
}
