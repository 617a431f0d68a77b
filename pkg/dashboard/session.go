package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tasker-go/tasker/pkg/auth"
)

// Cookie names. The session cookie holds the operator's credential
// (base64url); without auth, a random seed for the CSRF token instead.
const (
	sessionCookie = "tasker_session"
	seedCookie    = "tasker_csrf_seed"
)

// maxCredential bounds a pasted key or token so its cookie stays within
// what browsers keep (about 4 KB).
const maxCredential = 2800

// errCrossOrigin: a form was posted from another origin.
var errCrossOrigin = errors.New("cross-origin request refused")

// session is an authenticated request's operator.
type session struct {
	principal *auth.Principal
	csrf      string // the token every mutating form must send back
	authOn    bool
}

// operator names the principal in audit records.
func (s *session) operator() string {
	if s.principal.Subject == auth.InsecureSubject {
		return "dashboard"
	}
	return s.principal.Subject
}

// handlerFunc serves an authenticated, authorized request.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

// authenticate reads the session: the cookie's credential through the
// authenticator, or (without auth) the insecure principal, setting the CSRF
// seed cookie on first visit. It returns auth.ErrUnauthenticated without a
// cookie, and the authenticator's errors.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*session, error) {
	if h.auth == nil {
		seed := ""
		if c, err := r.Cookie(seedCookie); err == nil && len(c.Value) >= 16 {
			seed = c.Value
		} else {
			seed = rand.Text()
			http.SetCookie(w, h.cookie(r, seedCookie, seed))
		}
		p := &auth.Principal{Subject: auth.InsecureSubject, Kind: auth.KindInsecure, Permissions: auth.FullSet()}
		return &session{principal: p, csrf: csrfToken(seed)}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, auth.ErrUnauthenticated
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, auth.ErrInvalidCredentials
	}
	cred := string(raw)
	p, err := h.auth.Authenticate(r.Context(), credentialHeaders(cred))
	if err != nil {
		return nil, err
	}
	return &session{principal: p, csrf: csrfToken(cred), authOn: true}, nil
}

// credentialHeaders turns a pasted credential into the headers the API
// would receive: a JWT (three dot-separated parts, or "Bearer …") as a
// bearer token, anything else as an API key.
func credentialHeaders(cred string) map[string]string {
	if tok, ok := strings.CutPrefix(cred, "Bearer "); ok {
		return map[string]string{auth.HeaderAuthorization: "Bearer " + strings.TrimSpace(tok)}
	}
	if strings.Count(cred, ".") == 2 && !strings.ContainsAny(cred, " \t") {
		return map[string]string{auth.HeaderAuthorization: "Bearer " + cred}
	}
	return map[string]string{auth.HeaderAPIKey: cred}
}

// csrfToken derives the session's CSRF token from its secret (the
// credential, or the seed): only someone who holds the secret can compute
// it, and it needs no server-side state.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("tasker-dashboard-csrf-v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkOrigin refuses a request a browser marks as sent from another
// site or origin.
func checkOrigin(r *http.Request) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCrossOrigin
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errCrossOrigin
		}
	}
	return nil
}

// cookie returns an HttpOnly, SameSite=Strict cookie for the dashboard's
// path, Secure when the request came over https.
func (h *Handler) cookie(r *http.Request, name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, Secure: isHTTPS(r),
		SameSite: http.SameSiteStrictMode}
}

// isHTTPS reports whether the browser used https (directly, or through a
// proxy or API Gateway that says so).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// page wraps a page: an unauthenticated request goes to the login page, an
// unauthorized one gets the 403 page.
func (h *Handler) page(fn handlerFunc, perms ...auth.Permission) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.authenticate(w, r)
		if err == nil {
			err = authorize(s, perms)
		}
		switch status := auth.HTTPStatus(err); status {
		case http.StatusOK:
			fn(w, r, s)
		case http.StatusUnauthorized:
			h.toLogin(w, r, err)
		default:
			h.errorPage(w, r, s, status, authMessage(err))
		}
	})
}

// api wraps a JSON endpoint of the live views: errors are JSON too.
func (h *Handler) api(fn handlerFunc, perms ...auth.Permission) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.authenticate(w, r)
		if err == nil {
			err = authorize(s, perms)
		}
		if status := auth.HTTPStatus(err); status != http.StatusOK {
			writeJSON(w, status, map[string]string{"error": authMessage(err)})
			return
		}
		fn(w, r, s)
	})
}

