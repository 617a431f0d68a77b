package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

// Test API keys: an operator with every permission the dashboard uses, and
// a reader who may list tasks only.
const (
	adminKey  = "tk_dash_admin_0123456789abcdef"
	readerKey = "tk_dash_reader_0123456789abcdef"
)

// paymentTemplate is a workflow whose charge step always fails for good:
// the task stops in error until an operator resolves the step.
const paymentTemplate = `name: card_payment
namespace_name: dashboard_test
version: 1.0.0
description: Prepare, charge a card (always declined here), send a receipt.
steps:
  - name: prepare
    handler: {callable: dashboard_test.ok}
  - name: charge_card
    handler: {callable: dashboard_test.decline}
    dependencies: [prepare]
    retry: {retryable: false, max_attempts: 1}
  - name: send_receipt
    handler: {callable: dashboard_test.ok}
    dependencies: [charge_card]
`

// registerTestHandlers adds the payment template's handlers.
func registerTestHandlers(reg *worker.Registry) {
	reg.RegisterFunc("dashboard_test.ok", func(context.Context, *worker.Step) (worker.Result, error) {
		return worker.Success(map[string]any{"ok": true})
	})
	reg.RegisterFunc("dashboard_test.decline", func(context.Context, *worker.Step) (worker.Result, error) {
		return worker.Result{}, worker.Permanent(errors.New("card declined: do not honor"))
	})
}

func testAuth(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Config{APIKeys: map[string]auth.KeyConfig{
		adminKey:  {Name: "operator", Permissions: []string{"tasks:*", "steps:*", "templates:*", "dlq:*"}},
		readerKey: {Name: "reader", Permissions: []string{"tasks:list", "tasks:read"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startStack starts a devstack with the HTTP API (and so the dashboard) on a
// random port, the given templates and the payment template.
func startStack(t *testing.T, a *auth.Authenticator, reg *worker.Registry, tpls []*template.Template) *devstack.Stack {
	t.Helper()
	pay, err := template.Parse([]byte(paymentTemplate), "payment")
	if err != nil {
		t.Fatal(err)
	}
	registerTestHandlers(reg)
	st, err := devstack.Start(context.Background(), devstack.Options{Env: localtest.Env(t),
		Prefix:    fmt.Sprintf("dash%d", time.Now().UnixNano()%1e9),
		Templates: append(tpls, pay), Registry: reg, APIAddr: "127.0.0.1:0", Auth: a,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the status, the Location and the body.
func (b *browser) do(method, path string, form url.Values, headers map[string]string) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

func (b *browser) get(path string) (int, string, string) { return b.do("GET", path, nil, nil) }

// login posts key on the login page and requires the redirect.
func (b *browser) login(key string) {
	b.t.Helper()
	status, loc, body := b.do("POST", "/ui/login", url.Values{"credential": {key}, "next": {"/ui/tasks"}}, nil)
	if status != http.StatusSeeOther || loc != "/ui/tasks" {
		b.t.Fatalf("login: status %d, location %q: %s", status, loc, body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a rendered page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

// createTask creates a task through the API and returns its UUID.
func createTask(t *testing.T, st *devstack.Stack, key, body string) string {
	t.Helper()
	req, err := http.NewRequest("POST", st.APIURL+"/v1/tasks", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create task: %d %s", resp.StatusCode, out)
	}
	m := regexp.MustCompile(`"task_uuid":"([^"]+)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("create task: no task_uuid in %s", out)
	}
	return string(m[1])
}

// putDeadLetter records a message SQS dead-lettered, as the sweeper does
// when it drains a dead-letter queue.
func putDeadLetter(t *testing.T, st *devstack.Stack, msg string) string {
	t.Helper()
	now := time.Now()
	e := &dynamo.DLQEntry{UUID: uuid.NewString(), Reason: dynamo.DLQReasonSQSRedrive, ResolutionStatus: dynamo.DLQPending,
		Source: st.Names.Prefix + "-steps-fulfillment-dlq", Message: msg, CreatedAt: now, UpdatedAt: now}
	if err := st.Store.PutDLQEntry(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e.UUID
}

// waitTask waits until the task is in state want.
func waitTask(t *testing.T, st *devstack.Stack, id string, want statemachine.TaskState) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		task, err := st.Store.GetTask(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if task.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %s, want %s", id, task.State, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
