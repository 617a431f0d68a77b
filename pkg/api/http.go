package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// MaxHTTPBodyBytes bounds the request bodies HTTPHandler forwards: API
// Gateway's own payload limit (10 MB). The handler's MaxBodyBytes applies
// after that, exactly as in a deployment.
const MaxHTTPBodyBytes = 10 << 20

// HTTPHandler serves HTTP by invoking a Lambda handler the way API Gateway
// does: it turns each request into an HTTP API payload 2.0 event (JSON),
// calls invoke with it, and writes the APIGatewayV2HTTPResponse it returns.
// Pass localrun.Handler(h.Handle) so the same JSON decoding runs as in
// Lambda, safely for concurrent requests. An invoke error is logged and answered with a 502 envelope, as
// API Gateway answers a failed integration.
func HTTPHandler(invoke func(ctx context.Context, payload []byte) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestID := uuid.NewString()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxHTTPBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeEnvelope(w, requestID, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxHTTPBodyBytes))
				return
			}
			writeEnvelope(w, requestID, http.StatusBadRequest, CodeInvalidRequest, "the request body could not be read")
			return
		}
		payload, err := json.Marshal(gatewayEvent(r, body, requestID, time.Now()))
		if err != nil {
			slog.ErrorContext(r.Context(), "api: encode gateway event", "request_id", requestID, "error", err.Error())
			writeEnvelope(w, requestID, http.StatusInternalServerError, CodeInternal, "internal error; see logs (request_id "+requestID+")")
			return
		}
		out, err := invoke(r.Context(), payload)
		if err != nil {
			slog.ErrorContext(r.Context(), "api: lambda invocation failed", "request_id", requestID, "error", err.Error())
			writeEnvelope(w, requestID, http.StatusBadGateway, CodeInternal, "internal error; see logs (request_id "+requestID+")")
			return
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			slog.ErrorContext(r.Context(), "api: decode lambda response", "request_id", requestID, "error", err.Error())
			writeEnvelope(w, requestID, http.StatusBadGateway, CodeInternal, "internal error; see logs (request_id "+requestID+")")
			return
		}
		writeGatewayResponse(w, resp)
	})
}

// gatewayEvent builds the event API Gateway would send for r.
func gatewayEvent(r *http.Request, body []byte, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := make(map[string]string, len(r.Header)+1)
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", AccountID: "000000000000", Stage: "$default", RequestID: requestID,
			APIID: "local", DomainName: r.Host, Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// writeGatewayResponse writes an API Gateway response to w.
func writeGatewayResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeEnvelope(w, resp.Headers["X-Request-Id"], http.StatusBadGateway, CodeInternal, "the handler returned an invalid base64 body")
			return
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeEnvelope(w http.ResponseWriter, requestID string, status int, code, message string) {
	b, _ := json.Marshal(ErrorResponse{Error: ErrorDetail{Code: code, Message: message}})
	w.Header().Set("Content-Type", "application/json")
	if requestID != "" {
		w.Header().Set("X-Request-Id", requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
