package samplehandlers_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
)

const paymentContext = `{"payment_id": "PAY-7", "amount": 120.00, "currency": "EUR", "payment_method": "card", "email": "bo@example.com"}`

func TestPaymentProcessingTemplate(t *testing.T) {
	t.Parallel()

	t.Run("happy path", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "payments/payment_processing.yaml", paymentContext)
		require.Equal(t, "complete", st.state(), st)
		fraud := fields(t, st.step("check_fraud").result)
		require.Equal(t, "low", fraud["risk_level"])
		auth := fields(t, st.step("authorize_payment").result)
		require.Regexp(t, `^AUTH-[0-9A-F]{12}$`, auth["authorization_code"])
		capture := fields(t, st.step("capture_payment").result)
		require.Equal(t, auth["authorization_code"], capture["authorization_code"])
		require.Equal(t, json.Number("120"), capture["amount"])
		ledger := fields(t, st.step("record_transaction").result)
		require.Equal(t, capture["capture_id"], ledger["capture_id"])
		require.JSONEq(t, `[{"account": "payments_clearing", "debit": 120}, {"account": "merchant_revenue", "credit": 120}]`,
			mustJSON(t, ledger["entries"]))
		note := fields(t, st.step("send_notification").result)
		require.Equal(t, "completed", note["payment_status"])
		require.Equal(t, true, note["receipt_sent"])
		require.Equal(t, ledger["ledger_entry_id"], note["ledger_entry_id"])
	})

	t.Run("gateway retried", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "payments/payment_processing.yaml", withContext(paymentContext, `"fail_authorization_times": 2`))
		require.Equal(t, "complete", st.state(), st)
		require.Equal(t, 3, st.step("authorize_payment").attempts)
	})

	t.Run("fraud blocked", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "payments/payment_processing.yaml", withContext(paymentContext, `"fraud": true`))
		f := st.step("check_fraud")
		require.Equal(t, "error", f.state)
		require.Equal(t, 1, f.attempts)
		require.Equal(t, samplehandlers.ErrorTypeFraudDetected, f.err.Type)
		require.Zero(t, st.step("authorize_payment").attempts)
	})

	t.Run("insufficient funds", func(t *testing.T) {
		t.Parallel()
		st := simulate(t, registry(t), "payments/payment_processing.yaml", withContext(paymentContext, `"insufficient_funds": true`))
		a := st.step("authorize_payment")
		require.Equal(t, "error", a.state)
		require.Equal(t, 1, a.attempts)
		require.Equal(t, samplehandlers.ErrorTypeInsufficientFunds, a.err.Type)
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestValidatePaymentRequestRejects(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	tests := []struct{ name, context string }{
		{"no payment_id", `{"amount": 1, "currency": "USD", "payment_method": "card"}`},
		{"zero amount", `{"payment_id": "p", "amount": 0, "currency": "USD", "payment_method": "card"}`},
		{"lower-case currency", `{"payment_id": "p", "amount": 1, "currency": "usd", "payment_method": "card"}`},
		{"unknown method", `{"payment_id": "p", "amount": 1, "currency": "USD", "payment_method": "cash"}`},
		{"no method", `{"payment_id": "p", "amount": 1, "currency": "USD"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := call(t, reg, "payments.validate_payment_request", stepSpec{Context: tt.context})
			requirePermanent(t, err)
		})
	}
}

func TestCheckFraudScores(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	const base = `{"payment_id": "PAY-1", "currency": "USD", "payment_method": "wallet"}`
	tests := []struct {
		name, extra, level string // level "" means blocked as fraud_detected
	}{
		{"small amount", `"amount": 50`, "low"},
		{"medium amount", `"amount": 2500`, "low"},
		{"large amount", `"amount": 25000`, "medium"},
		{"given score", `"amount": 10, "risk_score": 65`, "high"},
		{"score at threshold", `"amount": 10, "risk_score": 80`, ""},
		{"fraud flag", `"amount": 10, "fraud": true`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := call(t, reg, "payments.check_fraud", stepSpec{Context: withContext(base, tt.extra)})
			if tt.level == "" {
				requireFailure(t, err, false, samplehandlers.ErrorTypeFraudDetected)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.level, fields(t, res)["risk_level"])
		})
	}
	_, err := call(t, reg, "payments.check_fraud", stepSpec{Context: withContext(base, `"amount": 10, "risk_score": 150`)})
	requirePermanent(t, err)
}
