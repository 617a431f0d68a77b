package sqsqueue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
)

// recorder wraps the real SQS client behind our own API interface and
// records what the sender asks for. failBatch, when set, fails the n-th
// SendMessageBatch call (1-based) before it reaches SQS.
type recorder struct {
	api sqsqueue.API

	mu        sync.Mutex
	getURL    int
	sends     []*sqs.SendMessageInput
	batches   []*sqs.SendMessageBatchInput
	failBatch int
}

func (r *recorder) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	r.mu.Lock()
	r.sends = append(r.sends, in)
	r.mu.Unlock()
	return r.api.SendMessage(ctx, in, opts...)
}

func (r *recorder) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	r.mu.Lock()
	r.batches = append(r.batches, in)
	n := len(r.batches)
	r.mu.Unlock()
	if n == r.failBatch {
		return nil, errors.New("injected batch failure")
	}
	return r.api.SendMessageBatch(ctx, in, opts...)
}

func (r *recorder) GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	r.mu.Lock()
	r.getURL++
	r.mu.Unlock()
	return r.api.GetQueueUrl(ctx, in, opts...)
}

func (r *recorder) getURLCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getURL
}

// setup returns a fixture, a recorder over its SQS client and the name of
// an empty queue of the fixture.
func setup(t *testing.T) (*localtest.Fixture, *recorder, string) {
	t.Helper()
	f := localtest.New(t)
	return f, &recorder{api: f.Env.SQS}, f.Names.ResultsQueue()
}

type received struct {
	body          string
	correlationID string
	hasAttrs      bool
}

// receiveAll receives (and deletes) messages until want have arrived or a
// receive comes back empty.
func receiveAll(t *testing.T, f *localtest.Fixture, queue string, want int) []received {
	t.Helper()
	url := f.QueueURL(queue)
	var out []received
	for len(out) < want {
		// WaitTimeSeconds 0 is never sent, and the queues long-poll 20 s by default.
		res, err := f.Env.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
		})
		require.NoError(t, err)
		if len(res.Messages) == 0 {
			break
		}
		for _, m := range res.Messages {
			r := received{body: aws.ToString(m.Body), hasAttrs: len(m.MessageAttributes) > 0}
			if a, ok := m.MessageAttributes["correlation_id"]; ok {
				require.Equal(t, "String", aws.ToString(a.DataType))
				r.correlationID = aws.ToString(a.StringValue)
			}
			out = append(out, r)
			_, err := f.Env.SQS.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	return out
}

func TestSendDeliversBodyAndCorrelationID(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	s := sqsqueue.New(rec, nil)
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte(`{"n":1}`), CorrelationID: "corr-1"}))
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte(`{"n":2}`)}))
	got := receiveAll(t, f, q, 2)
	require.ElementsMatch(t, []received{
		{body: `{"n":1}`, correlationID: "corr-1", hasAttrs: true},
		{body: `{"n":2}`},
	}, got)
	require.Equal(t, 1, rec.getURLCalls())
}

func TestSendBatchSendsTenPerRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n           int
		wantBatches []int // entries per SendMessageBatch call
		wantSends   int
	}{
		{25, []int{10, 10, 5}, 0},
		{10, []int{10}, 0},
		{11, []int{10, 1}, 0},
		{2, []int{2}, 0},
		{1, nil, 1}, // a single message goes through SendMessage
		{0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d messages", tt.n), func(t *testing.T) {
			t.Parallel()
			f, rec, q := setup(t)
			s := sqsqueue.New(rec, nil)
			msgs := make([]sqsqueue.Message, tt.n)
			want := make([]received, tt.n)
			for i := range msgs {
				body := fmt.Sprintf(`{"i":%d}`, i)
				msgs[i] = sqsqueue.Message{Body: []byte(body), CorrelationID: fmt.Sprintf("corr-%d", i)}
				want[i] = received{body: body, correlationID: fmt.Sprintf("corr-%d", i), hasAttrs: true}
			}
			require.NoError(t, s.SendBatch(t.Context(), q, msgs))
			var sizes []int
			for _, b := range rec.batches {
				sizes = append(sizes, len(b.Entries))
				ids := map[string]bool{}
				for _, e := range b.Entries {
					ids[aws.ToString(e.Id)] = true
				}
				require.Len(t, ids, len(b.Entries), "entry ids are unique within a request")
			}
			require.Equal(t, tt.wantBatches, sizes)
			require.Len(t, rec.sends, tt.wantSends)
			if tt.n == 0 {
				return
			}
			require.ElementsMatch(t, want, receiveAll(t, f, q, tt.n))
		})
	}
}

