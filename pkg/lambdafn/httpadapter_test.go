package lambdafn_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/lambdafn"
)

// fixtureHost is the API's domain in the testdata events.
const fixtureHost = "abc123defg.execute-api.eu-west-1.amazonaws.com"

// seenRequest is what the echo handler saw of a request.
type seenRequest struct {
	Method, Path, EscapedPath, RequestURI, Host, RemoteAddr, Proto string
	Query                                                          map[string][]string
	Cookies                                                        map[string]string
	Headers                                                        map[string]string
	Body                                                           string
	ContentLength                                                  int64
}

// echo answers with what it saw, as JSON.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s := seenRequest{Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RequestURI: r.RequestURI,
		Host: r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto, Query: r.URL.Query(), Cookies: map[string]string{},
		Headers: map[string]string{}, Body: string(b), ContentLength: r.ContentLength}
	for _, c := range r.Cookies() {
		s.Cookies[c.Name] = c.Value
	}
	for k := range r.Header {
		s.Headers[k] = r.Header.Get(k)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
})

// loadEvent reads a testdata event, lets edit change it and returns its
// JSON, as Lambda would deliver it.
func loadEvent(t *testing.T, name string, edit func(*events.APIGatewayV2HTTPRequest)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	if edit == nil {
		return b
	}
	var ev events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(b, &ev))
	edit(&ev)
	b, err = json.Marshal(ev)
	require.NoError(t, err)
	return b
}

// invoke runs payload through the adapter the way the Lambda runtime does.
func invoke(t *testing.T, h http.Handler, payload []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	a := lambdafn.NewHTTPAdapter(h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	out, err := lambda.NewHandler(a.Handle).Invoke(context.Background(), payload)
	require.NoError(t, err)
	var resp events.APIGatewayV2HTTPResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	return resp
}

func TestHTTPAdapterBuildsTheRequest(t *testing.T) {
	t.Parallel()
	form := "credential=tk_fixture_admin_0123456789abcdef&next=%2Fui%2Ftasks%3Fstatus%3Derror"
	tests := []struct {
		name    string
		fixture string
		edit    func(*events.APIGatewayV2HTTPRequest)
		check   func(t *testing.T, s seenRequest)
	}{
		{name: "base64 form post", fixture: "apigw-v2-ui-login.json", check: func(t *testing.T, s seenRequest) {
			require.Equal(t, "POST", s.Method)
			require.Equal(t, "/ui/login", s.Path)
			require.Equal(t, "/ui/login", s.RequestURI)
			require.Equal(t, form, s.Body)
			require.EqualValues(t, len(form), s.ContentLength)
			require.Equal(t, fixtureHost, s.Host)
			require.Equal(t, "198.51.100.23:0", s.RemoteAddr)
			require.Equal(t, "HTTP/1.1", s.Proto)
			require.Equal(t, "https://"+fixtureHost, s.Headers["Origin"])
			require.Equal(t, "application/x-www-form-urlencoded", s.Headers["Content-Type"])
			require.Equal(t, "https", s.Headers["X-Forwarded-Proto"])
			require.NotContains(t, s.Headers, "Host", "the host is r.Host, as a server reads it")
			require.Empty(t, s.Cookies)
		}},
		{name: "cookies and query", fixture: "apigw-v2-ui-tasks.json", check: func(t *testing.T, s seenRequest) {
			require.Equal(t, "GET", s.Method)
			require.Equal(t, "/ui/tasks?namespace=fn_ns&state=&template=fn_ns%2Fpair", s.RequestURI)
			require.Equal(t, map[string][]string{"namespace": {"fn_ns"}, "state": {""}, "template": {"fn_ns/pair"}}, s.Query)
			require.Equal(t, map[string]string{"_ga": "GA1.1.1234567890.1763800000", "tasker_session": "__SESSION__"}, s.Cookies)
			require.Empty(t, s.Body)
			require.Zero(t, s.ContentLength)
		}},
		{name: "stage prefix, escaped path, repeated query, IPv6 client", fixture: "apigw-v2-stage-escaped.json",
			check: func(t *testing.T, s seenRequest) {
				require.Equal(t, "/ui/templates/fn_ns/order/v2/1.0.0", s.Path)
				require.Equal(t, "/ui/templates/fn_ns/order%2Fv2/1.0.0", s.EscapedPath, "an escaped slash stays escaped")
				require.Equal(t, []string{"a", "b"}, s.Query["tag"], "rawQueryString keeps repeated parameters")
				require.Equal(t, []string{"café au lait"}, s.Query["q"])
				require.Equal(t, `{"note":"naïve – ok","n":1}`, s.Body)
				require.Equal(t, "[2001:db8::17]:0", s.RemoteAddr)
				require.Equal(t, "one,two", s.Headers["X-Custom"])
				require.Equal(t, map[string]string{"tasker_session": "dGtfZml4dHVyZQ", "theme": "dark"}, s.Cookies)
			}},
		{name: "query from queryStringParameters when rawQueryString is empty", fixture: "apigw-v2-ui-tasks.json",
			edit: func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "" },
			check: func(t *testing.T, s seenRequest) {
				require.Equal(t, map[string][]string{"namespace": {"fn_ns"}, "state": {""}, "template": {"fn_ns/pair"}}, s.Query)
			}},
		{name: "https and host filled in when the headers lack them", fixture: "apigw-v2-ui-tasks.json",
			edit: func(ev *events.APIGatewayV2HTTPRequest) {
				delete(ev.Headers, "x-forwarded-proto")
				delete(ev.Headers, "host")
				ev.RequestContext.DomainName = "tasker.example.com"
			},
			check: func(t *testing.T, s seenRequest) {
				require.Equal(t, "https", s.Headers["X-Forwarded-Proto"])
				require.Equal(t, "tasker.example.com", s.Host)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := invoke(t, echo, loadEvent(t, tt.fixture, tt.edit))
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			require.False(t, resp.IsBase64Encoded)
			var s seenRequest
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &s))
			tt.check(t, s)
		})
	}
}

