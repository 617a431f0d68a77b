package devstack_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/devstack"
	"github.com/tasker-go/tasker/pkg/template"
)

// TestAuthMatrix drives the HTTP API of a stack with auth on: missing,
// wrong and under-privileged API keys, valid, expired and forged JWTs, and
// the open health routes.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	priv, pub, err := auth.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	otherPriv, _, err := auth.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	const admin, reader = "tk_admin_key_0123456789abcdef", "tk_reader_key_0123456789abcdef"
	a, err := auth.New(auth.Config{
		APIKeys: map[string]auth.KeyConfig{
			admin:  {Name: "admin", Permissions: []string{"tasks:*", "steps:*", "templates:*"}},
			reader: {Name: "reader", Permissions: []string{"tasks:read", "tasks:list"}},
		},
		JWT: &auth.JWTConfig{PublicKeyPEM: pub, Leeway: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	tpls, err := template.LoadDir("../../templates/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(context.Background(), devstack.Options{Env: localtest.Env(t), Prefix: "auth-" + time.Now().Format("150405.000000")[7:],
		Templates: tpls, APIAddr: "127.0.0.1:0", Auth: a, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	token := func(priv string, perms []string, ttl time.Duration) string {
		t.Helper()
		tok, err := auth.IssueToken(priv, "svc-billing", perms, ttl, "tasker-core", "tasker-api")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	expired := token(priv, []string{"tasks:create"}, time.Second)
	time.Sleep(1100 * time.Millisecond) // let it expire
	create := `{"namespace":"acceptance_linear","name":"mathematical_sequence","context":{"even_number":6},"idempotency_key":"%s"}`
	cases := []struct {
		name, method, path, body string
		headers                  map[string]string
		want                     int
	}{
		{"health is open", "GET", "/health", "", nil, 200},
		{"no credentials", "POST", "/v1/tasks", create, nil, 401},
		{"wrong key", "POST", "/v1/tasks", create, map[string]string{"X-API-Key": "tk_wrong_key_0123456789abcdef"}, 401},
		{"missing permission", "POST", "/v1/tasks", create, map[string]string{"X-API-Key": reader}, 403},
		{"reader may list", "GET", "/v1/tasks?namespace=acceptance_linear", "", map[string]string{"X-API-Key": reader}, 200},
		{"admin key", "POST", "/v1/tasks", create, map[string]string{"X-API-Key": admin}, 201},
		{"valid JWT", "POST", "/v1/tasks", create, map[string]string{"Authorization": "Bearer " + token(priv, []string{"tasks:create"}, time.Hour)}, 201},
		{"expired JWT", "POST", "/v1/tasks", create, map[string]string{"Authorization": "Bearer " + expired}, 401},
		{"forged JWT", "POST", "/v1/tasks", create, map[string]string{"Authorization": "Bearer " + token(otherPriv, []string{"tasks:create"}, time.Hour)}, 401},
		{"JWT without permission", "DELETE", "/v1/tasks/00000000-0000-4000-8000-000000000000", "", map[string]string{"Authorization": "Bearer " + token(priv, []string{"tasks:read"}, time.Hour)}, 403},
	}
	for i, c := range cases {
		body := c.body
		if strings.Contains(body, "%s") {
			body = strings.Replace(body, "%s", c.name+time.Now().Format("150405.000000")+string(rune('a'+i)), 1)
		}
		req, err := http.NewRequest(c.method, st.APIURL+c.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.want, msg)
		}
		if c.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
}
