// What a handler sees of the step it runs.
import type {
  BatchWorkerInputs, CheckpointRecord, CompensationInputs, JSONValue, StepErrorWire, StepMessage,
} from "./protocol.js";
import { isObject } from "./protocol.js";
import { rfc3339Nano } from "./timefmt.js";

/** The step has no result for the named parent (e.g. a branch a decision did not create). */
export class NoParentError extends Error {
  override name = "NoParentError";
}

/** The step is not a batch worker instance (BatchInputs), convergence step or compensation step. */
export class WrongStepTypeError extends Error {
  override name = "WrongStepTypeError";
}

/** The encoded checkpoint exceeds MAX_CHECKPOINT_BYTES. */
export class CheckpointTooLargeError extends Error {
  override name = "CheckpointTooLargeError";
}

/**
 * The step is no longer in progress on this attempt (the sweeper timed it out
 * or an operator intervened): the handler must stop, its result is dropped.
 */
export class AttemptSupersededError extends Error {
  override name = "AttemptSupersededError";
}

/** The largest encoded checkpoint (64 KiB). */
export const MAX_CHECKPOINT_BYTES = 64 * 1024;

/** One batch worker's outcome, as a convergence step sees it. */
export interface BatchResult {
  /** The worker instance's name, "<template>_<batch id>". */
  step: string;
  batchId: string;
  /** True when the worker failed for good (continue_on_failure let the convergence run). */
  failed: boolean;
  error?: StepErrorWire;
  result: JSONValue;
}

/** Saves a checkpoint record (JSON text) for the running attempt. */
export type CheckpointSaver = (checkpoint: string) => Promise<void>;

/**
 * A step as its handler sees it: identity, attempt, task context, handler
 * configuration, parent results and, for batch workers, inputs and
 * checkpoints. `signal` aborts at the step's deadline.
 */
