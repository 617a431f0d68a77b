package chaos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// errCrash is what a call gets when the harness kills the process around it.
var errCrash = errors.New("chaos: process crashed")

// callClass is what a crash can interrupt.
type callClass int

const (
	classOther callClass = iota
	classDynamoDBWrite
	classSQSSend
	classSQSDelete
)

// classify names the class of an operation from its input (the operation
// name is not yet in the context this early in the stack).
func classify(params any) (string, callClass) {
	switch params.(type) {
	case *dynamodb.PutItemInput:
		return "PutItem", classDynamoDBWrite
	case *dynamodb.UpdateItemInput:
		return "UpdateItem", classDynamoDBWrite
	case *dynamodb.DeleteItemInput:
		return "DeleteItem", classDynamoDBWrite
	case *dynamodb.TransactWriteItemsInput:
		return "TransactWriteItems", classDynamoDBWrite
	case *dynamodb.BatchWriteItemInput:
		return "BatchWriteItem", classDynamoDBWrite
	case *sqs.SendMessageInput:
		return "SendMessage", classSQSSend
	case *sqs.SendMessageBatchInput:
		return "SendMessageBatch", classSQSSend
	case *sqs.DeleteMessageInput:
		return "DeleteMessage", classSQSDelete
	case *sqs.DeleteMessageBatchInput:
		return "DeleteMessageBatch", classSQSDelete
	}
	return fmt.Sprintf("%T", params), classOther
}

// crashKinds are the fault kinds of a class: before and after the call.
var crashKinds = map[callClass][2]FaultKind{
	classDynamoDBWrite: {FaultCrashBeforeDynamoDBWrite, FaultCrashAfterDynamoDBWrite},
	classSQSSend:       {FaultCrashBeforeSQSSend, FaultCrashAfterSQSSend},
	classSQSDelete:     {FaultCrashBeforeSQSDelete, FaultCrashAfterSQSDelete},
}

// exempt marks a context whose calls get no crash (the harness's own task
// creation: a crash there would fail the harness, not test the system).
type exempt struct{}

func withoutCrashes(ctx context.Context) context.Context {
	return context.WithValue(ctx, exempt{}, true)
}

// crashes kills invocations around AWS writes, sends and deletes.
//
// Inside a Lambda invocation (the orchestration and results consumers run by
// pkg/localrun, whose contexts carry a lambdacontext request ID) a crash
// marks the invocation dead: the crashed call and every later AWS call of
// the invocation — including the event source's delete of the batch — fail
// before they are sent, as if the process had died there. The batch stays
// on its queue and SQS redelivers it after the visibility timeout.
//
// Outside an invocation (in-process workers, the sweeper) a call that gets
// an error stops the work of its message at once and leaves the message for
// redelivery, which is what a crash does too; there only the crashes whose
// recovery does not wait for a step timeout are injected: before a DynamoDB
// write (the claim is not taken), after a send (the result was sent, the
// step message is kept) and both around a delete.
type crashes struct {
	rate float64
	rng  *lockedRand
	log  *faultLog
	dead sync.Map // AwsRequestID → *atomic.Bool
	// suppressed counts calls failed because their invocation had died.
	suppressed atomic.Int64
	// armed is set once the stack has started (a crash while it registers
	// templates would fail the harness, not test the system).
	armed atomic.Bool
}

// middleware returns the Initialize middleware: it runs before the SDK's
// retryer, so an injected crash is never retried.
func (c *crashes) middleware() middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("ChaosCrash", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		op, class := classify(in.Parameters)
		scope := c.scope(ctx)
		if scope != nil && scope.Load() {
			c.suppressed.Add(1)
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s: %w (earlier in this invocation)", op, errCrash)
		}
		if class == classOther || !c.armed.Load() || ctx.Value(exempt{}) != nil || !c.rng.chance(c.rate) {
			return next.HandleInitialize(ctx, in)
		}
		before := c.rng.chance(0.5)
		if scope == nil {
			// Outside an invocation: see the type's comment.
			switch class {
			case classDynamoDBWrite:
				before = true
			case classSQSSend:
				before = false
			}
		}
		kinds := crashKinds[class]
		if before {
			c.kill(scope, kinds[0])
			return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s: %w before the call", op, errCrash)
		}
		out, md, err := next.HandleInitialize(ctx, in)
		if err != nil {
			return out, md, err // the call failed on its own: nothing to crash after
		}
		c.kill(scope, kinds[1])
		return middleware.InitializeOutput{}, md, fmt.Errorf("%s: %w after the call succeeded", op, errCrash)
	})
}

// scope returns the dead flag of the invocation ctx belongs to, or nil
// outside an invocation.
func (c *crashes) scope(ctx context.Context) *atomic.Bool {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc.AwsRequestID == "" {
		return nil
	}
	v, _ := c.dead.LoadOrStore(lc.AwsRequestID, new(atomic.Bool))
	return v.(*atomic.Bool)
}

func (c *crashes) kill(scope *atomic.Bool, kind FaultKind) {
	c.log.add(kind)
	if scope != nil {
		scope.Store(true)
	}
}
