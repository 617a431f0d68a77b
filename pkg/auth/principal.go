package auth

// Principal kinds.
const (
	KindAPIKey = "api_key"
	KindJWT    = "jwt"
	// KindInsecure is the principal of an authenticator with
	// Config.Disabled: every request, with or without credentials.
	KindInsecure = "insecure"
)

// InsecureSubject is the subject of the KindInsecure principal.
const InsecureSubject = "insecure"

// Principal is an authenticated caller.
type Principal struct {
	// Subject is the API key's name or the token's "sub" claim.
	Subject string
	// Kind is KindAPIKey, KindJWT or KindInsecure.
	Kind string
	// Permissions are what the key or token grants.
	Permissions Set
}

// Authorize returns nil when p holds perm, a *ForbiddenError (matching
// ErrForbidden) naming perm when it does not, and ErrUnauthenticated when p
// is nil.
func Authorize(p *Principal, perm Permission) error {
	if p == nil {
		return ErrUnauthenticated
	}
	if !p.Permissions.Allows(perm) {
		return &ForbiddenError{Subject: p.Subject, Permission: perm}
	}
	return nil
}