export class Step {
  readonly taskUuid: string;
  readonly stepUuid: string;
  readonly name: string;
  /** The template step type: "", "standard", "decision", "batchable", "batch_worker", "deferred_convergence", "compensation". */
  readonly type: string;
  readonly namespace: string;
  readonly taskName: string;
  readonly taskVersion: string;
  /** The handler name this step was dispatched by. */
  readonly handler: string;
  readonly correlationId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** The task context (the task's input; normally an object). */
  readonly context: JSONValue;
  /** The handler's `initialization` map from the template ({} when none). */
  readonly config: JSONValue;
  /** Each direct parent step's name → its result. */
  readonly parents: Readonly<Record<string, JSONValue>>;
  /** Errors of parents that failed for good but still release this step. */
  readonly parentErrors: Readonly<Record<string, StepErrorWire>>;
  /** Which parents are batch worker instances. */
  readonly batchParents: readonly string[];
  /** Run-time inputs (batch-worker or compensation inputs); null when none. */
  readonly inputs: JSONValue;
  /** Aborts when the step's deadline passes; pass it to fetch() and AWS SDK calls. */
  readonly signal: AbortSignal;
  /** When the step's deadline passes. */
  readonly deadline: Date;
  /** The last checkpoint an earlier attempt (or this one) saved; null when none. */
  lastCheckpoint: CheckpointRecord | null;

  private readonly saver?: CheckpointSaver;
  private readonly now: () => Date;

  constructor(msg: StepMessage, opts: {
    signal: AbortSignal; deadline: Date; checkpoint?: JSONValue; inputs?: JSONValue; saveCheckpoint?: CheckpointSaver; now?: () => Date;
  }) {
    this.taskUuid = msg.task_uuid;
    this.stepUuid = msg.step_uuid;
    this.name = msg.step_name;
    this.type = msg.step_type ?? "";
    this.namespace = msg.namespace;
    this.taskName = msg.task_name;
    this.taskVersion = msg.task_version;
    this.handler = msg.handler;
    this.correlationId = msg.correlation_id;
    this.attempt = msg.attempt;
    this.maxAttempts = msg.max_attempts;
    this.context = msg.context ?? {};
    this.config = msg.config ?? {};
    this.parents = msg.parents ?? {};
    this.parentErrors = msg.parent_errors ?? {};
    this.batchParents = msg.batch_parents ?? [];
    this.inputs = opts.inputs ?? msg.inputs ?? null;
    const cp = opts.checkpoint ?? msg.checkpoint;
    this.lastCheckpoint = isObject(cp) ? (cp as unknown as CheckpointRecord) : null;
    this.signal = opts.signal;
    this.deadline = opts.deadline;
    this.saver = opts.saveCheckpoint;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * The key to pass to external systems so that a retried attempt does not
   * repeat a side effect: the step UUID, stable across attempts.
   */
  get idempotencyKey(): string {
    return this.stepUuid;
  }

  /** The task context as T; {} when the task has none. */
  getContext<T = Record<string, JSONValue>>(): T {
    return this.context as T;
  }

  /** One top-level field of the task context, or undefined. */
  contextValue<T = JSONValue>(key: string): T | undefined {
    return isObject(this.context) ? (this.context[key] as T | undefined) : undefined;
  }

  /** The handler's configuration as T; {} when the template sets none. */
  getConfig<T = Record<string, JSONValue>>(): T {
    return this.config as T;
  }

  /** Whether the step received a result from the named parent. */
  hasParent(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.parents, name);
  }

  /** The result of the direct parent step `name`; throws NoParentError when there is none. */
  parent<T = JSONValue>(name: string): T {
    if (!this.hasParent(name)) throw new NoParentError(`parent ${JSON.stringify(name)}: no such parent`);
    return this.parents[name] as T;
  }

  /** The names of the parents whose results the step received, sorted. */
  parentNames(): string[] {
    return Object.keys(this.parents).sort();
  }

  /** A batch worker's cursor and metadata; throws WrongStepTypeError for other steps. */
  batchInputs(): BatchWorkerInputs {
    if (this.type !== "" && this.type !== "batch_worker") {
      throw new WrongStepTypeError(`step ${this.name} has type ${JSON.stringify(this.type)}: not a batch worker`);
    }
    if (!isObject(this.inputs) || !isObject(this.inputs.cursor)) {
      throw new WrongStepTypeError(`step ${this.name} has no batch inputs: not a batch worker`);
    }
    return this.inputs as unknown as BatchWorkerInputs;
  }

  /** Every batch worker parent's outcome, ordered by step name; throws WrongStepTypeError for a step without batch parents. */
  batchResults(): BatchResult[] {
    if (this.batchParents.length === 0) throw new WrongStepTypeError(`step ${this.name} has no batch worker parents`);
    return [...this.batchParents].sort().map((n) => {
      const err = this.parentErrors[n];
      const i = n.lastIndexOf("_");
      return { step: n, batchId: i >= 0 ? n.slice(i + 1) : "", failed: err !== undefined, error: err, result: this.parents[n] ?? null };
    });
  }

  /** What a compensation step undoes; throws WrongStepTypeError for other steps. */
  compensationInputs(): CompensationInputs {
    if (this.type !== "compensation" || !isObject(this.inputs)) {
      throw new WrongStepTypeError(`step ${this.name} is not a compensation step`);
    }
    return this.inputs as unknown as CompensationInputs;
  }

  /**
   * Saves a batch worker's progress so that a later attempt resumes from
   * `cursor`: `itemsProcessed` items are done and `accumulated` holds partial
   * results. It throws CheckpointTooLargeError above 64 KiB and
   * AttemptSupersededError when the attempt is no longer in progress (stop
   * then). Saving does not extend the deadline.
   */
  async checkpoint(cursor: JSONValue, itemsProcessed: number, accumulated?: JSONValue): Promise<void> {
    if (!this.saver) throw new Error("checkpoint: step is not running under a worker");
    const rec: CheckpointRecord = { cursor: cursor ?? null, items_processed: itemsProcessed, timestamp: rfc3339Nano(this.now()) };
    if (accumulated !== undefined && accumulated !== null) rec.accumulated_results = accumulated;
    const data = JSON.stringify(rec);
    const bytes = Buffer.byteLength(data);
    if (bytes > MAX_CHECKPOINT_BYTES) {
      throw new CheckpointTooLargeError(`checkpoint ${this.name}: ${bytes} bytes, limit ${MAX_CHECKPOINT_BYTES}`);
    }
    await this.saver(data);
    this.lastCheckpoint = rec;
  }
}
