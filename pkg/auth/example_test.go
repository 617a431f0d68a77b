package auth_test

import (
	"context"
	"fmt"

	"github.com/tasker-go/tasker/pkg/auth"
)

func ExampleRequiredPermission() {
	for _, r := range [][2]string{
		{"POST", "/v1/tasks"},
		{"PATCH", "/v1/tasks/T/workflow_steps/S"},
		{"GET", "/health/ready"},
		{"GET", "/v1/not-a-route"},
	} {
		perm, needed := auth.RequiredPermission(r[0], r[1])
		if !needed {
			fmt.Println(r[0], r[1], "-> open")
			continue
		}
		fmt.Println(r[0], r[1], "->", perm)
	}
	// Output:
	// POST /v1/tasks -> tasks:create
	// PATCH /v1/tasks/T/workflow_steps/S -> steps:resolve
	// GET /health/ready -> open
	// GET /v1/not-a-route -> auth:admin
}

func ExampleAuthenticator_Authenticate() {
	a, err := auth.New(auth.Config{APIKeys: map[string]auth.KeyConfig{
		"tk_example-key-0123456789": {Name: "ci", Permissions: []string{"tasks:*"}},
	}})
	if err != nil {
		panic(err)
	}
	p, err := a.Authenticate(context.Background(), map[string]string{"x-api-key": "tk_example-key-0123456789"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Subject, p.Kind, p.Permissions)
	fmt.Println(auth.Authorize(p, auth.TasksCreate))
	err = auth.Authorize(p, auth.DLQRead)
	fmt.Println(err, auth.HTTPStatus(err))

	_, err = a.Authenticate(context.Background(), nil)
	fmt.Println(auth.HTTPStatus(err))
	// Output:
	// ci api_key tasks:*
	// <nil>
	// forbidden: ci lacks permission dlq:read 403
	// 401
}

func ExampleNewSet() {
	_, err := auth.NewSet("tasks:read", "*")
	fmt.Println(err)
	// Output:
	// invalid permission "*": a global wildcard is not allowed; grant each resource instead, e.g. "tasks:*"
}
