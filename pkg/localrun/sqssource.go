// Package localrun runs Lambda handlers on one machine the way AWS runs them:
// an SQS event source that long-polls a queue, hands batches to the handler
// as Lambda's JSON event (through lambda.NewHandler, so the same decoding
// runs), deletes what succeeded and leaves reported failures to reappear
// after the visibility timeout; and a schedule that invokes a handler on a
// fixed interval like an EventBridge rule.
package localrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the subset of the SQS client an event source uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Invoker invokes a Lambda handler with a JSON payload, like
// lambda.NewHandler(h).Invoke.
type Invoker func(ctx context.Context, payload []byte) ([]byte, error)

// SQSSource feeds a queue to a handler like Lambda's SQS event source mapping.
type SQSSource struct {
	SQS      SQSAPI
	QueueURL string
	QueueARN string // reported as eventSourceARN
	Invoke   Invoker
	// BatchSize is the most records per invocation (1–10, default 10).
	BatchSize int
	// Pollers is the number of concurrent receive loops (Lambda scales
	// pollers with the backlog; default 2).
	Pollers int
	// WaitTime is the long-poll wait (default 20 s).
	WaitTime time.Duration
	Logger   *slog.Logger
}

// Run polls until ctx is cancelled, then waits for in-flight invocations to
// finish (their messages are deleted or left as the handler reported) and
// returns nil.
func (s *SQSSource) Run(ctx context.Context) error {
	if s.Invoke == nil || s.SQS == nil || s.QueueURL == "" {
		return errors.New("localrun: SQSSource needs SQS, QueueURL and Invoke")
	}
	pollers := s.Pollers
	if pollers <= 0 {
		pollers = 2
	}
	var wg sync.WaitGroup
	for range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.poll(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (s *SQSSource) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *SQSSource) poll(ctx context.Context) {
	batch := int32(s.BatchSize)
	if batch <= 0 || batch > 10 {
		batch = 10
	}
	wait := s.WaitTime
	if wait <= 0 || wait > 20*time.Second {
		wait = 20 * time.Second
	}
	for ctx.Err() == nil {
		out, err := s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: batch,
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.logger().Warn("receive failed; retrying", "queue", s.QueueURL, "error", err)
			sleep(ctx, time.Second)
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		// The invocation runs to completion even when shutdown starts, as a
		// Lambda invocation would: its results are recorded, nothing is lost.
		s.invoke(context.WithoutCancel(ctx), out.Messages)
	}
}

// invoke runs one invocation. Like Lambda, it gives the handler a context
// carrying a lambdacontext.LambdaContext with a fresh AwsRequestID; the
// batch's delete runs under the same context, so a fault injector can tell
// every AWS call of one invocation (pkg/chaos kills invocations this way).
func (s *SQSSource) invoke(ctx context.Context, msgs []types.Message) {
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID()})
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		ev.Records[i] = toRecord(m, s.QueueARN)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		s.logger().Error("encode SQS event", "error", err)
		return
	}
	out, err := s.Invoke(ctx, payload)
	if err != nil {
		// A failed invocation fails the whole batch: every message reappears
		// after its visibility timeout.
		s.logger().Warn("handler invocation failed; the batch will be redelivered", "queue", s.QueueURL, "error", err)
		return
	}
	var resp events.SQSEventResponse
	if len(out) > 0 && string(out) != "null" {
		if err := json.Unmarshal(out, &resp); err != nil {
			s.logger().Warn("unreadable handler response; the batch will be redelivered", "error", err)
			return
		}
	}
	failed := make(map[string]bool, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var entries []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(entries) == 0 {
		return
	}
	res, err := s.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: entries})
	if err != nil {
		s.logger().Warn("delete failed; messages will be redelivered", "queue", s.QueueURL, "error", err)
		return
	}
	for _, f := range res.Failed {
		s.logger().Warn("delete failed for a message", "queue", s.QueueURL, "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
	}
}

// requestID returns a random request ID for one invocation.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func toRecord(m types.Message, arn string) events.SQSMessage {
	rec := events.SQSMessage{
		MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody),
		Attributes: map[string]string{}, EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1",
	}
	for k, v := range m.Attributes {
		rec.Attributes[k] = v
	}
	if len(m.MessageAttributes) > 0 {
		rec.MessageAttributes = make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
		}
	}
	return rec
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Every invokes fn every interval until ctx is cancelled, like an
// EventBridge schedule; an invocation in progress finishes first.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, fn func(ctx context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(context.WithoutCancel(ctx)); err != nil && log != nil {
				log.Warn("scheduled invocation failed", "error", fmt.Sprint(err))
			}
		}
	}
}
