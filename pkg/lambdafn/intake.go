package lambdafn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tasker-go/tasker/pkg/api"
	"github.com/tasker-go/tasker/pkg/auth"
	"github.com/tasker-go/tasker/pkg/dashboard"
	"github.com/tasker-go/tasker/pkg/engine"
)

// ErrAuthNotConfigured is returned by AuthFromEnv when the environment
// configures no API key and no JWT, or turns authentication off.
var ErrAuthNotConfigured = errors.New("no API keys and no JWT configured (TASKER_API_KEYS, TASKER_JWT_*)")

// dashboardOffMessage answers /ui when the intake has no authenticator.
const dashboardOffMessage = "The Tasker dashboard is turned off: this deployment's intake function has no API keys " +
	"or JWT settings (TASKER_API_KEYS, TASKER_JWT_*), and the dashboard is never served without authentication. " +
	"See docs/dashboard.md."

// AuthFromEnv builds the authenticator the authorizer function builds, from
// the same environment (auth.ConfigFromEnv). It returns
// ErrAuthNotConfigured when nothing is configured or TASKER_AUTH_DISABLED is
// set, and the configuration's error when it is malformed.
func AuthFromEnv() (*auth.Authenticator, error) { return AuthFromLookup(os.LookupEnv) }

// AuthFromLookup is AuthFromEnv reading variables through lookup.
func AuthFromLookup(lookup func(string) (string, bool)) (*auth.Authenticator, error) {
	cfg, err := auth.ConfigFromLookup(lookup)
	if err != nil {
		return nil, err
	}
	if cfg.Disabled || (len(cfg.APIKeys) == 0 && cfg.JWT == nil) {
		return nil, ErrAuthNotConfigured
	}
	return auth.New(cfg)
}

// IntakeConfig wires an Intake.
type IntakeConfig struct {
	// Engine serves the API and the dashboard; required.
	Engine *engine.Engine
	// Auth authenticates the dashboard's sessions (from its cookie) and is
	// the API's check for a request that reaches it without the Lambda
	// authorizer's principal. Nil, or a disabled authenticator, turns the
	// dashboard off: /ui answers 503 instead of serving it open.
	Auth *auth.Authenticator
	// Logger receives one line per dashboard request and internal errors;
	// default slog.Default().
	Logger *slog.Logger
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// Intake is the intake function's handler behind the HTTP API: /ui and
// every path under it go to the operator dashboard (package dashboard,
// through an HTTPAdapter), everything else to the API (package api).
type Intake struct {
	api *api.Handler
	ui  *HTTPAdapter // nil: the dashboard is off
	log *slog.Logger
}

// NewIntake builds the handler. It returns an error when Config.Engine is
// missing or the dashboard's templates do not parse.
func NewIntake(cfg IntakeConfig) (*Intake, error) {
	if cfg.Auth != nil && cfg.Auth.Disabled() {
		cfg.Auth = nil
	}
	log := logger(cfg.Logger)
	a, err := api.New(api.Config{Engine: cfg.Engine, Logger: log, Clock: cfg.Clock, Auth: cfg.Auth})
	if err != nil {
		return nil, err
	}
	in := &Intake{api: a, log: log}
	if cfg.Auth != nil {
		ui, err := dashboard.New(dashboard.Config{Engine: cfg.Engine, Auth: cfg.Auth, Logger: log, Clock: cfg.Clock})
		if err != nil {
			return nil, err
		}
		in.ui = NewHTTPAdapter(ui, log)
	}
	return in, nil
}

// DashboardOn reports whether the dashboard is served (an authenticator
// was configured).
func (in *Intake) DashboardOn() bool { return in.ui != nil }

// Handle serves one HTTP API (payload 2.0) request. It never returns an
// error; see api.Handler.Handle and HTTPAdapter.Handle.
func (in *Intake) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if !isDashboardRequest(ev) {
		return in.api.Handle(ctx, ev)
	}
	start := time.Now()
	resp := plainResponse(http.StatusServiceUnavailable, dashboardOffMessage)
	if in.ui != nil {
		resp, _ = in.ui.Handle(ctx, ev)
	}
	in.log.InfoContext(ctx, "dashboard request", "request_id", ev.RequestContext.RequestID,
		"method", ev.RequestContext.HTTP.Method, "path", eventPath(ev), "status", resp.StatusCode,
		"duration_ms", time.Since(start).Milliseconds())
	return resp, nil
}

// isDashboardRequest reports whether ev is for the dashboard: its path is
// /ui or under /ui/, or API Gateway matched it to a /ui route. The route
// counts on its own because those routes have no Lambda authorizer: a
// request they let through must never reach the API, whatever its raw path.
func isDashboardRequest(ev events.APIGatewayV2HTTPRequest) bool {
	route := ev.RouteKey
	if route == "" {
		route = ev.RequestContext.RouteKey
	}
	_, routePath, _ := strings.Cut(route, " ")
	return isDashboardPath(routePath) || isDashboardPath(eventPath(ev))
}

func isDashboardPath(p string) bool {
	return p == dashboard.Prefix || strings.HasPrefix(p, dashboard.Prefix+"/")
}
