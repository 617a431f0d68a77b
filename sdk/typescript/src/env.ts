// Configuration from the environment, for workers started by scripts,
// containers and the conformance suite.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "./log.js";
import type { Registry } from "./registry.js";
import { DynamoStateStore } from "./store.js";
import { Worker } from "./worker.js";

/** What a worker needs to know about its installation. */
export interface EnvConfig {
  /** AWS region (AWS_REGION, default us-east-1). */
  region: string;
  /** A custom AWS endpoint such as local AWS (AWS_ENDPOINT_URL); undefined for AWS itself. */
  endpoint?: string;
  /** The resource-name prefix (TASKER_PREFIX, default "tasker"). */
  prefix: string;
  /** The namespace whose step queue the worker consumes (TASKER_NAMESPACE). */
  namespace: string;
  /** TASKER_STATE_TABLE, default "<prefix>-state". */
  stateTable: string;
  /** TASKER_STEP_QUEUE_URL (required to poll). */
  stepQueueUrl: string;
  /** TASKER_RESULTS_QUEUE_URL (required). */
  resultsQueueUrl: string;
  /** TASKER_WORKER_ID, default "<hostname>-<pid>-<random hex>". */
  workerId?: string;
}

/** Reads EnvConfig from env (default process.env); throws naming every missing variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const prefix = env.TASKER_PREFIX || "tasker";
  const cfg: EnvConfig = {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    prefix,
    namespace: env.TASKER_NAMESPACE || "",
    stateTable: env.TASKER_STATE_TABLE || `${prefix}-state`,
    stepQueueUrl: env.TASKER_STEP_QUEUE_URL || "",
    resultsQueueUrl: env.TASKER_RESULTS_QUEUE_URL || "",
    workerId: env.TASKER_WORKER_ID || undefined,
  };
  const missing = [
    ["TASKER_STEP_QUEUE_URL", cfg.stepQueueUrl],
    ["TASKER_RESULTS_QUEUE_URL", cfg.resultsQueueUrl],
  ].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) throw new Error(`missing environment: ${missing.join(", ")}`);
  return cfg;
}

/** Builds a Worker on real AWS clients (created once) from cfg. */
export function workerFromConfig(cfg: EnvConfig, registry: Registry, logger?: Logger): Worker {
  const clientCfg = { region: cfg.region, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) };
  return new Worker({
    store: new DynamoStateStore(new DynamoDBClient(clientCfg), cfg.stateTable),
    sqs: new SQSClient(clientCfg),
    resultsQueueUrl: cfg.resultsQueueUrl,
    registry,
    workerId: cfg.workerId,
    logger,
  });
}
