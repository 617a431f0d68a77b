package chaos

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
)

// maxHold is how long a held-back message waits for a later message to its
// queue before it is sent anyway.
const maxHold = 300 * time.Millisecond

// delivery delays and reorders sent messages.
//
// A delayed message is sent with DelaySeconds raised by 1–2 s, so SQS hides
// it and messages sent after it are received first. A reordered message is
// not sent when the system sends it: the call succeeds at once and the
// message is held back until the next send to the same queue has gone out
// (or maxHold passes), then sent through the plain client, so it reaches the
// queue after a message the system sent later.
type delivery struct {
	delayRate, reorderRate float64
	rng                    *lockedRand
	log                    *faultLog
	clean                  *sqs.Client
	kindOf                 func(queueURL string) string // "step", "result" or "orchestration"

	mu   sync.Mutex
	held map[string][]*sqs.SendMessageInput // queue URL → held messages
	wg   sync.WaitGroup
}

// middleware returns the Initialize middleware of the system's SQS client.
func (d *delivery) middleware() middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("ChaosDelivery", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		var queue string
		switch p := in.Parameters.(type) {
		case *sqs.SendMessageInput:
			queue = aws.ToString(p.QueueUrl)
			if d.rng.chance(d.reorderRate) {
				d.hold(p)
				return middleware.InitializeOutput{Result: &sqs.SendMessageOutput{MessageId: aws.String("chaos-held")}}, middleware.Metadata{}, nil
			}
			cp := *p
			cp.DelaySeconds = d.delay(queue, p.DelaySeconds)
			in.Parameters = &cp
		case *sqs.SendMessageBatchInput:
			queue = aws.ToString(p.QueueUrl)
			cp := *p
			cp.Entries = make([]types.SendMessageBatchRequestEntry, len(p.Entries))
			for i, e := range p.Entries {
				e.DelaySeconds = d.delay(queue, e.DelaySeconds)
				cp.Entries[i] = e
			}
			in.Parameters = &cp
		default:
			return next.HandleInitialize(ctx, in)
		}
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil {
			d.release(ctx, queue)
		}
		return out, md, err
	})
}

// delay returns the delay of one message, raised for a seeded fraction.
func (d *delivery) delay(queue string, base int32) int32 {
	if !d.rng.chance(d.delayRate) {
		return base
	}
	d.log.add(FaultKind("delay_" + d.kindOf(queue)))
	return min(base+1+int32(d.rng.intN(2)), 900)
}

// hold keeps a copy of the message back and releases it after maxHold if
// nothing else is sent to its queue first.
func (d *delivery) hold(in *sqs.SendMessageInput) {
	cp := *in
	queue := aws.ToString(in.QueueUrl)
	d.log.add(FaultKind("reorder_" + d.kindOf(queue)))
	d.mu.Lock()
	d.held[queue] = append(d.held[queue], &cp)
	d.mu.Unlock()
	d.wg.Go(func() {
		time.Sleep(maxHold)
		d.release(context.Background(), queue)
	})
}

// release sends the messages held for queue.
func (d *delivery) release(ctx context.Context, queue string) {
	d.mu.Lock()
	msgs := d.held[queue]
	delete(d.held, queue)
	d.mu.Unlock()
	for _, m := range msgs {
		// The system was told this message was sent: it must arrive.
		for attempt := 0; ; attempt++ {
			_, err := d.clean.SendMessage(context.WithoutCancel(ctx), m)
			if err == nil || attempt == 20 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// close sends whatever is still held.
func (d *delivery) close() {
	d.wg.Wait()
}

// queueKind tells the message kind of a queue from its name.
func queueKind(url string) string {
	switch {
	case strings.HasSuffix(url, "-orchestration"):
		return "orchestration"
	case strings.HasSuffix(url, "-results"):
		return "result"
	case strings.Contains(url, "-steps-"):
		return "step"
	}
	return "other"
}
