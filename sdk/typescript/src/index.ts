// @tasker-go/worker: Tasker's worker SDK for TypeScript and JavaScript. It
// implements the worker side of docs/protocol.md, like the Go SDK (pkg/worker):
// take a step message from a namespace's SQS step queue, claim the step in the
// DynamoDB state table, run the registered handler, report the result on the
// results queue and acknowledge the message.
export * from "./protocol.js";
export * from "./errors.js";
export * from "./outcomes.js";
export * from "./step.js";
export * from "./registry.js";
export * from "./store.js";
export * from "./worker.js";
export * from "./lambda.js";
export * from "./poller.js";
export * from "./env.js";
export * from "./log.js";
export { rfc3339Nano, sortableTime } from "./timefmt.js";