func TestSendBatchReportsPartialFailure(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	rec.failBatch = 2
	s := sqsqueue.New(rec, nil)
	msgs := make([]sqsqueue.Message, 25)
	for i := range msgs {
		msgs[i] = sqsqueue.Message{Body: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	err := s.SendBatch(t.Context(), q, msgs)
	require.Error(t, err)
	require.Contains(t, err.Error(), "10 of 25 messages not sent")
	require.Contains(t, err.Error(), "injected batch failure")
	require.Len(t, rec.batches, 3, "the other batches are still sent")
	got := receiveAll(t, f, q, 15)
	require.Len(t, got, 15)
	for _, r := range got {
		var i int
		_, err := fmt.Sscanf(r.body, `{"i":%d}`, &i)
		require.NoError(t, err)
		require.False(t, i >= 10 && i < 20, "message %d of the failed batch arrived", i)
	}
}

// TestSendBatchStaysUnderTheBatchSizeLimit sends ten step messages of the
// largest size the engine sends inline.
func TestSendBatchStaysUnderTheBatchSizeLimit(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	s := sqsqueue.New(rec, nil)
	const batchLimit = 1 << 20 // SendMessageBatch: the sum of the bodies, 1,048,576 bytes
	body := strings.Repeat("x", protocol.MaxInlineBytes)
	msgs := make([]sqsqueue.Message, 10)
	for i := range msgs {
		msgs[i] = sqsqueue.Message{Body: []byte(body), CorrelationID: "corr"}
	}
	require.NoError(t, s.SendBatch(t.Context(), q, msgs))
	sent := 0
	for _, b := range rec.batches {
		total := 0
		for _, e := range b.Entries {
			total += len(aws.ToString(e.MessageBody))
		}
		require.LessOrEqual(t, total, batchLimit, "one SendMessageBatch request carries %d bytes", total)
		sent += len(b.Entries)
	}
	require.Equal(t, 10, sent+len(rec.sends))
	require.Len(t, receiveAll(t, f, q, 10), 10)
}

func TestDelayRounding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		delay time.Duration
		want  int32
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{1200 * time.Millisecond, 2},
		{1999 * time.Millisecond, 2},
		{2 * time.Second, 2},
		{14*time.Minute + 59*time.Second + time.Millisecond, 900},
		{sqsqueue.MaxDelay, 900},
		{sqsqueue.MaxDelay + time.Nanosecond, 900},
		{16 * time.Minute, 900},
		{48 * time.Hour, 900},
	}
	_, rec, q := setup(t)
	s := sqsqueue.New(rec, nil)
	ctx := t.Context()
	for _, tt := range tests {
		require.NoError(t, s.Send(ctx, q, sqsqueue.Message{Body: []byte("single"), Delay: tt.delay}))
		// Two messages so SendBatch really batches.
		require.NoError(t, s.SendBatch(ctx, q, []sqsqueue.Message{{Body: []byte("b1"), Delay: tt.delay}, {Body: []byte("b2"), Delay: tt.delay}}))
	}
	require.Len(t, rec.sends, len(tests))
	require.Len(t, rec.batches, len(tests))
	for i, tt := range tests {
		require.Equal(t, tt.want, rec.sends[i].DelaySeconds, "Send with delay %s", tt.delay)
		for _, e := range rec.batches[i].Entries {
			require.Equal(t, tt.want, e.DelaySeconds, "SendBatch with delay %s", tt.delay)
		}
	}
}

