package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tasker-go/tasker/pkg/samplehandlers"
	"github.com/tasker-go/tasker/pkg/statemachine"
	"github.com/tasker-go/tasker/pkg/template"
	"github.com/tasker-go/tasker/pkg/worker"
)

var nodeRE = regexp.MustCompile(`<g class="node type-(\w+) ([\w -]+)" data-step="(\w+)"`)

// nodes returns each drawn node's step name and CSS classes.
func nodes(page string) map[string]string {
	out := map[string]string{}
	for _, m := range nodeRE.FindAllStringSubmatch(page, -1) {
		out[m[3]] = m[2]
	}
	return out
}

// TestDashboard drives the dashboard of a stack with auth on through HTTP:
// login, the task list with counts, the task page's graph, 404s, the CSRF
// guard and a manual step action that lets a failed task complete.
func TestDashboard(t *testing.T) {
	t.Parallel()
	tpls, err := template.LoadDir("../../templates/acceptance")
	if err != nil {
		t.Fatal(err)
	}
	reg := worker.NewRegistry()
	samplehandlers.RegisterAcceptance(reg)
	st := startStack(t, testAuth(t), reg, tpls)
	diamond := createTask(t, st, adminKey, `{"namespace":"acceptance_diamond","name":"diamond_pattern","context":{"even_number":4}}`)
	failing := createTask(t, st, adminKey, `{"namespace":"dashboard_test","name":"card_payment","context":{"order":"A-1"}}`)
	waitTask(t, st, diamond, statemachine.TaskComplete)
	waitTask(t, st, failing, statemachine.TaskError)

	t.Run("unauthenticated goes to login", func(t *testing.T) {
		b := newBrowser(t, st.APIURL)
		status, loc, _ := b.get("/ui/tasks/" + diamond)
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?next=%2Fui%2Ftasks%2F"+diamond) {
			t.Fatalf("status %d, location %q", status, loc)
		}
		if status, _, body := b.get("/ui/login"); status != 200 || !strings.Contains(body, `name="credential"`) {
			t.Fatalf("login page: %d", status)
		}
		if status, _, _ := b.get("/ui/api/tasks"); status != http.StatusUnauthorized {
			t.Fatalf("live JSON without session: %d, want 401", status)
		}
	})

	t.Run("wrong key is rejected", func(t *testing.T) {
		b := newBrowser(t, st.APIURL)
		status, _, body := b.do("POST", "/ui/login", url.Values{"credential": {"tk_wrong_0123456789abcdef"}}, nil)
		if status != http.StatusUnauthorized || !strings.Contains(body, "rejected") {
			t.Fatalf("status %d", status)
		}
		if status, _, _ := b.get("/ui/tasks"); status != http.StatusSeeOther {
			t.Fatalf("after a rejected login: %d, want a redirect to login", status)
		}
		// A forged cookie is no better than a wrong key.
		u, _ := url.Parse(st.APIURL + "/ui")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tasker_session", Value: "dGtfZm9yZ2Vk", Path: "/ui"}})
		if status, loc, _ := b.get("/ui/tasks"); status != http.StatusSeeOther || !strings.Contains(loc, "expired=1") {
			t.Fatalf("forged cookie: %d %q", status, loc)
		}
	})

	t.Run("cross-origin login is refused", func(t *testing.T) {
		b := newBrowser(t, st.APIURL)
		status, _, _ := b.do("POST", "/ui/login", url.Values{"credential": {adminKey}}, map[string]string{"Origin": "https://evil.example"})
		if status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", status)
		}
	})

	b := newBrowser(t, st.APIURL)
	b.login(adminKey)

	t.Run("list renders with counts", func(t *testing.T) {
		status, _, body := b.get("/ui/tasks")
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		for _, want := range []string{`<b>1</b> complete`, `<b>1</b> error`, `href="/ui/tasks/` + diamond + `"`, `href="/ui/tasks/` + failing + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("list lacks %s", want)
			}
		}
		status, _, body = b.get("/ui/tasks?namespace=acceptance_diamond")
		if status != 200 || strings.Contains(body, failing) || !strings.Contains(body, diamond) {
			t.Errorf("namespace filter: status %d, lists the failing task %t", status, strings.Contains(body, failing))
		}
		var live struct {
			Total  int `json:"total"`
			Counts []struct {
				State string `json:"state"`
				Count int    `json:"count"`
			} `json:"counts"`
			Tasks []struct {
				UUID string `json:"task_uuid"`
			} `json:"tasks"`
		}
		status, _, body = b.get("/ui/api/tasks?state=error")
		if err := json.Unmarshal([]byte(body), &live); err != nil || status != 200 {
			t.Fatalf("live JSON: %d %v", status, err)
		}
		if live.Total != 2 || len(live.Tasks) != 1 || live.Tasks[0].UUID != failing {
			t.Errorf("live JSON: total %d, tasks %+v", live.Total, live.Tasks)
		}
	})

	t.Run("task page draws one node per step with its state", func(t *testing.T) {
		status, _, body := b.get("/ui/tasks/" + diamond)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		got := nodes(body)
		steps, err := st.Store.ListSteps(context.Background(), diamond)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(steps) || len(steps) != 4 || !strings.Contains(body, `<svg class="dag"`) {
			t.Fatalf("nodes %v for %d steps", got, len(steps))
		}
		for _, s := range steps {
			if got[s.Name] != "state-complete" {
				t.Errorf("node %s has classes %q, want state-complete", s.Name, got[s.Name])
			}
		}
		if n := strings.Count(body, `<path class="edge"`); n != 4 {
			t.Errorf("%d edges, want 4", n)
		}
		if !strings.Contains(body, "Audit timeline") || !strings.Contains(body, "steps_in_process") {
			t.Error("no audit timeline")
		}
		_, _, body = b.get("/ui/tasks/" + failing)
		got = nodes(body)
		want := map[string]string{"prepare": "state-complete", "charge_card": "state-error", "send_receipt": "state-pending"}
		for name, class := range want {
			if got[name] != class {
				t.Errorf("node %s: %q, want %q", name, got[name], class)
			}
		}
		if !strings.Contains(body, "card declined: do not honor") || !strings.Contains(body, `data-action="resolve_manually"`) {
			t.Error("the failed step shows no error or no actions")
		}
	})

	t.Run("unknown task is a 404 page", func(t *testing.T) {
		for _, p := range []string{"/ui/tasks/00000000-0000-4000-8000-000000000000", "/ui/tasks/not-a-uuid", "/ui/nowhere"} {
			status, _, body := b.get(p)
			if status != http.StatusNotFound || !strings.Contains(body, "404") || !strings.Contains(body, "<html") {
				t.Errorf("%s: status %d", p, status)
			}
		}
	})

	t.Run("escapes what it shows", func(t *testing.T) {
		_, _, body := b.get("/ui/nowhere<script>alert(1)</script>")
		if strings.Contains(body, "<script>alert") {
			t.Error("the path was not escaped")
		}
	})

	steps, err := st.Store.ListSteps(context.Background(), failing)
	if err != nil {
		t.Fatal(err)
	}
	var charge string
	for _, s := range steps {
		if s.Name == "charge_card" {
			charge = s.UUID
		}
	}
	actionURL := "/ui/tasks/" + failing + "/steps/" + charge + "/action"
	form := url.Values{"action_type": {"resolve_manually"}, "reason": {"charged by phone"}}

	t.Run("action without CSRF token is forbidden", func(t *testing.T) {
		if status, _, _ := b.do("POST", actionURL, form, nil); status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", status)
		}
		_, _, page := b.get("/ui/tasks/" + failing)
		bad := url.Values{"csrf": {csrf(t, page)}}
		for k, v := range form {
			bad[k] = v
		}
		if status, _, _ := b.do("POST", actionURL, bad, map[string]string{"Origin": "https://evil.example"}); status != http.StatusForbidden {
			t.Fatalf("cross-origin with token: status %d, want 403", status)
		}
		if s, _ := st.Store.GetStep(context.Background(), failing, "charge_card"); s.State != statemachine.StepError {
			t.Fatalf("step is %s after refused actions", s.State)
		}
	})

	t.Run("reader may not open a task page or act", func(t *testing.T) {
		r := newBrowser(t, st.APIURL)
		r.login(readerKey)
		if status, _, body := r.get("/ui/tasks/" + failing); status != http.StatusForbidden || !strings.Contains(body, "steps:read") {
			t.Fatalf("status %d", status)
		}
		_, _, page := r.get("/ui/tasks")
		f := url.Values{"csrf": {csrf(t, page)}}
		for k, v := range form {
			f[k] = v
		}
		if status, _, _ := r.do("POST", actionURL, f, nil); status != http.StatusForbidden {
			t.Fatalf("action: status %d, want 403", status)
		}
	})

	t.Run("resolve manually completes the task", func(t *testing.T) {
		_, _, page := b.get("/ui/tasks/" + failing)
		f := url.Values{"csrf": {csrf(t, page)}, "return_to": {"/ui/tasks/" + failing}}
		for k, v := range form {
			f[k] = v
		}
		status, loc, body := b.do("POST", actionURL, f, map[string]string{"Origin": st.APIURL})
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/tasks/"+failing+"?done=resolve_manually") {
			t.Fatalf("status %d, location %q: %s", status, loc, body)
		}
		waitTask(t, st, failing, statemachine.TaskComplete)
		_, _, body = b.get("/ui/tasks/" + failing)
		if got := nodes(body); got["charge_card"] != "state-resolved_manually" || got["send_receipt"] != "state-complete" {
			t.Errorf("nodes after the action: %v", got)
		}
		if !strings.Contains(body, "charged by phone") {
			t.Error("the reason is not in the audit timeline")
		}
	})

	t.Run("templates and DLQ pages render", func(t *testing.T) {
		status, _, body := b.get("/ui/templates/acceptance_diamond/diamond_pattern/1.0.0")
		if status != 200 || len(nodes(body)) != 0 || strings.Count(body, `<g class="node type-standard"`) != 4 {
			t.Errorf("template page: status %d", status)
		}
		if status, _, _ := b.get("/ui/templates/acceptance_diamond/nothing/1.0.0"); status != http.StatusNotFound {
			t.Errorf("unknown template: status %d", status)
		}
		entry := putDeadLetter(t, st, `{"task_uuid":"lost"}`)
		status, _, body = b.get("/ui/dlq")
		if status != 200 || !strings.Contains(body, "Failed steps") || !strings.Contains(body, `data-url="/ui/dlq/`+entry+`"`) {
			t.Fatalf("DLQ page: status %d", status)
		}
		f := url.Values{"resolution_status": {"manually_resolved"}, "notes": {"replayed by hand"}}
		if status, _, _ := b.do("POST", "/ui/dlq/"+entry, f, nil); status != http.StatusForbidden {
			t.Errorf("DLQ update without token: %d, want 403", status)
		}
		f.Set("csrf", csrf(t, body))
		if status, loc, _ := b.do("POST", "/ui/dlq/"+entry, f, nil); status != http.StatusSeeOther || !strings.Contains(loc, "updated="+entry) {
			t.Fatalf("DLQ update: %d %q", status, loc)
		}
		e, err := st.Store.GetDLQEntry(context.Background(), entry)
		if err != nil || e.ResolutionStatus != "manually_resolved" || e.Notes != "replayed by hand" || e.ResolvedBy != "operator" {
			t.Errorf("entry after update: %+v, %v", e, err)
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		_, _, page := b.get("/ui/templates")
		if status, _, _ := b.do("POST", "/ui/logout", url.Values{"csrf": {csrf(t, page)}}, nil); status != http.StatusSeeOther {
			t.Fatalf("logout: %d", status)
		}
		if status, _, _ := b.get("/ui/tasks"); status != http.StatusSeeOther {
			t.Fatalf("after logout: %d, want a redirect to login", status)
		}
	})
}

