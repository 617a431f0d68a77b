package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/pkg/awsconn"
	"github.com/tasker-go/tasker/pkg/sqstrace"
)

// SQS limits the poller respects.
const (
	maxWaitTime       = 20 * time.Second
	maxReceiveBatch   = 10
	maxDeleteBatch    = 10
	maxVisibility     = 12 * time.Hour
	maxReceiveBackoff = 30 * time.Second
)

// deleteLinger is how long an acknowledged message waits for others to
// share its DeleteMessageBatch. A delete is off the step's path (the result
// has been handed over), so waiting costs nothing but the message's
// in-flight time, and under load it cuts delete requests by the batch size.
const deleteLinger = 2 * time.Millisecond

// PollerConfig configures Poll.
type PollerConfig struct {
	// QueueURL is the step queue to consume (required).
	QueueURL string
	// Concurrency bounds the messages processed at once; default 10.
	Concurrency int
	// WaitTime is the long-poll duration of each receive; default and
	// maximum 20 s.
	WaitTime time.Duration
	// VisibilityTimeout is requested on each receive; 0 keeps the queue's.
	// It should exceed the longest step timeout, or a message is
	// redelivered while its handler runs (harmless: the duplicate's claim
	// fails and it is deleted).
	VisibilityTimeout time.Duration
	// MaxMessages is the most messages asked for per receive; default and
	// maximum 10.
	MaxMessages int
	// ErrorBackoff, when > 0, makes a message whose processing failed (the
	// store or the results queue was unavailable) visible again after this
	// delay instead of after the queue's visibility timeout.
	ErrorBackoff time.Duration
}

func (pc PollerConfig) withDefaults() (PollerConfig, error) {
	var errs []error
	if pc.QueueURL == "" {
		errs = append(errs, errors.New("QueueURL is required"))
	}
	if pc.Concurrency < 0 || pc.MaxMessages < 0 || pc.WaitTime < 0 || pc.VisibilityTimeout < 0 || pc.ErrorBackoff < 0 {
		errs = append(errs, errors.New("Concurrency, MaxMessages, WaitTime, VisibilityTimeout and ErrorBackoff must not be negative"))
	}
	if pc.VisibilityTimeout > maxVisibility || pc.ErrorBackoff > maxVisibility {
		errs = append(errs, fmt.Errorf("VisibilityTimeout and ErrorBackoff must be at most %s", maxVisibility))
	}
	if err := errors.Join(errs...); err != nil {
		return pc, fmt.Errorf("%w: poller: %w", ErrInvalidConfig, err)
	}
	if pc.Concurrency == 0 {
		pc.Concurrency = DefaultConcurrency
	}
	if pc.WaitTime == 0 || pc.WaitTime > maxWaitTime {
		pc.WaitTime = maxWaitTime
	}
	if pc.MaxMessages == 0 || pc.MaxMessages > maxReceiveBatch {
		pc.MaxMessages = maxReceiveBatch
	}
	return pc, nil
}

// Poll consumes the step queue until ctx is cancelled. It long-polls for
// messages only while a processing slot is free, processes them
// concurrently, deletes acknowledged messages in batches and leaves failed
// ones for redelivery.
//
// Shutdown is graceful: when ctx is cancelled Poll stops receiving, lets
// in-flight handlers finish and report (their contexts are not cancelled,
// only bounded by the step timeout), deletes their messages and returns nil.
// A message is never dropped: one received but not deleted reappears after
// its visibility timeout. Poll returns an error wrapping ErrInvalidConfig for
// a bad PollerConfig and an error when the queue does not exist.
func (w *Worker) Poll(ctx context.Context, pc PollerConfig) error {
	pc, err := pc.withDefaults()
	if err != nil {
		return err
	}
	p := &poller{w: w, pc: pc, work: context.WithoutCancel(ctx),
		slots: make(chan struct{}, pc.Concurrency), acks: make(chan string, pc.Concurrency)}
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		p.deleteLoop()
	}()
	w.log.LogAttrs(ctx, slog.LevelInfo, "poller started", slog.String("queue_url", pc.QueueURL),
		slog.Int("concurrency", pc.Concurrency), slog.String("worker_id", w.id))
	err = p.receiveLoop(ctx)
	p.inflight.Wait()
	close(p.acks)
	<-deleted
	w.log.LogAttrs(p.work, slog.LevelInfo, "poller stopped", slog.String("queue_url", pc.QueueURL))
	return err
}

type poller struct {
	w        *Worker
	pc       PollerConfig
	work     context.Context // not cancelled: processing and deleting outlive shutdown
	slots    chan struct{}
	acks     chan string // receipt handles to delete
	inflight sync.WaitGroup
}

