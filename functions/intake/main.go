// Command intake is the Lambda function behind the API Gateway HTTP API: it
// creates tasks and answers queries about them, and serves the operator
// dashboard under /ui. The dashboard authenticates with the authorizer's
// configuration (TASKER_API_KEYS, TASKER_JWT_*); without it /ui answers 503.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tasker-go/tasker/pkg/lambdafn"
)

func main() {
	deps, err := lambdafn.FromEnv(context.Background(), "intake")
	if err != nil {
		log.Fatalf("intake: %v", err)
	}
	authn, err := lambdafn.AuthFromEnv()
	if err != nil {
		deps.Logger.Warn("intake: the dashboard (/ui) is off", "reason", err.Error())
	}
	h, err := lambdafn.NewIntake(lambdafn.IntakeConfig{Engine: deps.Engine, Auth: authn, Logger: deps.Logger})
	if err != nil {
		log.Fatalf("intake: %v", err)
	}
	lambda.Start(lambdafn.WithFlush(deps.Telemetry, deps.Logger, h.Handle))
}