// TestDashboardInsecure checks that without auth there is no login, and
// that forms still need the CSRF token.
func TestDashboardInsecure(t *testing.T) {
	t.Parallel()
	st := startStack(t, nil, worker.NewRegistry(), nil)
	failing := createTask(t, st, "", `{"namespace":"dashboard_test","name":"card_payment","context":{"order":"B-2"}}`)
	waitTask(t, st, failing, statemachine.TaskError)
	b := newBrowser(t, st.APIURL)
	status, _, page := b.get("/ui/tasks/" + failing)
	if status != 200 || !strings.Contains(page, "auth off") {
		t.Fatalf("task page without auth: %d", status)
	}
	if status, loc, _ := b.get("/ui/login"); status != http.StatusSeeOther || loc != "/ui/tasks" {
		t.Fatalf("login page without auth: %d %q", status, loc)
	}
	s, err := st.Store.GetStep(context.Background(), failing, "charge_card")
	if err != nil {
		t.Fatal(err)
	}
	actionURL := "/ui/tasks/" + failing + "/steps/" + s.UUID + "/action"
	form := url.Values{"action_type": {"complete_manually"}, "reason": {"paid in cash"}, "completion_data": {`{"charge_id":"cash"}`}}
	if status, _, _ := b.do("POST", actionURL, form, nil); status != http.StatusForbidden {
		t.Fatalf("action without token: %d, want 403", status)
	}
	form.Set("csrf", csrf(t, page))
	if status, _, body := b.do("POST", actionURL, form, nil); status != http.StatusSeeOther {
		t.Fatalf("action: %d %s", status, body)
	}
	waitTask(t, st, failing, statemachine.TaskComplete)
	done, err := st.Store.GetStep(context.Background(), failing, "charge_card")
	if err != nil {
		t.Fatal(err)
	}
	if string(done.Result) != `{"charge_id":"cash"}` {
		t.Errorf("result %s", done.Result)
	}
}
