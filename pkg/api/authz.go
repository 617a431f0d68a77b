package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tasker-go/tasker/pkg/auth"
)

// Error codes of authentication and authorization.
const (
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeAuthUnavailable = "auth_unavailable"
)

// authorize checks that the request may use a route needing perm. Behind API
// Gateway the Lambda authorizer has already authenticated the caller and
// passed the principal on; the check is repeated here from that context.
// Otherwise the handler's own authenticator checks the credentials; with
// none configured (tasker dev --insecure, or a trusted caller) every
// request passes.
func (h *Handler) authorize(ctx context.Context, req events.APIGatewayV2HTTPRequest, perm auth.Permission) (response, bool) {
	var (
		p   *auth.Principal
		err error
	)
	switch {
	case req.RequestContext.Authorizer != nil && req.RequestContext.Authorizer.Lambda != nil:
		p, err = auth.PrincipalFromAuthorizerContext(req.RequestContext.Authorizer.Lambda)
	case h.auth != nil:
		p, err = h.auth.Authenticate(ctx, req.Headers)
	default:
		return response{}, true
	}
	if err == nil {
		err = auth.Authorize(p, perm)
	}
	switch status := auth.HTTPStatus(err); status {
	case http.StatusOK:
		return response{}, true
	case http.StatusUnauthorized:
		res := errorResponse(401, CodeUnauthenticated, authMessage(err), "")
		res.headers = map[string]string{"WWW-Authenticate": `Bearer realm="tasker", ApiKey header="X-API-Key"`}
		return res, false
	case http.StatusForbidden:
		return errorResponse(403, CodeForbidden, authMessage(err), ""), false
	case http.StatusServiceUnavailable:
		return errorResponse(503, CodeAuthUnavailable, "signing keys are unavailable; try again shortly", ""), false
	default:
		h.log.ErrorContext(ctx, "api: authentication failed", "error", err)
		return errorResponse(500, CodeInternal, "internal error", ""), false
	}
}

// authMessage says why a request was refused without echoing credentials.
func authMessage(err error) string {
	var fe *auth.ForbiddenError
	switch {
	case errors.As(err, &fe):
		return fe.Error()
	case errors.Is(err, auth.ErrUnauthenticated):
		return "credentials required: send X-API-Key or Authorization: Bearer <token>"
	default:
		return err.Error()
	}
}
