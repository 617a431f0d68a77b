package chaos

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// awsFaults injects faults into AWS requests through SDK middleware.
type awsFaults struct {
	throttleRate  float64
	duplicateRate float64
	rng           *lockedRand
	log           *faultLog
	// clean sends duplicates; it has no chaos middleware, so a duplicate is
	// neither throttled nor duplicated again.
	clean *sqs.Client
}

// requestAttempts counts the SDK attempts of one operation call.
type requestAttempts struct{}

// apiOptions returns the middleware for a client whose throttles count as
// kind; duplicate also makes it duplicate sent messages (SQS only).
func (f *awsFaults) apiOptions(kind FaultKind, duplicate bool) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(st *middleware.Stack) error {
		if err := st.Initialize.Add(f.initialize(duplicate), middleware.Before); err != nil {
			return err
		}
		// After "Retry", so every attempt passes through and the retryer
		// sees the injected error.
		return st.Finalize.Insert(f.throttle(kind), "Retry", middleware.After)
	}}
}

// initialize marks the operation call (so throttle can tell its first
// attempt) and duplicates sent messages once they were accepted.
func (f *awsFaults) initialize(duplicate bool) middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("ChaosInitialize", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		ctx = context.WithValue(ctx, requestAttempts{}, new(atomic.Int32))
		out, md, err := next.HandleInitialize(ctx, in)
		if err == nil && duplicate {
			f.duplicate(ctx, in.Parameters)
		}
		return out, md, err
	})
}

// throttle fails the first attempt of a seeded fraction of operation calls
// with ThrottlingException before it is sent. Only the first attempt is
// faulted, so the SDK's retry always absorbs the fault: the system under
// test sees latency, never the error.
func (f *awsFaults) throttle(kind FaultKind) middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("ChaosThrottle", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		n, ok := ctx.Value(requestAttempts{}).(*atomic.Int32)
		if ok && n.Add(1) == 1 && f.rng.chance(f.throttleRate) {
			f.log.add(kind)
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
				Code: "ThrottlingException", Message: "chaos: injected throttle", Fault: smithy.FaultServer}
		}
		return next.HandleFinalize(ctx, in)
	})
}

// duplicate sends a seeded fraction of the messages in a SendMessage or
// SendMessageBatch call a second time.
func (f *awsFaults) duplicate(ctx context.Context, params any) {
	switch in := params.(type) {
	case *sqs.SendMessageInput:
		if f.rng.chance(f.duplicateRate) {
			f.send(ctx, in)
		}
	case *sqs.SendMessageBatchInput:
		for _, e := range in.Entries {
			if f.rng.chance(f.duplicateRate) {
				f.send(ctx, &sqs.SendMessageInput{QueueUrl: in.QueueUrl, MessageBody: e.MessageBody,
					DelaySeconds: e.DelaySeconds, MessageAttributes: e.MessageAttributes})
			}
		}
	}
}

func (f *awsFaults) send(ctx context.Context, in *sqs.SendMessageInput) {
	cp := *in
	cp.QueueUrl, cp.MessageBody = aws.String(aws.ToString(in.QueueUrl)), aws.String(aws.ToString(in.MessageBody))
	if _, err := f.clean.SendMessage(context.WithoutCancel(ctx), &cp); err == nil {
		f.log.add(FaultDuplicateMessage)
	}
}
