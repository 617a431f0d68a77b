package samplehandlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

const orderContext = `{"order_id": "ORD-1001", "customer_id": "CUST-42", "email": "ana@example.com",
	"items": [{"sku": "SKU-MUG", "quantity": 2}, {"sku": "SKU-TEA", "quantity": 1}], "amount": 42.50}`

// withContext returns orderContext with extra top-level fields.
func withContext(base, extra string) string {
	return strings.TrimSuffix(strings.TrimSpace(base), "}") + ", " + extra + "}"
}

func TestOrderFulfillmentTemplate(t *testing.T) {
	t.Parallel()
	stamp := fixedNow.Format(time.RFC3339)

	t.Run("happy path", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", orderContext)
		require.Equal(t, "complete", st.state(), st)
		require.JSONEq(t, `{"order_id": "ORD-1001", "customer_id": "CUST-42", "item_count": 2, "total_quantity": 3,
			"total_amount": 42.5, "currency": "USD", "valid": true, "validated_at": "`+stamp+`"}`,
			string(st.step("validate_order").result))
		reservation := fields(t, st.step("reserve_inventory").result)
		require.Equal(t, "rsv_uuid-reserve_inventory", reservation["reservation_id"], "the reservation is the step's idempotency key")
		require.Equal(t, fixedNow.Add(15*time.Minute).Format(time.RFC3339), reservation["expires_at"])
		payment := fields(t, st.step("process_payment").result)
		require.Regexp(t, `^txn_[0-9a-f]{12}$`, payment["transaction_id"])
		require.Equal(t, "uuid-process_payment", payment["idempotency_key"])
		ship := fields(t, st.step("ship_order").result)
		require.Regexp(t, `^1Z[0-9A-F]{12}$`, ship["tracking_number"])
		require.Equal(t, reservation["reservation_id"], ship["reservation_id"])
		require.Equal(t, payment["transaction_id"], ship["transaction_id"])
		confirm := fields(t, st.step("send_confirmation").result)
		require.Equal(t, ship["tracking_number"], confirm["tracking_number"])
		require.Equal(t, "ana@example.com", confirm["recipient"])
		require.Equal(t, true, confirm["sent"])

		again := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", orderContext)
		for name, s := range st.steps {
			require.JSONEq(t, string(s.result), string(again.step(name).result), "%s is deterministic", name)
		}
	})

	t.Run("payment retried", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", withContext(orderContext, `"fail_payment_times": 2`))
		require.Equal(t, "complete", st.state(), st)
		require.Equal(t, 3, st.step("process_payment").attempts)
	})

	t.Run("payment retries exhausted", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", withContext(orderContext, `"fail_payment_times": 5`))
		pay := st.step("process_payment")
		require.Equal(t, "error", pay.state)
		require.Equal(t, 3, pay.attempts)
		require.Equal(t, samplehandlers.ErrorTypeGatewayTimeout, pay.err.Type)
		require.Equal(t, "complete", st.step("reserve_inventory").state, "the parallel branch is unaffected")
		require.Zero(t, st.step("ship_order").attempts)
		require.Equal(t, "error", st.state())
	})

	t.Run("fraud", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", withContext(orderContext, `"fraud": true`))
		v := st.step("validate_order")
		require.Equal(t, "error", v.state)
		require.Equal(t, 1, v.attempts, "fraud is not retried")
		require.Equal(t, samplehandlers.ErrorTypeFraudDetected, v.err.Type)
		require.Contains(t, v.err.Error(), "fraud_detected")
		for _, name := range []string{"check_inventory", "process_payment", "ship_order"} {
			require.Zero(t, st.step(name).attempts)
		}
	})

	t.Run("out of stock", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "fulfillment/order_fulfillment.yaml", withContext(orderContext, `"out_of_stock": ["SKU-TEA"]`))
		c := st.step("check_inventory")
		require.Equal(t, "error", c.state)
		require.Equal(t, samplehandlers.ErrorTypeOutOfStock, c.err.Type)
		require.Equal(t, 1, c.attempts)
	})
}

