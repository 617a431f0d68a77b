// Package sqsqueue sends Tasker's messages to Amazon SQS queues by name. It
// resolves queue URLs once (GetQueueUrl) and caches them, batches sends
// (SendMessageBatch, 10 per request) and maps SQS errors to clear ones.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/sqstrace"
)

// API is the subset of the SQS client the sender uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// ErrQueueMissing means the named queue does not exist (for a step queue: no
// queue was provisioned for that namespace).
var ErrQueueMissing = errors.New("queue does not exist")

// MaxDelay is SQS's largest per-message delay.
const MaxDelay = 15 * time.Minute

// Message is one message to send.
type Message struct {
	Body          []byte
	Delay         time.Duration // rounded up to whole seconds, at most MaxDelay
	CorrelationID string        // sent as the correlation_id message attribute
}

// Sender sends messages to queues by name.
type Sender struct {
	api  API
	mu   sync.RWMutex
	urls map[string]string
}

// New returns a sender. Known URLs (e.g. from provisioning) may be passed to
// skip the first GetQueueUrl per queue.
func New(api API, known map[string]string) *Sender {
	urls := make(map[string]string, len(known))
	for k, v := range known {
		urls[k] = v
	}
	return &Sender{api: api, urls: urls}
}

// URL returns the URL of a queue by name; ErrQueueMissing when it does not exist.
func (s *Sender) URL(ctx context.Context, name string) (string, error) {
	s.mu.RLock()
	u, ok := s.urls[name]
	s.mu.RUnlock()
	if ok {
		return u, nil
	}
	out, err := s.api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		if awsconn.IsQueueMissing(err) {
			return "", fmt.Errorf("queue %s: %w", name, ErrQueueMissing)
		}
		return "", fmt.Errorf("get queue url %s: %w", name, err)
	}
	s.mu.Lock()
	s.urls[name] = *out.QueueUrl
	s.mu.Unlock()
	return *out.QueueUrl, nil
}

func delaySeconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	if d > MaxDelay {
		d = MaxDelay
	}
	return int32((d + time.Second - 1) / time.Second)
}

// attrs returns a message's attributes: its correlation ID and the trace
// context of ctx (only when ctx carries a span: see sqstrace).
func attrs(ctx context.Context, correlationID string) map[string]types.MessageAttributeValue {
	var a map[string]types.MessageAttributeValue
	if correlationID != "" {
		a = map[string]types.MessageAttributeValue{
			"correlation_id": {DataType: aws.String("String"), StringValue: aws.String(correlationID)},
		}
	}
	return sqstrace.Inject(ctx, a)
}

// Send sends one message to the named queue.
func (s *Sender) Send(ctx context.Context, queue string, m Message) error {
	url, err := s.URL(ctx, queue)
	if err != nil {
		return err
	}
	_, err = s.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(string(m.Body)),
		DelaySeconds: delaySeconds(m.Delay), MessageAttributes: attrs(ctx, m.CorrelationID),
	})
	if err != nil {
		return fmt.Errorf("send to %s: %w", queue, err)
	}
	return nil
}

// maxBatchBytes bounds the bodies and attributes of one SendMessageBatch:
// SQS rejects a batch whose messages add up to more than 256 KiB.
const maxBatchBytes = 256 * 1024

// batchOverhead is what each entry's attributes may add to its body's size.
const batchOverhead = 256

// batches splits msgs into groups SQS accepts: at most ten messages and
// maxBatchBytes in all.
func batches(msgs []Message) [][]Message {
	var out [][]Message
	var cur []Message
	size := 0
	for _, m := range msgs {
		n := len(m.Body) + len(m.CorrelationID) + batchOverhead
		if len(cur) > 0 && (len(cur) == 10 || size+n > maxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, m)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// SendBatch sends messages to the named queue, up to ten (and 256 KiB) per
// request. It returns an
// error naming how many messages were not sent; messages are independent, so
// a partial failure leaves the others sent.
func (s *Sender) SendBatch(ctx context.Context, queue string, msgs []Message) error {
	if len(msgs) == 1 {
		return s.Send(ctx, queue, msgs[0])
	}
	url, err := s.URL(ctx, queue)
	if err != nil {
		return err
	}
	failed := 0
	var firstErr error
	for _, chunk := range batches(msgs) {
		entries := make([]types.SendMessageBatchRequestEntry, len(chunk))
		for i, m := range chunk {
			entries[i] = types.SendMessageBatchRequestEntry{
				Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body)),
				DelaySeconds: delaySeconds(m.Delay), MessageAttributes: attrs(ctx, m.CorrelationID),
			}
		}
		out, err := s.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			failed += len(chunk)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, f := range out.Failed {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("send batch to %s: %d of %d messages not sent: %w", queue, failed, len(msgs), firstErr)
	}
	return nil
}

// receiver is what Drain needs beyond sending; *sqs.Client has it.
type receiver interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Drain receives up to max messages from the named queue (typically a
// dead-letter queue) and hands each body to fn; a message is deleted only
// after fn succeeded, so nothing is lost. It returns how many were handled.
func (s *Sender) Drain(ctx context.Context, queue string, max int, fn func(body []byte) error) (int, error) {
	rc, ok := s.api.(receiver)
	if !ok {
		return 0, fmt.Errorf("drain %s: the SQS client cannot receive", queue)
	}
	url, err := s.URL(ctx, queue)
	if err != nil {
		return 0, err
	}
	handled := 0
	for handled < max {
		out, err := rc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: int32(min(10, max-handled)), VisibilityTimeout: 60}) // the DLQs' own wait (0): no long poll
		if err != nil {
			return handled, fmt.Errorf("drain %s: %w", queue, err)
		}
		if len(out.Messages) == 0 {
			return handled, nil
		}
		for _, m := range out.Messages {
			if err := fn([]byte(aws.ToString(m.Body))); err != nil {
				return handled, err
			}
			if _, err := rc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return handled, fmt.Errorf("drain %s: delete: %w", queue, err)
			}
			handled++
		}
	}
	return handled, nil
}
