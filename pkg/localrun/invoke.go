package localrun

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// Handler returns an Invoker that runs handler (any signature
// lambda.NewHandler accepts) through aws-lambda-go's own JSON decoding and
// encoding, and that is safe to call from concurrent goroutines.
//
// lambda.NewHandler(h).Invoke is not: it returns the bytes of a pooled
// buffer after putting the buffer back in the handler's pool, so a
// concurrent call can overwrite a response before its caller reads it. That
// is harmless in Lambda, which runs one invocation at a time per
// environment, but the local event sources and the local HTTP API invoke
// concurrently. Each call here builds its own handler (and pool), which
// costs a few microseconds of reflection.
func Handler(handler any) Invoker {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		return lambda.NewHandler(handler).Invoke(ctx, payload)
	}
}
