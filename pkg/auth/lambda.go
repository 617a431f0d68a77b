package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Keys of the context the Lambda authorizer returns. API Gateway passes it
// to the integration as requestContext.authorizer.lambda.
const (
	ContextPrincipal   = "principal"
	ContextKind        = "kind"
	ContextPermissions = "permissions"
	// ContextPermission is the permission the route required; empty on an
	// open route.
	ContextPermission = "permission"
)

// KindAnonymous is the kind the authorizer reports on an open route, which
// it lets through without looking at credentials.
const KindAnonymous = "anonymous"

// LambdaAuthorizer is an API Gateway HTTP API Lambda authorizer (payload
// format 2.0, simple responses). It is safe for concurrent use.
type LambdaAuthorizer struct {
	auth *Authenticator
	log  *slog.Logger
}

// NewLambdaAuthorizer returns an authorizer over a; a nil logger means
// slog.Default().
func NewLambdaAuthorizer(a *Authenticator, logger *slog.Logger) *LambdaAuthorizer {
	if logger == nil {
		logger = slog.Default()
	}
	return &LambdaAuthorizer{auth: a, log: logger}
}

// Handle authorizes one request. It finds the route's permission with
// RequiredPermission from the HTTP method and the raw path (without the
// stage prefix), authenticates the headers and answers IsAuthorized with
// the context keys Context*. Open routes are authorized without looking at
// credentials. A denial is an answer, not an error (API Gateway turns it
// into a 403); Handle returns an error only when the JWKS cannot be
// fetched (ErrKeysUnavailable; API Gateway answers 500).
func (h *LambdaAuthorizer) Handle(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	method, path := authorizerRoute(req)
	deny := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
	perm, needed := RequiredPermission(method, path)
	log := h.log.With("request_id", req.RequestContext.RequestID, "method", method, "path", path)
	if !needed {
		return allow(&Principal{Subject: "", Kind: KindAnonymous}, ""), nil
	}
	p, err := h.auth.Authenticate(ctx, req.Headers)
	if errors.Is(err, ErrKeysUnavailable) {
		log.ErrorContext(ctx, "auth: cannot verify token", "error", err)
		return deny, fmt.Errorf("authorize %s %s: %w", method, path, err)
	}
	if err == nil {
		err = Authorize(p, perm)
	}
	if err != nil {
		log.InfoContext(ctx, "auth: denied", "permission", perm, "status", HTTPStatus(err), "reason", err.Error())
		return deny, nil
	}
	return allow(p, perm), nil
}

func allow(p *Principal, perm Permission) events.APIGatewayV2CustomAuthorizerSimpleResponse {
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{
		IsAuthorized: true,
		Context: map[string]any{
			ContextPrincipal:   p.Subject,
			ContextKind:        p.Kind,
			ContextPermissions: p.Permissions.String(),
			ContextPermission:  string(perm),
		},
	}
}

// authorizerRoute returns the method and the path of the request, the path
// without a named stage's prefix (rawPath includes it), as package api
// reads it.
func authorizerRoute(req events.APIGatewayV2CustomAuthorizerV2Request) (string, string) {
	method := strings.ToUpper(req.RequestContext.HTTP.Method)
	if method == "" {
		if m, _, ok := strings.Cut(req.RouteKey, " "); ok {
			method = strings.ToUpper(m)
		}
	}
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if stage := req.RequestContext.Stage; stage != "" && stage != "$default" {
		if rest, ok := strings.CutPrefix(p, "/"+stage+"/"); ok {
			p = "/" + rest
		}
	}
	return method, p
}

// PrincipalFromAuthorizerContext reads back the principal a
// LambdaAuthorizer put in the context (requestContext.authorizer.lambda of
// the integration's request). It returns ErrUnauthenticated when the
// context holds no principal and ErrInvalidCredentials when its
// permissions do not parse.
func PrincipalFromAuthorizerContext(lambdaCtx map[string]any) (*Principal, error) {
	subject, _ := lambdaCtx[ContextPrincipal].(string)
	kind, _ := lambdaCtx[ContextKind].(string)
	if kind == "" || kind == KindAnonymous {
		return nil, ErrUnauthenticated
	}
	raw, _ := lambdaCtx[ContextPermissions].(string)
	var perms []string
	if raw != "" {
		perms = strings.Split(raw, ",")
	}
	set, err := NewSet(perms...)
	if err != nil {
		return nil, invalid("authorizer context: %v", err)
	}
	return &Principal{Subject: subject, Kind: kind, Permissions: set}, nil
}
