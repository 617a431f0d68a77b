package engine

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tasker-go/tasker/pkg/protocol"
	"github.com/tasker-go/tasker/pkg/workflow"
)

// The checks on what a worker hands over that protocol.ResultMessage.Validate
// cannot make from the message alone. A worker may write payload items in its
// task's partition, so a result_ref can point at anything there.

// errorTypeInvalidResult marks an attempt failed because its worker sent a
// result the engine cannot use.
const errorTypeInvalidResult = "invalid_result"

// invalidResult is the permanent failure recorded for a rejected result.
func invalidResult(reason string) *protocol.StepError {
	return &protocol.StepError{Message: "invalid result message: " + reason, ErrorType: errorTypeInvalidResult}
}

// checkLoadedResult applies the inline result's checks to a result loaded
// through result_ref: it must be JSON (it is copied into dependents' step
// messages as is) and no deeper than protocol.MaxJSONDepth.
func checkLoadedResult(result json.RawMessage) error {
	if !json.Valid(result) {
		return errors.New("result_ref: the stored result is not valid JSON")
	}
	if err := protocol.CheckJSONDepth(result, protocol.MaxJSONDepth); err != nil {
		return fmt.Errorf("result_ref: the stored result is %w", err)
	}
	return nil
}

// missingPayload reports whether loading a result_ref failed because the
// reference is malformed or names no stored payload (reads are consistent,
// so this does not heal by retrying).
func missingPayload(err error) bool { return errors.Is(err, workflow.ErrNotFound) }

// identifiable reports whether a rejected result names a step the store can
// look up: a task UUID and step name of the forms the engine writes. Any
// other value could not name a step, and as a key it could fail the lookup
// itself (DynamoDB bounds key sizes), turning a bad message into a poison one.
func identifiable(taskUUID, stepName string) bool {
	return protocol.ValidUUID(taskUUID) && protocol.ValidStepName(stepName)
}
