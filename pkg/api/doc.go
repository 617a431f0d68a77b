// Package api is Tasker's intake HTTP API: an Amazon API Gateway HTTP API
// (payload format 2.0) Lambda handler that creates, lists, cancels, pauses
// and resumes tasks, reads tasks, steps, their audit trail and the registered
// templates, applies operators' manual step actions (reset for retry, resolve
// or complete by hand) and serves the dead-letter queue's investigation
// records. Its routes and JSON follow Tasker Core's REST API (docs/api.md
// lists the differences; docs/openapi.yaml describes every route).
//
// [Handler.Handle] has the concrete signature lambda.Start expects. Every
// request gets a response: problems with a request are answered with the
// error envelope
//
//	{"error": {"code": "invalid_request", "message": "...", "field": "namespace"}}
//
// and unexpected failures are logged with the request id and answered with a
// 500 whose message names the request id, never the Go error.
//
// [HTTPHandler] adapts any such Lambda handler to net/http by building the
// same API Gateway event a real deployment receives; `tasker dev` serves the
// API through it, and the tests use it with httptest.
//
// The response types ([TaskResponse], [StepResponse], [AuditEntry], ...) are
// shared with the Go client in package client.
package api
