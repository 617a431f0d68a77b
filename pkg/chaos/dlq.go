package chaos

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/resources"
)

// dlqState is what the harness finds in the dead-letter queues and the DLQ
// entries once the run has settled.
type dlqState struct {
	// Left maps each dead-letter queue to the messages still in it.
	Left map[string]int
	// Entries maps a task to its DLQ entries' IDs; Listed holds the IDs the
	// DLQ listing (what `tasker dlq list` and the API show) returns.
	Entries map[string][]string
	Listed  map[string]bool
}

// checkDLQ checks that no message was left in a dead-letter queue (the
// sweeper turns each into a DLQ entry and deletes it only once the entry
// exists) and that every DLQ entry of a task is visible in the listing.
func checkDLQ(s dlqState) []Violation {
	var out []Violation
	for q, n := range s.Left {
		if n > 0 {
			out = append(out, Violation{"dlq_entry", "-", q, fmt.Sprintf("%d messages left in the dead-letter queue without a DLQ entry", n)})
		}
	}
	for task, ids := range s.Entries {
		for _, id := range ids {
			if !s.Listed[id] {
				out = append(out, Violation{"dlq_entry", task, "task", fmt.Sprintf("DLQ entry %s is not in the DLQ listing", id)})
			}
		}
	}
	return out
}

// readDLQ waits (up to limit) for the sweeper to drain every dead-letter
// queue of the stack, then reads what is left and the DLQ entries of jobs.
func readDLQ(ctx context.Context, sq *sqs.Client, store *dynamo.Store, urls map[string]string, jobs []*job, limit time.Duration) (dlqState, error) {
	st := dlqState{Left: map[string]int{}, Entries: map[string][]string{}, Listed: map[string]bool{}}
	deadline := time.Now().Add(limit)
	for {
		total := 0
		for name, url := range urls {
			if !isDLQ(name) {
				continue
			}
			n, err := queueDepth(ctx, sq, url)
			if err != nil {
				return st, err
			}
			st.Left[name] = n
			total += n
		}
		if total == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	for cursor := ""; ; {
		page, err := store.ListDLQ(ctx, dynamo.DLQPending, 100, cursor)
		if err != nil {
			return st, fmt.Errorf("list DLQ: %w", err)
		}
		for _, e := range page.Entries {
			st.Listed[e.UUID] = true
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	for _, j := range jobs {
		es, err := store.DLQEntriesForTask(ctx, j.UUID)
		if err != nil {
			return st, fmt.Errorf("DLQ entries of %s: %w", j.UUID, err)
		}
		for _, e := range es {
			if e.ResolutionStatus == dynamo.DLQPending {
				st.Entries[j.UUID] = append(st.Entries[j.UUID], e.UUID)
			}
		}
	}
	return st, nil
}

// isDLQ reports whether a queue of the stack is a dead-letter queue.
func isDLQ(queue string) bool { return strings.HasSuffix(queue, resources.DLQName("")) }

// queueDepth counts a queue's messages, visible, in flight and delayed.
func queueDepth(ctx context.Context, sq *sqs.Client, url string) (int, error) {
	out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, fmt.Errorf("queue attributes of %s: %w", url, err)
	}
	n := 0
	for _, v := range out.Attributes {
		c, _ := strconv.Atoi(v)
		n += c
	}
	return n, nil
}

// messageCounts sums the visible (and delayed) and the in-flight messages
// of the queues.
func messageCounts(ctx context.Context, sq *sqs.Client, urls map[string]string) (visible, inFlight int, err error) {
	for _, url := range urls {
		out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
		if err != nil {
			return 0, 0, fmt.Errorf("queue attributes of %s: %w", url, err)
		}
		n := func(a types.QueueAttributeName) int { c, _ := strconv.Atoi(out.Attributes[string(a)]); return c }
		visible += n(types.QueueAttributeNameApproximateNumberOfMessages) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
		inFlight += n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	}
	return visible, inFlight, nil
}

// shortenVisibility sets every queue's visibility timeout to d, so a message
// whose invocation crashed is redelivered within seconds rather than after
// the production timeouts (3 and 6 minutes).
func shortenVisibility(ctx context.Context, sq *sqs.Client, urls map[string]string, d time.Duration) error {
	for name, url := range urls {
		_, err := sq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
			Attributes: map[string]string{string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(d / time.Second))}})
		if err != nil {
			return fmt.Errorf("set visibility of %s: %w", name, err)
		}
	}
	return nil
}
