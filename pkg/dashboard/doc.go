// Package dashboard is Tasker's operator web UI, served by the API under
// /ui: a task list with filters and live counts by state, a task page with
// the DAG drawn as SVG (laid out here in Go: longest-path layers ordered by
// barycenter) that updates while the task runs, each step's attempts,
// timings, result and error and the audit timeline, a dead-letter view
// with the manual step actions and DLQ resolution behind a confirmation
// dialog, and a template browser with each template's graph.
//
// Pages are rendered on the server with html/template; one small
// hand-written script (live refresh, dialogs) and one stylesheet are
// embedded in the binary, so the dashboard needs no build step and loads
// nothing from elsewhere (its Content-Security-Policy allows only itself).
//
// Authentication is the API's: an operator pastes an API key or a JWT on
// the login page; it is kept in an HttpOnly, SameSite=Strict cookie (Secure
// over https) and every request is authenticated from it by the same
// [auth.Authenticator], with the same permissions as the API routes the
// page stands for. Without an authenticator (tasker dev --insecure) there
// is no login. Every form that changes something carries a CSRF token
// derived from the session, and a cross-origin Origin is refused.
package dashboard
