package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/api/apitest"
)

// TestRegisterTemplate registers templates over HTTP: a valid one (twice),
// a changed body under the same version, an invalid one and one whose
// namespace has no step queue.
func TestRegisterTemplate(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "../../templates/acceptance/linear.yaml")
	yaml := "namespace: %s\nname: fresh\nversion: \"1.0.0\"\nsteps:\n  - {name: only, handler: %s}\n"
	body := func(ns, handler string) string {
		return strings.Replace(strings.Replace(yaml, "%s", ns, 1), "%s", handler, 1)
	}
	ns := srv.Templates[0].Namespace

	got := decode[api.TemplateSummary](t, do(t, srv.Handler, "POST", "/v1/templates", body(ns, "a")), 201)
	require.Equal(t, api.TemplateSummary{Namespace: ns, Name: "fresh", Version: "1.0.0", StepCount: 1}, got)
	decode[api.TemplateSummary](t, do(t, srv.Handler, "POST", "/v1/templates", body(ns, "a")), 201)

	errorOf(t, do(t, srv.Handler, "POST", "/v1/templates", body(ns, "b")), 409, api.CodeConflict)
	e := errorOf(t, do(t, srv.Handler, "POST", "/v1/templates", "namespace: x\nname: y\nversion: \"1.0.0\"\nsteps: []\n"), 400, api.CodeInvalidTemplate)
	require.NotEmpty(t, e.Field)
	e = errorOf(t, do(t, srv.Handler, "POST", "/v1/templates", body("no_queue_here", "a")), 400, api.CodeInvalidTemplate)
	require.Contains(t, e.Message, "no step queue")
	// The registered template is listed.
	list := decode[[]api.TemplateSummary](t, do(t, srv.Handler, "GET", "/v1/templates", ""), 200)
	found := false
	for _, s := range list {
		found = found || (s.Namespace == ns && s.Name == "fresh")
	}
	require.True(t, found)
}
