package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// response is what a route returns: a status and a value to encode as JSON.
type response struct {
	status  int
	body    any
	raw     []byte // already-encoded JSON; used instead of body when set
	headers map[string]string
}

func jsonResponse(status int, body any) response { return response{status: status, body: body} }

func errorResponse(status int, code, message, field string) response {
	return response{status: status, body: ErrorResponse{Error: ErrorDetail{Code: code, Message: message, Field: field}}}
}

func internalResponse(requestID string) response {
	return errorResponse(500, CodeInternal, "internal error; see logs (request_id "+requestID+")", "")
}

// internal logs err with the request id and answers with a 500 that names
// the request id only: Go errors may carry table names, ARNs or AWS request
// details that do not belong in a response.
func (h *Handler) internal(ctx context.Context, r *request, err error) response {
	h.log.LogAttrs(ctx, slog.LevelError, "api: internal error",
		slog.String("request_id", r.id), slog.String("method", r.method), slog.String("path", r.path),
		slog.String("error", err.Error()))
	return internalResponse(r.id)
}

// encode turns a response into API Gateway's response. A body that cannot
// be encoded becomes a 500 (it is one of our own types, so that is a bug).
func (res response) encode(requestID string) events.APIGatewayV2HTTPResponse {
	body := res.raw
	if body == nil {
		b, err := marshal(res.body)
		if err != nil {
			b, _ = marshal(ErrorResponse{Error: ErrorDetail{Code: CodeInternal, Message: fmt.Sprintf("internal error; see logs (request_id %s)", requestID)}})
			res.status = 500
		}
		body = b
	}
	headers := map[string]string{
		"Content-Type":  "application/json",
		"X-Request-Id":  requestID,
		"Cache-Control": "no-store",
	}
	for k, v := range res.headers {
		headers[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: res.status, Headers: headers, Body: string(body)}
}

// marshal encodes v as JSON without HTML escaping (the API serves JSON, not
// HTML, and "must be >= 2" reads better than "must be \u003e= 2").
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
