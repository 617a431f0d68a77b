package samplehandlers

import (
	"context"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/tasker-go/tasker/pkg/worker"
)

// ErrorTypeInsufficientFunds is the permanent error authorize_payment
// reports when the context sets "insufficient_funds": true.
const ErrorTypeInsufficientFunds = "insufficient_funds"

// fraudThreshold is the risk score from which a payment is blocked.
const fraudThreshold = 80

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	paymentMethods  = []string{"card", "bank_transfer", "wallet"}
)

// payment is the payment a payment_processing task carries in its context.
type payment struct {
	ID       string
	Amount   *big.Rat
	Currency string
	Method   string
}

// readPayment reads and checks the payment in the task context: payment_id
// present, amount > 0, currency three capital letters, payment_method one of
// card, bank_transfer or wallet. Violations are permanent invalid_input
// errors.
func readPayment(s *worker.Step) (*payment, object, error) {
	ctx, err := contextObject(s)
	if err != nil {
		return nil, nil, err
	}
	p := &payment{}
	if p.ID, err = ctx.str("payment_id", true); err != nil {
		return nil, nil, err
	}
	if p.Amount, err = positiveAmount(ctx["amount"]); err != nil {
		return nil, nil, err
	}
	if p.Currency, err = ctx.str("currency", true); err != nil {
		return nil, nil, err
	}
	if !currencyPattern.MatchString(p.Currency) {
		return nil, nil, invalid("currency must be an ISO 4217 code such as USD, got %q", p.Currency)
	}
	if p.Method, err = ctx.str("payment_method", true); err != nil {
		return nil, nil, err
	}
	if !slices.Contains(paymentMethods, p.Method) {
		return nil, nil, invalid("payment_method must be one of %s, got %q", strings.Join(paymentMethods, ", "), p.Method)
	}
	return p, ctx, nil
}

func (h samples) paymentHandlers() []entry {
	return []entry{
		{"payments.validate_payment_request", h.validatePaymentRequest},
		{"payments.check_fraud", h.checkFraud},
		{"payments.authorize_payment", h.authorizePayment},
		{"payments.capture_payment", h.capturePayment},
		{"payments.record_transaction", h.recordTransaction},
		{"payments.send_notification", h.sendNotification},
	}
}

// validatePaymentRequest checks the payment (see readPayment).
func (h samples) validatePaymentRequest(_ context.Context, s *worker.Step) (worker.Result, error) {
	p, _, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"payment_id":     p.ID,
		"amount":         jsonDecimal(p.Amount),
		"currency":       p.Currency,
		"payment_method": p.Method,
		"valid":          true,
		"validated_at":   h.stamp(),
	})
}

// checkFraud scores the payment's risk from 0 to 99: context.risk_score when
// given, 99 when context.fraud is true, else a score that grows with the
// amount. From 80 on the payment is blocked with a permanent fraud_detected
// error.
func (h samples) checkFraud(_ context.Context, s *worker.Step) (worker.Result, error) {
	p, ctx, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	score, err := riskScore(p, ctx)
	if err != nil {
		return worker.Result{}, err
	}
	if score >= fraudThreshold {
		return worker.Result{}, rejected(ErrorTypeFraudDetected, "payment %s: fraud_detected (risk score %d)", p.ID, score).
			WithContext(map[string]any{"risk_score": score, "threshold": fraudThreshold})
	}
	return worker.Success(map[string]any{
		"payment_id": p.ID,
		"risk_score": score,
		"risk_level": riskLevel(score),
		"decision":   "approve",
		"checked_at": h.stamp(),
	})
}

func riskScore(p *payment, ctx object) (int64, error) {
	fraud, err := ctx.flag("fraud")
	if err != nil {
		return 0, err
	}
	if fraud {
		return 99, nil
	}
	if ctx.has("risk_score") {
		score, err := ctx.integer("risk_score", 0)
		if err != nil {
			return 0, err
		}
		if score < 0 || score > 99 {
			return 0, invalid("risk_score must be between 0 and 99, got %d", score)
		}
		return score, nil
	}
	base := int64(5)
	switch {
	case p.Amount.Cmp(big.NewRat(10000, 1)) >= 0:
		base = 45
	case p.Amount.Cmp(big.NewRat(1000, 1)) >= 0:
		base = 20
	}
	return base + stableInt(0, 9, "risk", p.ID), nil
}