func TestValidateOrderRejects(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	tests := []struct{ name, context string }{
		{"no items", `{"order_id": "o", "customer_id": "c", "items": [], "amount": 5}`},
		{"items missing", `{"order_id": "o", "customer_id": "c", "amount": 5}`},
		{"zero amount", `{"order_id": "o", "customer_id": "c", "items": ["SKU-1"], "amount": 0}`},
		{"negative amount", `{"order_id": "o", "customer_id": "c", "items": ["SKU-1"], "amount": -1}`},
		{"amount missing", `{"order_id": "o", "customer_id": "c", "items": ["SKU-1"]}`},
		{"no order_id", `{"customer_id": "c", "items": ["SKU-1"], "amount": 5}`},
		{"no customer_id", `{"order_id": "o", "items": ["SKU-1"], "amount": 5}`},
		{"item without sku", `{"order_id": "o", "customer_id": "c", "items": [{"quantity": 1}], "amount": 5}`},
		{"zero quantity", `{"order_id": "o", "customer_id": "c", "items": [{"sku": "a", "quantity": 0}], "amount": 5}`},
		{"items not a list", `{"order_id": "o", "customer_id": "c", "items": "SKU-1", "amount": 5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "validate_order", stepSpec{Name: "validate_order", Context: tt.context})
			requirePermanent(t, err)
		})
	}
	_, err := call(t, reg, "validate_order", stepSpec{Context: withContext(orderContext, `"fraud": true`)})
	we := requireFailure(t, err, false, samplehandlers.ErrorTypeFraudDetected)
	require.JSONEq(t, `{"reason": "High fraud risk", "customer_id": "CUST-42"}`, string(we.Context))

	res := mustCall(t, reg, "validate_order", stepSpec{Context: `{"order_id": "o", "customer_id": "c", "items": ["SKU-1", "SKU-2"], "amount": "9.99"}`})
	require.Equal(t, json.Number("2"), fields(t, res)["total_quantity"], "bare SKUs count one each")
}

func TestProcessPaymentIsIdempotentAcrossAttempts(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	ctx := withContext(orderContext, `"fail_payment_times": 1`)
	sp := stepSpec{Name: "process_payment", StepUUID: "step-uuid-7", Context: ctx, Parents: map[string]string{"validate_order": `{}`}}
	sp.Attempt = 1
	_, err := call(t, reg, "process_payment", sp)
	requireFailure(t, err, true, samplehandlers.ErrorTypeGatewayTimeout)
	sp.Attempt = 2
	first := fields(t, mustCall(t, reg, "process_payment", sp))
	sp.Attempt = 3
	second := fields(t, mustCall(t, reg, "process_payment", sp))
	require.Equal(t, first["transaction_id"], second["transaction_id"])
	sp.StepUUID = "step-uuid-8"
	require.NotEqual(t, first["transaction_id"], fields(t, mustCall(t, reg, "process_payment", sp))["transaction_id"])

	_, err = call(t, reg, "process_payment", stepSpec{Context: withContext(orderContext, `"decline_payment": true`)})
	requireFailure(t, err, false, samplehandlers.ErrorTypeCardDeclined)
	noKey := stepSpec{Context: orderContext, Parents: map[string]string{"check_inventory": `{"available": true}`}}.step("reserve_inventory")
	mustCall(t, reg, "reserve_inventory", stepSpec{Context: orderContext, Parents: map[string]string{"check_inventory": `{"available": true}`}})
	noKey.StepUUID = ""
	_, err = callStep(t, reg, noKey)
	requirePermanent(t, err)
}

func TestShipOrderNeedsBothParents(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	both := map[string]string{
		"reserve_inventory": `{"reservation_id": "rsv_1"}`,
		"process_payment":   `{"transaction_id": "txn_1"}`,
	}
	res := fields(t, mustCall(t, reg, "ship_order", stepSpec{Context: orderContext, Parents: both}))
	require.Equal(t, "UPS", res["carrier"])
	require.Regexp(t, `^1Z[0-9A-F]{12}$`, res["tracking_number"])
	for missing := range both {
		parents := map[string]string{}
		for k, v := range both {
			if k != missing {
				parents[k] = v
			}
		}
		_, err := call(t, reg, "ship_order", stepSpec{Context: orderContext, Parents: parents})
		requirePermanent(t, err)
	}
	_, err := call(t, reg, "ship_order", stepSpec{Context: orderContext, Parents: map[string]string{
		"reserve_inventory": `{"reservation_id": ""}`, "process_payment": `{"transaction_id": "txn_1"}`,
	}})
	requirePermanent(t, err)
}
