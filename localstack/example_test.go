package localstack_test

import (
	"context"
	"fmt"

	"github.com/tasker-go/tasker/localstack"
	"github.com/tasker-go/tasker/pkg/resources"
)

// Start an embedded emulator on a random port and provision an installation
// with one worker namespace.
func ExampleStart() {
	ctx := context.Background()
	env, err := localstack.Start(ctx, localstack.Options{Addr: "127.0.0.1:0", Quiet: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()

	p, err := env.Provision(ctx, resources.Names{Prefix: "example"}, []string{"billing"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Table)
	fmt.Println(len(p.QueueURLs), "queues")
	// Output:
	// example-state
	// 6 queues
}
