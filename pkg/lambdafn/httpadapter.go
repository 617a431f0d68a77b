package lambdafn

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// errBadEvent marks an API Gateway event that cannot be turned into an HTTP
// request (a path that is not one, a body that is not the base64 it claims).
var errBadEvent = errors.New("malformed API Gateway event")

// HTTPAdapter serves an http.Handler from API Gateway HTTP API events
// (payload format 2.0): the reverse of api.HTTPHandler. Each event becomes
// an *http.Request (method, path, query, headers, the cookies v2 sends
// apart in Cookies, the body decoded from base64 when it is, the client's
// address) and whatever the handler writes becomes the response, with every
// Set-Cookie in Cookies (payload 2.0 drops Set-Cookie headers) and binary
// bodies base64-encoded. It is safe for concurrent use.
type HTTPAdapter struct {
	handler http.Handler
	log     *slog.Logger
}

// NewHTTPAdapter returns an adapter serving h. Panics in h are logged on
// log (default slog.Default()) and answered with a plain 500.
func NewHTTPAdapter(h http.Handler, log *slog.Logger) *HTTPAdapter {
	return &HTTPAdapter{handler: h, log: logger(log)}
}

// Handle serves one event. It never returns an error: an event that is not
// a valid request is answered with a 400, a panic in the handler with a
// 500, neither with internal detail.
func (a *HTTPAdapter) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := newHTTPRequest(ctx, ev)
	if err != nil {
		a.log.WarnContext(ctx, "http adapter: bad event", "request_id", ev.RequestContext.RequestID, "error", err)
		return plainResponse(http.StatusBadRequest, "bad request: the request could not be read"), nil
	}
	w := &responseWriter{header: http.Header{}}
	if !a.serve(w, r) {
		return plainResponse(http.StatusInternalServerError, "internal error; see the server log"), nil
	}
	return w.response(r.Method), nil
}

// serve runs the handler and reports false when it panicked.
func (a *HTTPAdapter) serve(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			a.log.ErrorContext(r.Context(), "http adapter: panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	a.handler.ServeHTTP(w, r)
	return true
}

// newHTTPRequest builds the request a server would have read for ev.
func newHTTPRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	u, err := eventURL(ev)
	if err != nil {
		return nil, err
	}
	body, err := eventBody(ev)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(ev.RequestContext.HTTP.Method)
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(ctx, method, "/", http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%w: method %q", errBadEvent, method)
	}
	r.URL, r.RequestURI = u, u.RequestURI()
	if len(body) > 0 {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	if p := ev.RequestContext.HTTP.Protocol; p != "" {
		if major, minor, ok := http.ParseHTTPVersion(p); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = p, major, minor
		}
	}
	setHeaders(r, ev)
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		// API Gateway gives no client port; 0 keeps RemoteAddr's "host:port" form.
		r.RemoteAddr = net.JoinHostPort(ip, "0")
	}
	return r, nil
}

// eventURL returns the request's path and query. rawPath is the path as
// sent (still escaped); a named stage's prefix is removed, as the API
// handler removes it. rawQueryString keeps repeated parameters, which
// queryStringParameters joins with commas.
func eventURL(ev events.APIGatewayV2HTTPRequest) (*url.URL, error) {
	p := eventPath(ev)
	u, err := url.ParseRequestURI(p)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: path %q", errBadEvent, p)
	}
	u.RawQuery = ev.RawQueryString
	if u.RawQuery == "" && len(ev.QueryStringParameters) > 0 {
		q := url.Values{}
		for k, v := range ev.QueryStringParameters {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// eventPath returns the event's raw path without a named stage's prefix.
func eventPath(ev events.APIGatewayV2HTTPRequest) string {
	p := ev.RawPath
	if p == "" {
		p = ev.RequestContext.HTTP.Path
	}
	if p == "" {
		return "/"
	}
	if stage := ev.RequestContext.Stage; stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(p, "/"+stage+"/"); ok {
			return "/" + rest
		}
		if p == "/"+stage {
			return "/"
		}
	}
	return p
}

// eventBody returns the body, decoded when API Gateway base64-encoded it.
func eventBody(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is not valid base64", errBadEvent)
	}
	return b, nil
}

// setHeaders copies the event's headers (API Gateway lower-cases names and
// joins repeated ones with commas) and cookies onto r. Host becomes r.Host,
// as a server sees it. API Gateway accepts https only and says so in
// X-Forwarded-Proto; when an event lacks it, it is set, so handlers that
// mark cookies Secure behind a proxy do here too.
func setHeaders(r *http.Request, ev events.APIGatewayV2HTTPRequest) {
	for k, v := range ev.Headers {
		r.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.Host = r.Header.Get("Host")
	r.Header.Del("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	if r.Header.Get("X-Forwarded-Proto") == "" {
		r.Header.Set("X-Forwarded-Proto", "https")
	}
}

// responseWriter collects what a handler writes.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the first final status; informational ones (1xx)
// cannot be passed through API Gateway and are dropped.
func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

// response turns what was written into the payload 2.0 response: headers
// joined per name, Set-Cookie in Cookies, Content-Type sniffed when the
// handler set none (as net/http does), and a body that is not text
// base64-encoded. A HEAD response has no body.
func (w *responseWriter) response(method string) events.APIGatewayV2HTTPResponse {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	body := w.body.Bytes()
	if method == http.MethodHead {
		body = nil
	}
	if _, set := w.header["Content-Type"]; !set && len(body) > 0 {
		w.header.Set("Content-Type", http.DetectContentType(body))
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{}}
	for k, vs := range w.header {
		switch {
		case len(vs) == 0 || k == "Content-Length":
			// API Gateway sets the length of the body it sends.
		case k == "Set-Cookie":
			resp.Cookies = append(resp.Cookies, vs...)
		default:
			resp.Headers[k] = strings.Join(vs, ", ")
		}
	}
	switch {
	case len(body) == 0:
	case isText(w.header):
		if utf8.Valid(body) {
			resp.Body = string(body)
			break
		}
		fallthrough
	default:
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return resp
}

// isText reports whether a response with these headers carries text that
// can travel as a JSON string: an unencoded body of a textual media type.
func isText(h http.Header) bool {
	if enc := h.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/xml", "application/x-www-form-urlencoded",
		"application/x-ndjson":
		return true
	}
	return false
}

// plainResponse is a short text answer of the adapter's own.
func plainResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: msg + "\n", Headers: map[string]string{
		"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	}}
}
