package awsconn

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// Error codes SQS uses for a queue that does not exist. AWS sends
// QueueDoesNotExist (JSON protocol) with the legacy query code
// AWS.SimpleQueueService.NonExistentQueue as an override; kumo sends only the
// legacy code, which the SDK does not map to *types.QueueDoesNotExist.
const (
	codeQueueDoesNotExist = "QueueDoesNotExist"
	codeNonExistentQueue  = "AWS.SimpleQueueService.NonExistentQueue"
)

// IsQueueMissing reports whether err (or an error it wraps) says that an SQS
// queue does not exist, as AWS, LocalStack and kumo each spell it.
func IsQueueMissing(err error) bool {
	if err == nil {
		return false
	}
	var missing *types.QueueDoesNotExist
	if errors.As(err, &missing) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case codeQueueDoesNotExist, codeNonExistentQueue:
			return true
		}
	}
	return false
}
