package telemetry

import (
	"context"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// QueueAttributesAPI is the part of the SQS client ObserveQueues uses.
type QueueAttributesAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// ObserveQueues reports tasker.queue.depth for the named queues (name →
// URL): SQS's approximate message counts, by queue and state (visible,
// in_flight, delayed). The counts are read when metrics are collected (a
// scrape), one GetQueueAttributes per queue; a queue that cannot be read
// is skipped. In AWS, SQS's own CloudWatch metrics give the same, so the
// Lambda functions do not call this.
func (t *Telemetry) ObserveQueues(api QueueAttributesAPI, queues map[string]string) error {
	if t == nil {
		return nil
	}
	names := make([]string, 0, len(queues))
	for n := range queues {
		names = append(names, n)
	}
	sort.Strings(names)
	g, err := t.mp.Meter(ScopeName).Int64ObservableGauge(MetricQueueDepth,
		metric.WithDescription("Approximate messages in a queue, by state (visible, in_flight, delayed)."),
		metric.WithUnit("{message}"))
	if err != nil {
		return err
	}
	states := []struct {
		attr  types.QueueAttributeName
		state string
	}{
		{types.QueueAttributeNameApproximateNumberOfMessages, "visible"},
		{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, "in_flight"},
		{types.QueueAttributeNameApproximateNumberOfMessagesDelayed, "delayed"},
	}
	want := make([]types.QueueAttributeName, len(states))
	for i, s := range states {
		want[i] = s.attr
	}
	_, err = t.mp.Meter(ScopeName).RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for _, name := range names {
			out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queues[name]), AttributeNames: want})
			if err != nil {
				continue
			}
			for _, s := range states {
				n, err := strconv.ParseInt(out.Attributes[string(s.attr)], 10, 64)
				if err != nil {
					continue
				}
				o.ObserveInt64(g, n, metric.WithAttributes(attribute.String("queue", name), attribute.String("state", s.state)))
			}
		}
		return nil
	}, g)
	return err
}
