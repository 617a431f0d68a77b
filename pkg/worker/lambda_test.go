package worker_test

import (
	"context"
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/worker"
)

// The records of testdata/sqs-event.json, in order.
const (
	fixtureTask         = "7f3c2a10-5b1e-4c7d-9a2e-1d4b6c8e0f21"
	fixtureValidate     = "2e0c8f4a-1b7d-4e5f-8a9b-0c1d2e3f4a5b" // validate_order
	fixtureCharge       = "5d6e7f80-2c3b-4a1d-9e8f-7a6b5c4d3e2f" // charge_payment, whose first claim fails
	fixtureMalformed    = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d" // not a step message
	fixtureDuplicateVal = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0" // validate_order again
)

func TestHandleSQSEventReportsOnlyRedeliverableRecords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enqueueTask(fixtureTask, "corr-fixture-1",
		stepSpec{name: "validate_order", handler: "orders.validate", uuid: "a1b2c3d4-0000-4000-8000-000000000001", timeoutSecs: 10},
		stepSpec{name: "charge_payment", handler: "payments.charge", uuid: "a1b2c3d4-0000-4000-8000-000000000002", timeoutSecs: 10},
	)
	var validations, charges, malformed atomic.Int32
	h.registry.RegisterFunc("orders.validate", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		validations.Add(1)
		order, err := worker.ContextValue[struct {
			OrderID string `json:"order_id"`
		}](s)
		if err != nil {
			return worker.Result{}, worker.Permanent(err)
		}
		return worker.Success(map[string]any{"order_id": order.OrderID, "valid": true})
	})
	h.registry.RegisterFunc("payments.charge", func(ctx context.Context, s *worker.Step) (worker.Result, error) {
		charges.Add(1)
		return worker.Success(map[string]any{"charged": true, "idempotency_key": s.IdempotencyKey()})
	})
	cfg := h.config()
	cfg.Store = &flakyStore{Store: h.store, failClaims: map[string]int{"charge_payment": 1}}
	cfg.OnMalformed = func(context.Context, []byte, error) { malformed.Add(1) }
	w, err := worker.New(cfg)
	require.NoError(t, err)
	payload, err := os.ReadFile("testdata/sqs-event.json")
	require.NoError(t, err)
	handler := lambda.NewHandler(w.HandleSQSEvent)

	out, err := handler.Invoke(context.Background(), payload)
	require.NoError(t, err)
	require.JSONEq(t, `{"batchItemFailures":[{"itemIdentifier":"`+fixtureCharge+`"}]}`, string(out))
	require.Equal(t, int32(1), validations.Load(), "the duplicate validate_order record does not run the handler")
	require.Equal(t, int32(0), charges.Load())
	require.Equal(t, int32(1), malformed.Load())
	res := h.receiveResult()
	require.Equal(t, "validate_order", res.StepName)
	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.Equal(t, "corr-fixture-1", res.attrCorrelationID)

	// Redelivery: SQS would send only charge_payment again; sending the
	// whole event again also shows the acknowledged records stay done.
	out, err = handler.Invoke(context.Background(), payload)
	require.NoError(t, err)
	require.JSONEq(t, `{"batchItemFailures":[]}`, string(out))
	require.Equal(t, int32(1), validations.Load())
	require.Equal(t, int32(1), charges.Load())
	res = h.receiveResult()
	require.Equal(t, "charge_payment", res.StepName)
	require.Equal(t, protocol.StatusSuccess, res.Status)
	require.JSONEq(t, `{"charged":true,"idempotency_key":"a1b2c3d4-0000-4000-8000-000000000002"}`, string(res.Result))
	require.Nil(t, h.tryReceiveResult(time.Second), "no further results")
}

func TestHandleSQSEventFixtureIsALambdaEvent(t *testing.T) {
	t.Parallel()
	payload, err := os.ReadFile("testdata/sqs-event.json")
	require.NoError(t, err)
	var ev struct {
		Records []struct {
			MessageID   string `json:"messageId"`
			EventSource string `json:"eventSource"`
			Body        string `json:"body"`
		} `json:"Records"`
	}
	require.NoError(t, json.Unmarshal(payload, &ev))
	ids := []string{fixtureValidate, fixtureCharge, fixtureMalformed, fixtureDuplicateVal}
	require.Len(t, ev.Records, len(ids))
	for i, r := range ev.Records {
		require.Equal(t, ids[i], r.MessageID)
		require.Equal(t, "aws:sqs", r.EventSource)
		if r.MessageID == fixtureMalformed {
			continue
		}
		_, err := protocol.Decode[protocol.StepMessage]([]byte(r.Body))
		require.NoError(t, err, "record %s", r.MessageID)
	}
}
