package resources

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// queueState is what ensureQueue learns about a queue.
type queueState struct {
	url, arn string
}

// ensureQueue creates queue q with attrs, or accepts an existing queue whose
// attributes equal attrs. AWS refuses CreateQueue for an existing name with
// other attributes (QueueNameExists); kumo instead returns the existing queue
// unchanged. Both cases are caught by reading the attributes back.
func ensureQueue(ctx context.Context, sq SQSAPI, q QueueSpec, attrs map[string]string) (queueState, error) {
	var url string
	out, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Attributes: attrs})
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case isQueueNameExists(err):
		got, gerr := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.Name)})
		if gerr != nil {
			return queueState{}, wrapf(gerr, "get url of queue %s", q.Name)
		}
		url = aws.ToString(got.QueueUrl)
	default:
		return queueState{}, wrapf(err, "create queue %s", q.Name)
	}
	ga, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		return queueState{}, wrapf(err, "read attributes of queue %s", q.Name)
	}
	if diff := attributesDiff(ga.Attributes, attrs); diff != "" {
		return queueState{}, fmt.Errorf("queue %s %w: %s", q.Name, ErrMismatch, diff)
	}
	arn := ga.Attributes[attrQueueARN]
	if arn == "" {
		return queueState{}, fmt.Errorf("read attributes of queue %s: no QueueArn in the answer", q.Name)
	}
	return queueState{url: url, arn: arn}, nil
}

func isQueueNameExists(err error) bool {
	var exists *sqstypes.QueueNameExists
	if errors.As(err, &exists) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "QueueNameExists", "QueueAlreadyExists":
			return true
		}
	}
	return false
}

// attributesDiff describes how the attributes a queue has differ from those
// it should have; "" when they do not. Attributes not in want are ignored. A
// redrive policy is compared by value, since SQS may reformat it.
func attributesDiff(got, want map[string]string) string {
	var diffs []string
	for name, w := range want {
		g := got[name]
		if name == attrRedrivePolicy {
			if !sameRedrive(g, w) {
				diffs = append(diffs, fmt.Sprintf("%s is %q, want %q", name, g, w))
			}
			continue
		}
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s is %q, want %q", name, g, w))
		}
	}
	if _, ok := want[attrRedrivePolicy]; !ok && got[attrRedrivePolicy] != "" {
		diffs = append(diffs, fmt.Sprintf("%s is %q, want none", attrRedrivePolicy, got[attrRedrivePolicy]))
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func sameRedrive(got, want string) bool {
	g, err := parseRedrivePolicy(got)
	if err != nil {
		return false
	}
	w, err := parseRedrivePolicy(want)
	return err == nil && g == w
}