func TestDelayedMessageIsNotVisibleAtOnce(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	s := sqsqueue.New(rec, nil)
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte("late"), Delay: 1200 * time.Millisecond}))
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte("much later"), Delay: time.Hour}))
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte("now")}))
	// A one-second receive ends before the 2 s delay does.
	got := receiveAll(t, f, q, 3)
	require.Equal(t, []received{{body: "now"}}, got)
}

func TestMissingQueue(t *testing.T) {
	t.Parallel()
	f, rec, _ := setup(t)
	s := sqsqueue.New(rec, nil)
	missing := f.Names.StepQueue("nobody")
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"URL", func() error { _, err := s.URL(ctx, missing); return err }},
		{"Send", func() error { return s.Send(ctx, missing, sqsqueue.Message{Body: []byte("x")}) }},
		{"SendBatch", func() error {
			return s.SendBatch(ctx, missing, []sqsqueue.Message{{Body: []byte("x")}, {Body: []byte("y")}})
		}},
	}
	for _, tt := range tests {
		err := tt.call()
		require.ErrorIs(t, err, sqsqueue.ErrQueueMissing, tt.name)
		require.Contains(t, err.Error(), missing, tt.name)
	}
	require.Empty(t, rec.sends)
	require.Empty(t, rec.batches)

	// A missing queue is not remembered: once it exists, it is found.
	out, err := f.Env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(missing),
		Attributes: map[string]string{string(types.QueueAttributeNameReceiveMessageWaitTimeSeconds): "1"}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = f.Env.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl})
	})
	url, err := s.URL(ctx, missing)
	require.NoError(t, err)
	require.Equal(t, aws.ToString(out.QueueUrl), url)
}

func TestQueueURLIsLookedUpOnce(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	s := sqsqueue.New(rec, nil)
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := s.URL(ctx, q); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	before := rec.getURLCalls()
	require.LessOrEqual(t, before, 5, "concurrent first lookups may race, but each at most once")
	for i := range 3 {
		require.NoError(t, s.Send(ctx, q, sqsqueue.Message{Body: fmt.Appendf(nil, "s%d", i)}))
	}
	require.NoError(t, s.SendBatch(ctx, q, []sqsqueue.Message{{Body: []byte("b1")}, {Body: []byte("b2")}}))
	url, err := s.URL(ctx, q)
	require.NoError(t, err)
	require.Equal(t, f.QueueURL(q), url)
	require.Equal(t, before, rec.getURLCalls(), "no lookup after the first")

	// Sequential use from a fresh sender: exactly one lookup.
	rec2 := &recorder{api: f.Env.SQS}
	s2 := sqsqueue.New(rec2, nil)
	for i := range 4 {
		require.NoError(t, s2.Send(ctx, q, sqsqueue.Message{Body: fmt.Appendf(nil, "t%d", i)}))
	}
	require.NoError(t, s2.SendBatch(ctx, q, []sqsqueue.Message{{Body: []byte("c1")}, {Body: []byte("c2")}}))
	require.Equal(t, 1, rec2.getURLCalls())
	require.Len(t, receiveAll(t, f, q, 11), 11)
}

func TestKnownURLsSkipTheLookup(t *testing.T) {
	t.Parallel()
	f, rec, q := setup(t)
	known := map[string]string{q: f.QueueURL(q)}
	s := sqsqueue.New(rec, known)
	known[q] = "https://example.invalid/changed-after-new" // New copies the map
	require.NoError(t, s.Send(t.Context(), q, sqsqueue.Message{Body: []byte("x")}))
	require.Equal(t, 0, rec.getURLCalls())
	require.Equal(t, []received{{body: "x"}}, receiveAll(t, f, q, 1))
}
