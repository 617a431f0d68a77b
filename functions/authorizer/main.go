// Command authorizer is the API Gateway HTTP API Lambda authorizer (payload
// format 2.0, simple responses) in front of the intake function. It reads
// its keys from the environment; see docs/auth.md.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/auth"
)

func main() {
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		log.Fatalf("authorizer: %v", err)
	}
	a, err := auth.New(cfg)
	if err != nil {
		log.Fatalf("authorizer: %v", err)
	}
	lambda.Start(auth.NewLambdaAuthorizer(a, nil).Handle)
}
