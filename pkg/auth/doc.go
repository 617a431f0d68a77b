// Package auth authenticates and authorizes callers of Tasker's API.
//
// A caller is a Principal: an API key (header X-API-Key) or an RS256 JWT
// (header Authorization: Bearer …) together with the permissions it
// carries. Permissions are "resource:action" strings from a fixed
// vocabulary (see All); "resource:*" grants every action of one resource,
// and a bare "*" is rejected, as are unknown permissions.
//
// RequiredPermission is the route table: it names the permission each API
// route needs, leaves the health routes open and asks for AuthAdmin on any
// route it does not know. LambdaAuthorizer applies all of this as an API
// Gateway HTTP API Lambda authorizer; `tasker dev` applies it in process.
//
// GenerateAPIKey, GenerateKeyPair, IssueToken and PublicJWKS are the tooling
// behind the `tasker auth …` commands. docs/auth.md describes the
// configuration.
package auth
