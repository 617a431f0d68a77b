// Package infra is Tasker's AWS CDK app in Go: the constructs that deploy
// the state table, the queues, the Lambda functions, the HTTP API, the
// schedules and their alarms. The app itself is infra/app (cdk.json runs
// it); this package is importable so your own CDK app can deploy Tasker and
// add worker functions for your namespaces:
//
//	stack, err := infra.NewStack(app, cfg)
//	...
//	infra.NewNamespaceWorker(stack, "OrdersWorker", &infra.NamespaceWorkerProps{
//		Tasker:    stack.Tasker,
//		Namespace: "orders",
//		Code:      awslambda.Code_FromAsset(jsii.String("bin/orders-worker"), nil),
//		MemoryMB:  512,
//	})
//
// Every table and queue is built from pkg/resources, the definitions the
// local provisioner uses, so names, keys, indexes, timeouts and redrive
// limits cannot drift between `tasker dev` and AWS. Functions find their
// resources the same way in both places: from TASKER_PREFIX.
package infra