func riskLevel(score int64) string {
	switch {
	case score < 30:
		return "low"
	case score < 60:
		return "medium"
	default:
		return "high"
	}
}

// authorizePayment places an authorization hold with the gateway, keyed by
// the step's idempotency key. The context can make it fail:
// "fail_authorization_times": n fails the first n attempts with a retryable
// gateway_timeout, "insufficient_funds": true fails permanently.
func (h samples) authorizePayment(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	p, ctx, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	failTimes, err := ctx.integer("fail_authorization_times", 0)
	if err != nil {
		return worker.Result{}, err
	}
	if err := failFirst(s, failTimes, ErrorTypeGatewayTimeout, "payment gateway timed out"); err != nil {
		return worker.Result{}, err
	}
	broke, err := ctx.flag("insufficient_funds")
	if err != nil {
		return worker.Result{}, err
	}
	if broke {
		return worker.Result{}, rejected(ErrorTypeInsufficientFunds, "payment %s: insufficient funds", p.ID).
			WithContext(map[string]any{"requires_manual_intervention": false})
	}
	return worker.Success(map[string]any{
		"authorization_code":     strings.ToUpper(stableID("AUTH-", key)),
		"gateway_transaction_id": stableID("gw_", key),
		"payment_id":             p.ID,
		"amount":                 jsonDecimal(p.Amount),
		"currency":               p.Currency,
		"idempotency_key":        key,
		"authorized_at":          h.stamp(),
	})
}

// capturePayment settles the authorized amount (the second phase of the
// two-phase charge) and issues a receipt.
func (h samples) capturePayment(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	p, _, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	auth, err := parentField(s, "authorize_payment", "authorization_code")
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"capture_id":         stableID("cap_", key),
		"authorization_code": auth,
		"receipt_number":     strings.ToUpper(stableID("RCPT-", p.ID, auth)),
		"amount":             jsonDecimal(p.Amount),
		"currency":           p.Currency,
		"settled":            true,
		"captured_at":        h.stamp(),
	})
}

// ledgerLine is one side of a double-entry ledger record.
type ledgerLine struct {
	Account string `json:"account"`
	Debit   any    `json:"debit,omitempty"`
	Credit  any    `json:"credit,omitempty"`
}

// recordTransaction writes the captured payment to the ledger as a balanced
// pair of entries.
func (h samples) recordTransaction(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	p, _, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	capture, err := parentField(s, "capture_payment", "capture_id")
	if err != nil {
		return worker.Result{}, err
	}
	amount := jsonDecimal(p.Amount)
	return worker.Success(map[string]any{
		"ledger_entry_id": stableID("led_", key),
		"payment_id":      p.ID,
		"capture_id":      capture,
		"currency":        p.Currency,
		"entries": []ledgerLine{
			{Account: "payments_clearing", Debit: amount},
			{Account: "merchant_revenue", Credit: amount},
		},
		"recorded_at": h.stamp(),
	})
}

// sendNotification tells the merchant (webhook) and the customer (receipt,
// when the context has an email) that the payment completed.
func (h samples) sendNotification(_ context.Context, s *worker.Step) (worker.Result, error) {
	key, err := idempotencyKey(s)
	if err != nil {
		return worker.Result{}, err
	}
	p, ctx, err := readPayment(s)
	if err != nil {
		return worker.Result{}, err
	}
	ledger, err := parentField(s, "record_transaction", "ledger_entry_id")
	if err != nil {
		return worker.Result{}, err
	}
	email, err := ctx.str("email", false)
	if err != nil {
		return worker.Result{}, err
	}
	return worker.Success(map[string]any{
		"payment_id":        p.ID,
		"payment_status":    "completed",
		"ledger_entry_id":   ledger,
		"webhook_delivered": true,
		"receipt_sent":      email != "",
		"notification_id":   stableID("ntf_", key),
		"sent_at":           h.stamp(),
	})
}
