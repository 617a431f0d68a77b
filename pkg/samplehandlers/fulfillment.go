package samplehandlers

import (
	"context"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/tasker-go/tasker/pkg/worker"
)

// Error types of the order fulfillment handlers. All are permanent.
const (
	ErrorTypeFraudDetected = "fraud_detected"
	ErrorTypeOutOfStock    = "out_of_stock"
	ErrorTypeCardDeclined  = "card_declined"
)

// Retryable error types the sample handlers simulate.
const (
	ErrorTypeGatewayTimeout     = "gateway_timeout"
	ErrorTypeServiceUnavailable = "service_unavailable"
)

// reservationTTL is how long a stock reservation holds before it lapses.
const reservationTTL = 15 * time.Minute

// order is the order a fulfillment task carries in its context.
type order struct {
	ID         string
	CustomerID string
	Email      string
	Items      []orderItem
	Amount     *big.Rat
	Currency   string
}

// orderItem is one order line.
type orderItem struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// UnmarshalJSON accepts an item as {"sku": …, "quantity": …} (quantity 1
// when absent) or as a bare SKU string.
func (it *orderItem) UnmarshalJSON(b []byte) error {
	var sku string
	if err := json.Unmarshal(b, &sku); err == nil {
		*it = orderItem{SKU: sku, Quantity: 1}
		return nil
	}
	type plain orderItem
	p := plain{Quantity: 1}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*it = orderItem(p)
	return nil
}

// readOrder reads and checks the order in the task context: order_id and
// customer_id present, at least one item, every item with a SKU and a
// positive quantity, amount > 0. Violations are permanent invalid_input
// errors.
func readOrder(s *worker.Step) (*order, object, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return nil, nil, err
	}
	o := &order{}
	if o.ID, err = ctx.str("order_id", true); err != nil {
		return nil, nil, err
	}
	if o.CustomerID, err = ctx.str("customer_id", true); err != nil {
		return nil, nil, err
	}
	if o.Email, err = ctx.str("email", false); err != nil {
		return nil, nil, err
	}
	if o.Currency, err = ctx.str("currency", false); err != nil {
		return nil, nil, err
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if err := ctx.decode("items", &o.Items); err != nil {
		return nil, nil, err
	}
	if len(o.Items) == 0 {
		return nil, nil, invalid("order %s has no items", o.ID)
	}
	for i, it := range o.Items {
		if it.SKU == "" || it.Quantity <= 0 {
			return nil, nil, invalid("order %s: items[%d] needs a sku and a quantity > 0", o.ID, i)
		}
	}
	if o.Amount, err = positiveAmount(ctx["amount"]); err != nil {
		return nil, nil, err
	}
	return o, ctx, nil
}

func (o *order) quantity() int64 {
	var n int64
	for _, it := range o.Items {
		n += it.Quantity
	}
	return n
}

func (h samples) fulfillmentHandlers() []entry {
	return []entry{
		{"validate_order", h.validateOrder},
		{"check_inventory", h.checkInventory},
		{"reserve_inventory", h.reserveInventory},
		{"process_payment", h.processPayment},
		{"ship_order", h.shipOrder},
		{"send_confirmation", h.sendConfirmation},
	}
}

// validateOrder checks the order (see readOrder) and screens it for fraud:
// a context flag "fraud": true is a permanent fraud_detected error.
func (h samples) validateOrder(cx context.Context, s *worker.Step) (worker.Result, error) {
	o, ctx, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	fraud, err := ctx.flag("fraud")
	if err != nil {
		return worker.Result{}, err
	}
	if fraud {
		return worker.Result{}, rejected(ErrorTypeFraudDetected, "order %s: fraud_detected", o.ID).
			WithContext(map[string]any{"reason": "High fraud risk", "customer_id": o.CustomerID})
	}
	ordersValidated.Add(cx, 1)
	return worker.Success(map[string]any{
		"order_id":       o.ID,
		"customer_id":    o.CustomerID,
		"item_count":     len(o.Items),
		"total_quantity": o.quantity(),
		"total_amount":   jsonDecimal(o.Amount),
		"currency":       o.Currency,
		"valid":          true,
		"validated_at":   h.stamp(),
	})
}

// stockLine is one line of an inventory check.
type stockLine struct {
	SKU       string `json:"sku"`
	Requested int64  `json:"requested"`
	InStock   int64  `json:"in_stock"`
}