// receiveLoop receives and dispatches messages until ctx is cancelled (nil)
// or the queue turns out not to exist (an error).
func (p *poller) receiveLoop(ctx context.Context) error {
	failures := 0
	for {
		n := p.acquire(ctx)
		if n == 0 {
			return nil
		}
		msgs, err := p.receive(ctx, n)
		p.release(n - len(msgs))
		switch {
		case ctx.Err() != nil && err != nil:
			return nil
		case awsconn.IsQueueMissing(err):
			return fmt.Errorf("poll %s: %w", p.pc.QueueURL, err)
		case err != nil:
			failures++
			delay := receiveBackoff(failures)
			p.w.log.LogAttrs(ctx, slog.LevelWarn, "receive failed", slog.String("queue_url", p.pc.QueueURL),
				slog.String("error", err.Error()), slog.Duration("retry_in", delay))
			if !sleep(ctx, delay) {
				return nil
			}
			continue
		}
		failures = 0
		for _, m := range msgs {
			p.inflight.Add(1)
			go p.handle(m)
		}
	}
}

// acquire waits for a free slot and takes up to MaxMessages free slots. It
// returns 0 when ctx is cancelled first.
func (p *poller) acquire(ctx context.Context) int {
	select {
	case <-ctx.Done():
		return 0
	case p.slots <- struct{}{}:
	}
	n := 1
	for n < p.pc.MaxMessages {
		select {
		case p.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

func (p *poller) release(n int) {
	for range n {
		<-p.slots
	}
}

func (p *poller) receive(ctx context.Context, n int) ([]types.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(p.pc.QueueURL),
		MaxNumberOfMessages: int32(n),
		WaitTimeSeconds:     int32(p.pc.WaitTime / time.Second),
		VisibilityTimeout:   int32(p.pc.VisibilityTimeout / time.Second),
	}
	if p.w.observer != nil {
		in.MessageAttributeNames = sqstrace.AttributeNames
	}
	out, err := p.w.sqs.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// handle processes one received message and acknowledges or releases it.
func (p *poller) handle(m types.Message) {
	defer p.inflight.Done()
	defer p.release(1)
	ctx := p.work
	if p.w.observer != nil {
		ctx = sqstrace.Extract(ctx, m.MessageAttributes)
	}
	if err := p.w.Process(ctx, []byte(aws.ToString(m.Body))); err != nil {
		p.retryLater(m)
		return
	}
	p.acks <- aws.ToString(m.ReceiptHandle)
}

// retryLater shortens a failed message's invisibility to ErrorBackoff.
func (p *poller) retryLater(m types.Message) {
	if p.pc.ErrorBackoff <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(p.work, reportTimeout)
	defer cancel()
	_, err := p.w.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(p.pc.QueueURL), ReceiptHandle: m.ReceiptHandle,
		VisibilityTimeout: int32(p.pc.ErrorBackoff / time.Second),
	})
	if err != nil {
		p.w.log.LogAttrs(ctx, slog.LevelWarn, "change visibility failed", slog.String("message_id", aws.ToString(m.MessageId)),
			slog.String("error", err.Error()))
	}
}

// deleteLoop deletes acknowledged messages, batching those that arrive
// within deleteLinger of the first, until acks is closed and drained.
func (p *poller) deleteLoop() {
	linger := time.NewTimer(deleteLinger)
	defer linger.Stop()
	for h := range p.acks {
		batch := []string{h}
		linger.Reset(deleteLinger)
	fill:
		for len(batch) < maxDeleteBatch {
			select {
			case h, ok := <-p.acks:
				if !ok {
					break fill
				}
				batch = append(batch, h)
			case <-linger.C:
				break fill
			}
		}
		p.deleteBatch(batch)
	}
}

// deleteBatch deletes messages by receipt handle. A message that cannot be
// deleted is redelivered later; its claim then fails and it is deleted as a
// duplicate, so a failure is only logged.
func (p *poller) deleteBatch(handles []string) {
	ctx, cancel := context.WithTimeout(p.work, reportTimeout)
	defer cancel()
	entries := make([]types.DeleteMessageBatchRequestEntry, len(handles))
	for i, h := range handles {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
	}
	out, err := p.w.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.pc.QueueURL), Entries: entries})
	if err != nil {
		p.w.log.LogAttrs(ctx, slog.LevelWarn, "delete messages failed", slog.Int("messages", len(handles)), slog.String("error", err.Error()))
		return
	}
	for _, f := range out.Failed {
		p.w.log.LogAttrs(ctx, slog.LevelWarn, "delete message failed", slog.String("code", aws.ToString(f.Code)),
			slog.String("error", aws.ToString(f.Message)))
	}
}

func receiveBackoff(failures int) time.Duration {
	d := 100 * time.Millisecond << min(failures, 10)
	return min(d, maxReceiveBackoff)
}

// sleep waits for d or until ctx is cancelled; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
