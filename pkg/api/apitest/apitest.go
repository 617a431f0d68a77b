// Package apitest serves Tasker's API over a real engine on the local AWS
// emulator (package localstack/localtest), for tests of the API and of its
// clients (package client, the tasker CLI):
//
//	srv := apitest.New(t, "../../templates/acceptance/linear.yaml")
//	c := client.New(srv.URL)
//
// Each server has its own table and queues; steps are enqueued but no worker
// runs them.
package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/tasker-go/tasker/localstack/localtest"
	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/dynamo"
	"github.com/tasker-go/tasker/pkg/engine"
	"github.com/tasker-go/tasker/pkg/localrun"
	"github.com/tasker-go/tasker/pkg/sqsqueue"
	"github.com/tasker-go/tasker/pkg/template"
)

// Server is a running API.
type Server struct {
	// URL is the base URL of the API, e.g. "http://127.0.0.1:41234".
	URL     string
	Engine  *engine.Engine
	Handler *api.Handler
	Fixture *localtest.Fixture
	// Templates are the templates registered at start.
	Templates []*template.Template
}

// Options adjust a Server.
type Options struct {
	// Logger receives the API's and engine's logs; default: discarded.
	Logger *slog.Logger
	// MaxBodyBytes is passed to api.Config.
	MaxBodyBytes int
}

// New parses and registers the template files, provisions a table and the
// queues of their namespaces, and serves the API over HTTP through
// api.HTTPHandler and localrun.Handler, as `tasker dev` does. Everything is
// torn down when the test ends. It fails t on any error.
func New(t testing.TB, templateFiles ...string) *Server {
	t.Helper()
	return NewWithOptions(t, Options{}, templateFiles...)
}

// NewWithOptions is New with options.
func NewWithOptions(t testing.TB, opts Options, templateFiles ...string) *Server {
	t.Helper()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var (
		tpls       []*template.Template
		namespaces []string
	)
	for _, f := range templateFiles {
		tpl, err := template.ParseFile(f)
		if err != nil {
			t.Fatalf("apitest: %v", err)
		}
		tpls = append(tpls, tpl)
		if !slices.Contains(namespaces, tpl.Namespace) {
			namespaces = append(namespaces, tpl.Namespace)
		}
	}
	fx := localtest.New(t, namespaces...)
	eng, err := engine.New(engine.Config{
		Store:  dynamo.New(fx.Env.DynamoDB, fx.Names.StateTable()),
		Queue:  sqsqueue.New(fx.Env.SQS, fx.Provisioned.QueueURLs),
		Names:  fx.Names,
		Logger: logger,
	})
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	for _, tpl := range tpls {
		if err := eng.RegisterTemplate(context.Background(), tpl); err != nil {
			t.Fatalf("apitest: %v", err)
		}
	}
	h, err := api.New(api.Config{Engine: eng, Logger: logger, MaxBodyBytes: opts.MaxBodyBytes, Version: "test"})
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	hs := httptest.NewServer(api.HTTPHandler(localrun.Handler(h.Handle)))
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, Engine: eng, Handler: h, Fixture: fx, Templates: tpls}
}