// action wraps a form that changes something: authenticated, then the
// CSRF token and the origin checked (403), then authorized.
func (h *Handler) action(fn handlerFunc, perms ...auth.Permission) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		s, err := h.authenticate(w, r)
		if auth.HTTPStatus(err) == http.StatusUnauthorized {
			h.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended; log in again.")
			return
		}
		if err == nil && (checkOrigin(r) != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.csrf))) {
			h.errorPage(w, r, s, http.StatusForbidden, "The form's security token is missing or stale. Reload the page and try again.")
			return
		}
		if err == nil {
			err = authorize(s, perms)
		}
		if status := auth.HTTPStatus(err); status != http.StatusOK {
			h.errorPage(w, r, s, status, authMessage(err))
			return
		}
		fn(w, r, s)
	})
}

func authorize(s *session, perms []auth.Permission) error {
	for _, p := range perms {
		if err := auth.Authorize(s.principal, p); err != nil {
			return err
		}
	}
	return nil
}

// authMessage says why a request was refused, without echoing credentials.
func authMessage(err error) string {
	var fe *auth.ForbiddenError
	switch {
	case errors.As(err, &fe):
		return "Your key does not grant " + string(fe.Permission) + ", which this page needs."
	case errors.Is(err, auth.ErrKeysUnavailable):
		return "Token signing keys are unavailable; try again shortly."
	case errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, auth.ErrInvalidCredentials):
		return "That API key or token was rejected."
	}
	return "The request could not be authenticated."
}

// toLogin redirects to the login page, back here afterwards; a cookie that
// no longer authenticates is cleared.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	q := url.Values{"next": {r.URL.RequestURI()}}
	if errors.Is(err, auth.ErrInvalidCredentials) {
		h.clearSession(w, r)
		q.Set("expired", "1")
	}
	http.Redirect(w, r, Prefix+"/login?"+q.Encode(), http.StatusSeeOther)
}

func (h *Handler) clearSession(w http.ResponseWriter, r *http.Request) {
	c := h.cookie(r, sessionCookie, "")
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// loginData is the login page's view.
type loginData struct {
	Next, Error string
}

// loginPage shows the form; without auth there is nothing to log in to.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.auth == nil {
		http.Redirect(w, r, Prefix+"/tasks", http.StatusSeeOther)
		return
	}
	d := loginData{Next: safeNext(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("expired") != "" {
		d.Error = "Your session is no longer valid; paste a key again."
	}
	h.show(w, r, nil, http.StatusOK, "login", "Log in", "", d)
}

// login checks the pasted credential with the authenticator and keeps it
// in the session cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.auth == nil {
		http.Redirect(w, r, Prefix+"/tasks", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := loginData{Next: safeNext(r.PostFormValue("next"))}
	if checkOrigin(r) != nil {
		d.Error = "Log in from this server's own page."
		h.show(w, r, nil, http.StatusForbidden, "login", "Log in", "", d)
		return
	}
	cred := strings.TrimSpace(r.PostFormValue("credential"))
	status := http.StatusOK
	switch {
	case cred == "":
		status, d.Error = http.StatusBadRequest, "Paste an API key or a JWT."
	case len(cred) > maxCredential:
		status, d.Error = http.StatusBadRequest, "That credential is too long to keep in a cookie."
	default:
		_, err := h.auth.Authenticate(r.Context(), credentialHeaders(cred))
		if status = auth.HTTPStatus(err); status != http.StatusOK {
			d.Error = authMessage(err)
		}
	}
	if status != http.StatusOK {
		h.show(w, r, nil, status, "login", "Log in", "", d)
		return
	}
	http.SetCookie(w, h.cookie(r, sessionCookie, base64.RawURLEncoding.EncodeToString([]byte(cred))))
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout clears the session cookie (a CSRF-checked form).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if s, err := h.authenticate(w, r); err == nil {
		if checkOrigin(r) != nil || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) {
			h.errorPage(w, r, s, http.StatusForbidden, "The form's security token is missing or stale.")
			return
		}
	}
	h.clearSession(w, r)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

// safeNext keeps a redirect target inside the dashboard.
func safeNext(next string) string {
	if next == Prefix || (strings.HasPrefix(next, Prefix+"/") && !strings.HasPrefix(next, "//") &&
		!strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, Prefix+"/login")) {
		return next
	}
	return Prefix + "/tasks"
}

// AuthOn reports whether the dashboard runs with authentication (for templates).
func (s *session) AuthOn() bool { return s.authOn }

// Subject names the logged-in principal (for templates).
func (s *session) Subject() string { return s.principal.Subject }

// Kind is the principal's kind: api_key, jwt or insecure (for templates).
func (s *session) Kind() string { return s.principal.Kind }

// CSRF is the token forms send back (for templates).
func (s *session) CSRF() string { return s.csrf }
