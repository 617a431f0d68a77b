// The life of one step message (docs/protocol.md §2): decode, load the payload,
// claim, run the handler, report the result.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ErrorTypes, PermanentError, RetryableError, StepError, boundStepError, classifyFailure } from "./errors.js";
import { jsonLogger, type Logger } from "./log.js";
import { outcomeProblem } from "./outcomes.js";
import {
  DEFAULT_TIMEOUT_SECONDS, MAX_INLINE_BYTES, PROTOCOL_VERSION, isObject, parseStepMessage, payloadProblems,
  type JSONValue, type ResultMessage, type Status, type StepMessage,
} from "./protocol.js";
import type { Handler, Registry } from "./registry.js";
import { AttemptSupersededError, Step } from "./step.js";
import { ConflictError, PayloadNotFoundError, PayloadTooLargeError, type ClaimedStep, type StateStore } from "./store.js";
import { rfc3339Nano } from "./timefmt.js";

/** The part of the SQS client a worker uses. */
export type SQSSend = Pick<SQSClient, "send">;

/** How one message ended, as logged in `outcome` and returned by Worker.process. */
export type ProcessOutcome =
  | Status
  /** The claim failed on its condition (duplicate, stale, claimed elsewhere, or no such step): deleted, nothing run. */
  | "duplicate"
  /** Not a valid step message: deleted. */
  | "malformed"
  /** An infrastructure error prevented the payload load, the claim or the send: leave the message for redelivery. */
  | "redeliver";

/** The default bound on messages processed at once, by the Lambda handler and the poller. */
export const DEFAULT_CONCURRENCY = 10;

/** How long a handler may run past its deadline before the worker reports a timeout without it. */
export const OVERRUN_GRACE_MS = 2000;

/** The budget of storing and sending one result, detached from shutdown. */
export const REPORT_TIMEOUT_MS = 30_000;

/** The SQS message attribute carrying a result's correlation id. */
export const ATTR_CORRELATION_ID = "correlation_id";

/** Configures a Worker. */
export interface WorkerConfig {
  /** The state table (claims, payloads, checkpoints); DynamoStateStore in production. */
  store: StateStore;
  /** Sends results (and, for the poller, receives and deletes step messages). */
  sqs: SQSSend;
  /** The URL of `<prefix>-results`. */
  resultsQueueUrl: string;
  registry: Registry;
  /** Identifies this worker in step histories and results; default "<hostname>-<pid>-<random hex>". */
  workerId?: string;
  /** The time source for claims, checkpoints and results; default `() => new Date()`. */
  clock?: () => Date;
  /** Default: JSON lines on stderr; pass discardLogger to silence. */
  logger?: Logger;
  /** Called for each malformed message (logged and deleted); use it for a metric or alarm. */
  onMalformed?: (body: string, err: Error) => void;
}

/** Runs step handlers for step messages; safe to use concurrently. */
export class Worker {
  readonly id: string;
  readonly registry: Registry;
  readonly sqs: SQSSend;
  readonly log: Logger;
  private readonly store: StateStore;
  private readonly resultsUrl: string;
  private readonly clock: () => Date;
  private readonly onMalformed?: (body: string, err: Error) => void;

  /** Validates cfg; throws an Error naming every missing field. */
  constructor(cfg: WorkerConfig) {
    const missing = (["store", "sqs", "resultsQueueUrl", "registry"] as const).filter((k) => !cfg[k]);
    if (missing.length > 0) throw new Error(`invalid worker config: ${missing.join(", ")} required`);
    this.store = cfg.store;
    this.sqs = cfg.sqs;
    this.resultsUrl = cfg.resultsQueueUrl;
    this.registry = cfg.registry;
    this.id = cfg.workerId || defaultWorkerId();
    this.clock = cfg.clock ?? (() => new Date());
    this.log = cfg.logger ?? jsonLogger();
    this.onMalformed = cfg.onMalformed;
  }

  /**
   * Handles one step message body: decode, claim, run the handler and send the
   * result. The message must be deleted unless the outcome is "redeliver".
   * It never throws.
   */
  async process(body: string): Promise<ProcessOutcome> {
    let msg: StepMessage;
    try {
      msg = parseStepMessage(body);
    } catch (err) {
      this.log.error("step message rejected", { outcome: "malformed", bytes: Buffer.byteLength(body), error: (err as Error).message });
      this.onMalformed?.(body, err as Error);
      return "malformed";
    }
    try {
      return await this.handleMessage(msg);
    } catch (err) {
      this.logAttempt(msg, "redeliver", this.clock(), { error: errText(err) });
      return "redeliver";
    }
  }

