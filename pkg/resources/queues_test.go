package resources

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestQueues(t *testing.T) {
	t.Parallel()
	qs := Queues(Names{Prefix: "p"}, []string{"zeta", "alpha", "zeta"})
	type want struct {
		name, purpose     string
		consumer, visible time.Duration
	}
	wants := []want{
		{"p-orchestration", PurposeOrchestration, 30 * time.Second, 180 * time.Second},
		{"p-results", PurposeResults, 30 * time.Second, 180 * time.Second},
		{"p-steps-alpha", PurposeSteps, 60 * time.Second, 360 * time.Second},
		{"p-steps-zeta", PurposeSteps, 60 * time.Second, 360 * time.Second},
	}
	if len(qs) != len(wants) {
		t.Fatalf("got %d queues, want %d", len(qs), len(wants))
	}
	for i, w := range wants {
		q := qs[i]
		if q.Name != w.name || q.Purpose != w.purpose || q.ConsumerTimeout != w.consumer || q.VisibilityTimeout != w.visible {
			t.Errorf("queue %d = %s/%s consumer %v visibility %v, want %+v", i, q.Name, q.Purpose, q.ConsumerTimeout, q.VisibilityTimeout, w)
		}
		if q.Retention != 4*24*time.Hour || q.ReceiveWait != 20*time.Second || q.MaxReceiveCount != 5 {
			t.Errorf("%s: retention %v wait %v max receives %d", q.Name, q.Retention, q.ReceiveWait, q.MaxReceiveCount)
		}
		if q.DLQ == nil || q.DLQ.Name != w.name+"-dlq" || q.DLQ.Retention != 14*24*time.Hour || q.DLQ.DLQ != nil {
			t.Errorf("%s: DLQ %+v", q.Name, q.DLQ)
		}
		if err := q.Validate(); err != nil {
			t.Errorf("%s: %v", q.Name, err)
		}
	}
}

func TestQueueAttributes(t *testing.T) {
	t.Parallel()
	q := Queues(Names{}, nil)[1]
	got := q.Attributes("arn:aws:sqs:us-east-1:000000000000:tasker-results-dlq")
	want := map[string]string{
		"VisibilityTimeout":             "180",
		"MessageRetentionPeriod":        "345600",
		"ReceiveMessageWaitTimeSeconds": "20",
		"RedrivePolicy":                 `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:tasker-results-dlq","maxReceiveCount":5}`,
	}
	if len(got) != len(want) {
		t.Errorf("Attributes = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Attributes[%s] = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := q.DLQ.Attributes("arn:x")["RedrivePolicy"]; ok {
		t.Error("DLQ has a redrive policy")
	}
	if _, ok := q.Attributes("")["RedrivePolicy"]; ok {
		t.Error("redrive policy without a DLQ ARN")
	}
}

func TestQueueSpecValidate(t *testing.T) {
	t.Parallel()
	base := Queues(Names{}, nil)[0]
	tests := []struct {
		name   string
		change func(q *QueueSpec)
		errHas string
	}{
		{"ok", func(*QueueSpec) {}, ""},
		{"bad name", func(q *QueueSpec) { q.Name = "a.b" }, "queue name"},
		{"long name", func(q *QueueSpec) { q.Name = strings.Repeat("q", 81) }, "queue name"},
		{"visibility over 12h", func(q *QueueSpec) { q.VisibilityTimeout = 13 * time.Hour }, "visibility"},
		{"fractional visibility", func(q *QueueSpec) { q.VisibilityTimeout = 1500 * time.Millisecond }, "visibility"},
		{"wait over 20s", func(q *QueueSpec) { q.ReceiveWait = 21 * time.Second }, "receive wait"},
		{"retention under 1m", func(q *QueueSpec) { q.Retention = time.Second }, "retention"},
		{"zero max receives", func(q *QueueSpec) { q.MaxReceiveCount = 0 }, "max receive"},
		{"bad dlq", func(q *QueueSpec) { d := *q.DLQ; d.Retention = 15 * 24 * time.Hour; q.DLQ = &d }, "retention"},
	}
	for _, tt := range tests {
		q := base
		tt.change(&q)
		err := q.Validate()
		if tt.errHas == "" && err != nil || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("%s: Validate() = %v, want error containing %q", tt.name, err, tt.errHas)
		}
	}
}

func TestWithConsumerTimeout(t *testing.T) {
	t.Parallel()
	q := Queues(Names{}, []string{"ml"})[2].WithConsumerTimeout(15 * time.Minute)
	if q.ConsumerTimeout != 15*time.Minute || q.VisibilityTimeout != 90*time.Minute {
		t.Errorf("consumer %v visibility %v", q.ConsumerTimeout, q.VisibilityTimeout)
	}
}

func TestAttributesDiff(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"VisibilityTimeout": "180",
		"RedrivePolicy":     `{"deadLetterTargetArn":"arn:x","maxReceiveCount":5}`,
	}
	tests := []struct {
		name   string
		got    map[string]string
		differ bool
	}{
		{"same, count as string", map[string]string{"VisibilityTimeout": "180", "QueueArn": "arn:q", "RedrivePolicy": `{"maxReceiveCount":"5","deadLetterTargetArn":"arn:x"}`}, false},
		{"other visibility", map[string]string{"VisibilityTimeout": "30", "RedrivePolicy": `{"deadLetterTargetArn":"arn:x","maxReceiveCount":5}`}, true},
		{"other dlq", map[string]string{"VisibilityTimeout": "180", "RedrivePolicy": `{"deadLetterTargetArn":"arn:y","maxReceiveCount":5}`}, true},
		{"no redrive", map[string]string{"VisibilityTimeout": "180"}, true},
	}
	for _, tt := range tests {
		if diff := attributesDiff(tt.got, want); (diff != "") != tt.differ {
			t.Errorf("%s: diff %q, want differ=%v", tt.name, diff, tt.differ)
		}
	}
	if diff := attributesDiff(map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"a","maxReceiveCount":1}`}, map[string]string{}); diff == "" {
		t.Error("an unexpected redrive policy is not reported")
	}
}

func FuzzParseRedrivePolicy(f *testing.F) {
	f.Add(`{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:q-dlq","maxReceiveCount":5}`)
	f.Add(`{"deadLetterTargetArn":"arn","maxReceiveCount":"10"}`)
	f.Add(`{}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseRedrivePolicy(s)
		if err != nil {
			return
		}
		// What parses must survive a round trip through our own encoding.
		again, err := parseRedrivePolicy(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
		if !json.Valid([]byte(p.String())) {
			t.Fatalf("invalid JSON %q", p.String())
		}
	})
}