func TestHTTPAdapterRejectsAMalformedEvent(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*events.APIGatewayV2HTTPRequest){
		"body not base64": func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = "credential=not base64!" },
		"path not a path": func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "ui/login" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			resp := invoke(t, h, loadEvent(t, "apigw-v2-ui-login.json", edit))
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.False(t, called, "the handler must not see a malformed request")
		})
	}
}

func TestHTTPAdapterWritesTheResponse(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("body { color: red }"))
	require.NoError(t, zw.Close())

	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		handler    http.HandlerFunc
		status     int
		headers    map[string]string
		cookies    []string
		body       []byte
		base64     bool
		noHeaderOf []string
	}{
		{name: "redirect with cookies",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "tasker_session", Value: "abc", Path: "/ui", HttpOnly: true, Secure: true,
					SameSite: http.SameSiteStrictMode})
				http.SetCookie(w, &http.Cookie{Name: "tasker_csrf_seed", Value: "", Path: "/ui", MaxAge: -1})
				http.Redirect(w, r, "/ui/tasks", http.StatusSeeOther)
			},
			status:  http.StatusSeeOther,
			headers: map[string]string{"Location": "/ui/tasks"},
			cookies: []string{"tasker_session=abc; Path=/ui; HttpOnly; Secure; SameSite=Strict",
				"tasker_csrf_seed=; Path=/ui; Max-Age=0"},
			body:       []byte("<a href=\"/ui/tasks\">See Other</a>.\n\n"),
			noHeaderOf: []string{"Set-Cookie"}},
		{name: "png is base64",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				_, _ = w.Write(png)
			},
			status: http.StatusOK, headers: map[string]string{"Content-Type": "image/png"}, body: png, base64: true},
		{name: "font is base64",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "font/woff2")
				_, _ = w.Write([]byte("wOF2abc"))
			},
			status: http.StatusOK, body: []byte("wOF2abc"), base64: true},
		{name: "html is text",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, "<p>Zugriff verweigert – 403</p>")
			},
			status: http.StatusForbidden, body: []byte("<p>Zugriff verweigert – 403</p>")},
		{name: "content type sniffed as net/http does",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "<!DOCTYPE html><title>x</title>")
			},
			status: http.StatusOK, headers: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			body: []byte("<!DOCTYPE html><title>x</title>")},
		{name: "unknown bytes sniffed as binary",
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte{0, 1, 2, 0xff}) },
			status:  http.StatusOK, headers: map[string]string{"Content-Type": "application/octet-stream"},
			body: []byte{0, 1, 2, 0xff}, base64: true},
		{name: "compressed text is base64",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/css")
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(gz.Bytes())
			},
			status: http.StatusOK, headers: map[string]string{"Content-Encoding": "gzip"}, body: gz.Bytes(), base64: true},
		{name: "text that is not UTF-8 is base64",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=latin1")
				_, _ = w.Write([]byte("caf\xe9"))
			},
			status: http.StatusOK, body: []byte("caf\xe9"), base64: true},
		{name: "repeated headers joined, length left to API Gateway",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Add("Vary", "Cookie")
				w.Header().Add("Vary", "Accept")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "2")
				_, _ = io.WriteString(w, "{}")
			},
			status: http.StatusOK, headers: map[string]string{"Vary": "Cookie, Accept"}, body: []byte("{}"),
			noHeaderOf: []string{"Content-Length"}},
		{name: "nothing written is an empty 200",
			handler: func(http.ResponseWriter, *http.Request) {},
			status:  http.StatusOK, noHeaderOf: []string{"Content-Type"}},
		{name: "informational status dropped",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusNoContent)
				w.WriteHeader(http.StatusTeapot) // superfluous, as in net/http
			},
			status: http.StatusNoContent},
		{name: "HEAD has no body",
			edit: func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "HEAD" },
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "hello")
			},
			status: http.StatusOK},
		{name: "panic is a plain 500 without its text",
			handler: func(http.ResponseWriter, *http.Request) { panic("secret detail") },
			status:  http.StatusInternalServerError,
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			body:    []byte("internal error; see the server log\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := invoke(t, tt.handler, loadEvent(t, "apigw-v2-ui-tasks.json", tt.edit))
			require.Equal(t, tt.status, resp.StatusCode)
			for k, v := range tt.headers {
				require.Equal(t, v, resp.Headers[k], k)
			}
			for _, k := range tt.noHeaderOf {
				require.NotContains(t, resp.Headers, k)
			}
			require.Equal(t, tt.cookies, resp.Cookies)
			require.Equal(t, tt.base64, resp.IsBase64Encoded)
			body := []byte(resp.Body)
			if resp.IsBase64Encoded {
				var err error
				body, err = base64.StdEncoding.DecodeString(resp.Body)
				require.NoError(t, err)
			}
			require.Equal(t, string(tt.body), string(body))
			require.NotContains(t, strings.ToLower(resp.Body), "secret")
		})
	}
}