  private async handleMessage(msg: StepMessage): Promise<ProcessOutcome> {
    const start = this.clock();
    const payloadErr = await this.loadPayload(msg); // throws for an infrastructure error
    let claimed: ClaimedStep;
    try {
      claimed = await this.store.claimStep({
        taskUuid: msg.task_uuid, stepName: msg.step_name, attempt: msg.attempt, timeoutSeconds: timeoutSeconds(msg),
        workerId: this.id, correlationId: msg.correlation_id, now: start,
        fromState: msg.from_state, enqueuedAt: msg.enqueued_at,
      });
    } catch (err) {
      if (err instanceof ConflictError) {
        this.logAttempt(msg, "duplicate", start);
        return "duplicate";
      }
      throw err;
    }
    const res = payloadErr
      ? this.failure(msg, start, new PermanentError(payloadErr.message, { errorType: ErrorTypes.invalidPayload }))
      : await this.execute(msg, claimed, start);
    await this.report(msg, res);
    this.logAttempt(msg, res.status, start, res.error ? { error_type: res.error.error_type, error: res.error.message } : res.result_ref ? { result_bytes: res.result_ref.bytes, result_out_of_line: true } : {});
    return res.status;
  }

  /**
   * Merges an out-of-line payload into msg. It returns an Error for a payload
   * that can never be used (the attempt then fails permanently after the
   * claim) and throws for a read that may succeed later.
   */
  private async loadPayload(msg: StepMessage): Promise<Error | undefined> {
    const ref = msg.payload_ref;
    if (!ref) return undefined;
    let data: Buffer;
    try {
      data = await this.store.loadPayload(ref);
    } catch (err) {
      if (err instanceof PayloadNotFoundError) return err;
      throw err;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(data.toString("utf8"));
    } catch (err) {
      return new Error(`decode step payload: ${(err as Error).message}`);
    }
    if (!isObject(payload)) return new Error("decode step payload: not a JSON object");
    const problems = payloadProblems(payload);
    if (problems.length > 0) return new Error(`decode step payload: ${problems.join("; ")}`);
    for (const k of ["context", "config", "parents", "parent_errors", "batch_parents", "inputs", "checkpoint"] as const) {
      if (payload[k] !== undefined) (msg as unknown as Record<string, unknown>)[k] = payload[k];
    }
    return undefined;
  }

  private async execute(msg: StepMessage, claimed: ClaimedStep, start: Date): Promise<ResultMessage> {
    const h = this.registry.lookup(msg.handler);
    if (!h) {
      return this.failure(msg, start, new PermanentError(`no handler registered for ${JSON.stringify(msg.handler)}`, { errorType: ErrorTypes.handlerNotFound }));
    }
    let value: JSONValue | undefined | void;
    try {
      value = await this.invoke(h, msg, claimed, timeoutSeconds(msg) * 1000);
    } catch (err) {
      return this.failure(msg, start, classifyFailure(err));
    }
    const checked = checkResult(value);
    if (checked instanceof StepError) return this.failure(msg, start, checked);
    return { ...this.resultBase(msg, start, "success"), result: checked };
  }

  /** Runs h with the step's deadline; a handler that ignores step.signal is abandoned OVERRUN_GRACE_MS after it. */
  private async invoke(h: Handler, msg: StepMessage, claimed: ClaimedStep, timeoutMs: number): Promise<JSONValue | undefined | void> {
    const ctrl = new AbortController();
    const deadline = new Date(this.clock().getTime() + timeoutMs);
    const step = new Step(msg, {
      signal: ctrl.signal, deadline, now: this.clock,
      checkpoint: parseJSONText(claimed.checkpoint), inputs: msg.inputs ?? parseJSONText(claimed.inputs),
      saveCheckpoint: async (cp) => {
        try {
          await this.store.saveCheckpoint(msg.task_uuid, msg.step_name, msg.attempt, cp, this.clock());
        } catch (err) {
          if (err instanceof ConflictError) {
            throw new AttemptSupersededError(`checkpoint ${msg.step_name} attempt ${msg.attempt}: attempt superseded`, { cause: err });
          }
          throw err;
        }
      },
    });
    const timers: NodeJS.Timeout[] = [];
    const expired = new Promise<never>((_, reject) => {
      timers.push(setTimeout(() => ctrl.abort(new DOMException(`step deadline of ${timeoutMs} ms passed`, "TimeoutError")), timeoutMs));
      timers.push(setTimeout(() => reject(new RetryableError(
        `handler did not return within ${OVERRUN_GRACE_MS} ms of its ${timeoutMs} ms deadline`, { errorType: ErrorTypes.timeout })), timeoutMs + OVERRUN_GRACE_MS));
    });
    try {
      return await Promise.race([Promise.resolve().then(() => h(step)), expired]);
    } catch (err) {
      // Past the deadline, an unclassified error is the deadline's doing.
      if (ctrl.signal.aborted && !(err instanceof StepError)) {
        throw new RetryableError(errText(err), { errorType: ErrorTypes.timeout, cause: err });
      }
      throw err;
    } finally {
      timers.forEach(clearTimeout);
    }
  }

