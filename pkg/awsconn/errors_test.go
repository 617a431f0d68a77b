package awsconn_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/awsconn"
)

func TestIsQueueMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"typed (AWS)", &types.QueueDoesNotExist{}, true},
		{"typed, wrapped", fmt.Errorf("send: %w", &types.QueueDoesNotExist{}), true},
		{"legacy code (kumo)", &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue"}, true},
		{"json code", &smithy.GenericAPIError{Code: "QueueDoesNotExist"}, true},
		{"other API error", &smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{"plain error", errors.New("queue does not exist"), false},
	}
	for _, tt := range tests {
		if got := awsconn.IsQueueMissing(tt.err); got != tt.want {
			t.Errorf("%s: IsQueueMissing = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The emulator's answer for a missing queue is recognised on the wire.
func TestIsQueueMissingOnTheWire(t *testing.T) {
	t.Parallel()
	env := localtest.Env(t)
	_, err := env.SQS.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("no-such-queue-4b1d")})
	if !awsconn.IsQueueMissing(err) {
		t.Errorf("GetQueueUrl of a missing queue: %v; IsQueueMissing = false", err)
	}
	_, err = env.SQS.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl:    aws.String("http://localhost:4566/000000000000/no-such-queue-4b1d"),
		MessageBody: aws.String("x"),
	})
	if !awsconn.IsQueueMissing(err) {
		t.Errorf("SendMessage to a missing queue: %v; IsQueueMissing = false", err)
	}
}
