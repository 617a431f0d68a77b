// Package sqstrace carries OpenTelemetry trace context (W3C traceparent and
// tracestate, through the global propagator) in SQS message attributes, so
// a trace follows a task from the engine to the worker and back. With no
// span in the context, or no propagator installed, it adds nothing and
// allocates nothing.
package sqstrace

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Attribute names of the W3C trace context.
const (
	AttrTraceparent = "traceparent"
	AttrTracestate  = "tracestate"
)

// AttributeNames are the message attributes a receiver asks SQS for to
// continue a trace.
var AttributeNames = []string{AttrTraceparent, AttrTracestate}

// Inject adds the trace context of ctx to attrs and returns attrs (made
// when nil). It returns attrs unchanged when ctx carries no valid span.
func Inject(ctx context.Context, attrs map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return attrs
	}
	c := injector{attrs: attrs}
	otel.GetTextMapPropagator().Inject(ctx, &c)
	return c.attrs
}

// Extract returns ctx carrying the trace context in attrs (as received with
// the SDK), or ctx itself when attrs have none.
func Extract(ctx context.Context, attrs map[string]types.MessageAttributeValue) context.Context {
	if _, ok := attrs[AttrTraceparent]; !ok {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, sdkCarrier(attrs))
}

// ExtractEvent is Extract for a Lambda SQS event record's attributes.
func ExtractEvent(ctx context.Context, attrs map[string]events.SQSMessageAttribute) context.Context {
	if _, ok := attrs[AttrTraceparent]; !ok {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, eventCarrier(attrs))
}

type injector struct {
	attrs map[string]types.MessageAttributeValue
}

func (c *injector) Get(key string) string { return aws.ToString(c.attrs[key].StringValue) }

func (c *injector) Set(key, value string) {
	if c.attrs == nil {
		c.attrs = make(map[string]types.MessageAttributeValue, 2)
	}
	c.attrs[key] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
}

func (c *injector) Keys() []string {
	keys := make([]string, 0, len(c.attrs))
	for k := range c.attrs {
		keys = append(keys, k)
	}
	return keys
}

type sdkCarrier map[string]types.MessageAttributeValue

func (c sdkCarrier) Get(key string) string { return aws.ToString(c[key].StringValue) }
func (c sdkCarrier) Set(string, string)    {}
func (c sdkCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

type eventCarrier map[string]events.SQSMessageAttribute

func (c eventCarrier) Get(key string) string { return aws.ToString(c[key].StringValue) }
func (c eventCarrier) Set(string, string)    {}
func (c eventCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