  private resultBase(msg: StepMessage, start: Date, status: Status): ResultMessage {
    return {
      v: PROTOCOL_VERSION, task_uuid: msg.task_uuid, step_uuid: msg.step_uuid, step_name: msg.step_name,
      attempt: msg.attempt, correlation_id: msg.correlation_id, status, worker_id: this.id,
      started_at: rfc3339Nano(start), finished_at: "",
    };
  }

  private failure(msg: StepMessage, start: Date, e: StepError): ResultMessage {
    return { ...this.resultBase(msg, start, e.retryable ? "retryable_error" : "permanent_error"), error: boundStepError(e.toWire()) };
  }

  /** Stores an oversized result out of line and sends the result message; throws when either fails. */
  private async report(msg: StepMessage, res: ResultMessage): Promise<void> {
    const signal = AbortSignal.timeout(REPORT_TIMEOUT_MS);
    if (res.status === "success") {
      const data = Buffer.from(JSON.stringify(res.result), "utf8");
      if (data.length > MAX_INLINE_BYTES) {
        try {
          res.result_ref = await this.store.savePayload(msg.task_uuid, `${msg.step_name}#${msg.attempt}#result`, data);
          delete res.result;
        } catch (err) {
          if (!(err instanceof PayloadTooLargeError)) throw new Error(`store result of ${msg.step_name}: ${errText(err)}`, { cause: err });
          const failed = this.failure(msg, new Date(0), new PermanentError(err.message, { errorType: ErrorTypes.resultTooLarge }));
          Object.assign(res, { status: failed.status, error: failed.error });
          delete res.result;
        }
      }
    }
    res.finished_at = rfc3339Nano(this.clock());
    await this.sqs.send(new SendMessageCommand({
      QueueUrl: this.resultsUrl,
      MessageBody: JSON.stringify(res),
      MessageAttributes: res.correlation_id
        ? { [ATTR_CORRELATION_ID]: { DataType: "String", StringValue: res.correlation_id } }
        : undefined,
    }), { abortSignal: signal });
  }

  private logAttempt(msg: StepMessage, outcome: ProcessOutcome, start: Date, extra: Record<string, unknown> = {}): void {
    const attrs = {
      task_uuid: msg.task_uuid, step_uuid: msg.step_uuid, step: msg.step_name, namespace: msg.namespace, handler: msg.handler,
      correlation_id: msg.correlation_id, attempt: msg.attempt, outcome, duration_ms: this.clock().getTime() - start.getTime(),
      worker_id: this.id, ...extra,
    };
    if (outcome === "success") this.log.info("step attempt", attrs);
    else if (outcome === "retryable_error" || outcome === "duplicate") this.log.warn("step attempt", attrs);
    else this.log.error("step attempt", attrs);
  }
}

/**
 * Validates a handler's return value: JSON-encodable, with well-formed
 * embedded outcomes. undefined is {}. It returns the JSON value or a
 * permanent "invalid_result" error.
 */
export function checkResult(value: unknown): JSONValue | StepError {
  if (value === undefined) return {};
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return new PermanentError(`handler result is not JSON: ${errText(err)}`, { errorType: ErrorTypes.invalidResult });
  }
  if (text === undefined) return new PermanentError("handler result is not JSON", { errorType: ErrorTypes.invalidResult });
  const json = JSON.parse(text) as JSONValue;
  const problem = outcomeProblem(json);
  if (problem) return new PermanentError(`handler result: ${problem}`, { errorType: ErrorTypes.invalidResult });
  return json;
}

function timeoutSeconds(msg: StepMessage): number {
  return msg.timeout_seconds && msg.timeout_seconds > 0 ? msg.timeout_seconds : DEFAULT_TIMEOUT_SECONDS;
}

function parseJSONText(text: string | undefined): JSONValue | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as JSONValue;
  } catch {
    return undefined;
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function defaultWorkerId(): string {
  return `${hostname() || "worker"}-${process.pid}-${randomBytes(4).toString("hex")}`;
}