// checkInventory looks up stock for every order line. Stock levels are
// derived from the SKU (100 to 500 units); SKUs listed in the context's
// "out_of_stock" have none. A line that cannot be filled is a permanent
// out_of_stock error.
func (h samples) checkInventory(_ context.Context, s *worker.Step) (worker.Result, error) {
	o, ctx, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	var empty []string
	if err := ctx.decode("out_of_stock", &empty); err != nil {
		return worker.Result{}, err
	}
	lines := make([]stockLine, 0, len(o.Items))
	var short []string
	for _, it := range o.Items {
		stock := stableInt(100, 500, "stock", it.SKU)
		if slices.Contains(empty, it.SKU) {
			stock = 0
		}
		if it.Quantity > stock {
			short = append(short, it.SKU)
		}
		lines = append(lines, stockLine{SKU: it.SKU, Requested: it.Quantity, InStock: stock})
	}
	if len(short) > 0 {
		return worker.Result{}, rejected(ErrorTypeOutOfStock, "order %s: not enough stock for %s", o.ID, strings.Join(short, ", ")).
			WithContext(map[string]any{"skus": short, "lines": lines})
	}
	return worker.Success(map[string]any{"order_id": o.ID, "available": true, "lines": lines, "checked_at": h.stamp()})
}

// reserveInventory holds the checked stock. The reservation ID is the step's
// idempotency key, so a retried attempt finds its own reservation instead of
// making a second one.
func (h samples) reserveInventory(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	o, _, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	check, err := parentObject(s, "check_inventory")
	if err != nil {
		return worker.Result{}, err
	}
	available, err := check.flag("available")
	if err != nil {
		return worker.Result{}, err
	}
	if !available {
		return worker.Result{}, invalid("check_inventory did not report the stock available")
	}
	now := h.now().UTC()
	return worker.Success(map[string]any{
		"reservation_id": "rsv_" + key,
		"order_id":       o.ID,
		"reserved_items": o.Items,
		"reserved_at":    now.Format(time.RFC3339),
		"expires_at":     now.Add(reservationTTL).Format(time.RFC3339),
	})
}

// processPayment charges the order amount. The transaction ID is derived
// from the step's idempotency key, as a gateway would deduplicate on it. The
// context can make it fail: "fail_payment_times": n fails the first n
// attempts with a retryable gateway_timeout, "decline_payment": true fails
// permanently with card_declined.
func (h samples) processPayment(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	o, ctx, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	failTimes, err := ctx.integer("fail_payment_times", 0)
	if err != nil {
		return worker.Result{}, err
	}
	if err := failFirst(s, failTimes, ErrorTypeGatewayTimeout, "payment gateway timed out"); err != nil {
		return worker.Result{}, err
	}
	declined, err := ctx.flag("decline_payment")
	if err != nil {
		return worker.Result{}, err
	}
	if declined {
		return worker.Result{}, rejected(ErrorTypeCardDeclined, "order %s: card declined", o.ID)
	}
	return worker.Success(map[string]any{
		"transaction_id":  stableID("txn_", key),
		"order_id":        o.ID,
		"amount":          jsonDecimal(o.Amount),
		"currency":        o.Currency,
		"status":          "captured",
		"idempotency_key": key,
		"processed_at":    h.stamp(),
	})
}

// shipOrder needs both the reservation and the payment: it books a shipment
// and returns a tracking number derived from the order, reservation and
// transaction, so a repeated attempt books the same label.
func (h samples) shipOrder(cx context.Context, s *worker.Step) (worker.Result, error) {
	o, ctx, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	reservation, err := parentField(s, "reserve_inventory", "reservation_id")
	if err != nil {
		return worker.Result{}, err
	}
	txn, err := parentField(s, "process_payment", "transaction_id")
	if err != nil {
		return worker.Result{}, err
	}
	carrier, err := ctx.str("carrier", false)
	if err != nil {
		return worker.Result{}, err
	}
	if carrier == "" {
		carrier = "UPS"
	}
	if reservedAt, err := parentField(s, "reserve_inventory", "reserved_at"); err == nil {
		recordShipped(cx, reservedAt, h.now())
	}
	return worker.Success(map[string]any{
		"tracking_number": strings.ToUpper(stableID("1Z", o.ID, reservation, txn)),
		"carrier":         carrier,
		"order_id":        o.ID,
		"reservation_id":  reservation,
		"transaction_id":  txn,
		"shipped_at":      h.stamp(),
	})
}

// sendConfirmation emails the customer the tracking number (to
// context.email, or to the customer's account when there is none).
func (h samples) sendConfirmation(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	o, _, err := readOrder(s)
	if err != nil {
		return worker.Result{}, err
	}
	tracking, err := parentField(s, "ship_order", "tracking_number")
	if err != nil {
		return worker.Result{}, err
	}
	recipient := o.Email
	if recipient == "" {
		recipient = "customer:" + o.CustomerID
	}
	return worker.Success(map[string]any{
		"sent":            true,
		"recipient":       recipient,
		"order_id":        o.ID,
		"tracking_number": tracking,
		"message_id":      stableID("msg_", key),
		"sent_at":         h.stamp(),
	})
}

// parentField returns the non-empty string field key of parent name's
// result; anything else is a permanent invalid_input error.
func parentField(s *worker.Step, name, key string) (string, error) {
	res, err := parentObject(s, name)
	if err != nil {
		return "", err
	}
	v, err := res.str(key, true)
	if err != nil {
		return "", invalid("parent %s: %v", name, err)
	}
	return v, nil
}
