// Command app is Tasker's CDK app: cdk.json runs it (`make synth`,
// `make deploy`). It reads the stage and switches from CDK context (see
// infra.ConfigFromContext), builds the stack "Tasker-<stage>" and checks it
// with cdk-nag's AwsSolutions rules.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/tasker-go/tasker/infra"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := infra.ModuleRoot(wd)
	if err != nil {
		return err
	}
	lookup := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	cfg, err := infra.ConfigFromContext(root, lookup, os.Getenv)
	if err != nil {
		return err
	}
	if _, err := infra.NewStack(app, cfg); err != nil {
		return err
	}
	infra.AddNagChecks(app)
	app.Synth(nil)
	return nil
}
