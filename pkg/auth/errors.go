package auth

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors callers branch on. HTTPStatus maps them to status codes.
var (
	// ErrUnauthenticated: the request carries no credentials (401).
	ErrUnauthenticated = errors.New("no credentials: send an X-API-Key header or an Authorization: Bearer token")
	// ErrInvalidCredentials: the key is unknown, or the token is malformed,
	// forged, expired, not yet valid, for another issuer or audience, or
	// signed with an algorithm other than RS256 (401).
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrForbidden: the principal lacks the permission (403). The error is a
	// *ForbiddenError naming the permission.
	ErrForbidden = errors.New("forbidden")
	// ErrKeysUnavailable: the JWKS could not be fetched and no usable cached
	// copy is left; the fault is the server's, not the caller's (503).
	ErrKeysUnavailable = errors.New("token verification keys unavailable")
	// ErrInvalidPermission: a permission string is not in the vocabulary.
	ErrInvalidPermission = errors.New("invalid permission")
)

// ForbiddenError says which permission a principal lacks. It matches
// ErrForbidden with errors.Is.
type ForbiddenError struct {
	Subject    string
	Permission Permission
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: %s lacks permission %s", e.Subject, e.Permission)
}

// Is reports whether target is ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// HTTPStatus returns the status code for an error of this package: 401 for
// ErrUnauthenticated and ErrInvalidCredentials, 403 for ErrForbidden, 503
// for ErrKeysUnavailable, 500 for anything else, and 200 for nil.
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrInvalidCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrKeysUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// invalid wraps ErrInvalidCredentials with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCredentials, fmt.Sprintf(format, args...))
}
