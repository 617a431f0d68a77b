// Wire types of Tasker's worker protocol v1 (docs/protocol.md, schemas/*.json)
// and the parser for step messages.

/** The protocol version every message carries as `v`. */
export const PROTOCOL_VERSION = 1;

/** The largest payload that travels inline (200 KiB); larger ones are stored out of line. */
export const MAX_INLINE_BYTES = 200 * 1024;

/** The largest payload the state table holds (8 MiB). */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/** The bytes of one stored payload chunk (350 KiB). */
export const CHUNK_BYTES = 350 * 1024;

/** The most chunks one payload may have. */
export const MAX_CHUNKS = 24;

/** A step's deadline when its message names none, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Any JSON value. */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/** A JSON object. */
export type JSONObject = { [key: string]: JSONValue };

/** A failed attempt as it travels inside a result and in `parent_errors`. */
export interface StepErrorWire {
  message: string;
  error_type?: string;
  retryable: boolean;
  retry_after_seconds?: number;
  status_code?: number;
  context?: JSONValue;
  compensate?: boolean;
}

/** A payload stored in the state table because it was too large to travel inline. */
export interface PayloadRef {
  pk: string;
  sk: string;
  chunks: number;
  bytes: number;
}

/** The part of a step message that may be moved out of line. */
export interface StepPayload {
  context?: JSONValue;
  config?: JSONValue;
  parents?: Record<string, JSONValue>;
  parent_errors?: Record<string, StepErrorWire>;
  batch_parents?: string[];
  inputs?: JSONValue;
  checkpoint?: JSONValue;
}

/** One attempt of one step, as received from a namespace's step queue. */
export interface StepMessage extends StepPayload {
  v: number;
  task_uuid: string;
  step_uuid: string;
  step_name: string;
  namespace: string;
  task_name: string;
  task_version: string;
  handler: string;
  step_type?: string;
  attempt: number;
  max_attempts: number;
  timeout_seconds?: number;
  correlation_id: string;
  enqueued_at?: string;
  /** The stored state the claim moves from: absent or "enqueued", or "pending" (docs/protocol.md §5). */
  from_state?: "enqueued" | "pending";
  payload_ref?: PayloadRef;
}

/** The outcome of one attempt, as reported on the results queue. */
export type Status = "success" | "retryable_error" | "permanent_error";

/** What a worker sends to the results queue after an attempt. */
export interface ResultMessage {
  v: number;
  task_uuid: string;
  step_uuid: string;
  step_name: string;
  attempt: number;
  correlation_id: string;
  status: Status;
  result?: JSONValue;
  result_ref?: PayloadRef;
  error?: StepErrorWire;
  worker_id?: string;
  started_at: string;
  finished_at: string;
}

/** One batch of a batch outcome: a cursor range a batch worker processes. */
export interface CursorConfig {
  batch_id: string;
  start_cursor: JSONValue;
  end_cursor: JSONValue;
  batch_size?: number;
}

/** `decision_point_outcome` of a decision step's result. */
export type DecisionOutcome = { type: "create_steps"; step_names: string[] } | { type: "no_branches" };

/** `batch_processing_outcome` of a batchable step's result. */
export interface BatchOutcome {
  type: "create_batches" | "no_batches";
  worker_template_name?: string;
  worker_count?: number;
  cursor_configs?: CursorConfig[];
  total_items?: number;
}

/** A batch worker's `inputs`. */
export interface BatchWorkerInputs {
  cursor: CursorConfig;
  batch_metadata: {
    cursor_field?: string;
    failure_strategy?: string;
    batchable_step?: string;
  };
  is_no_op: boolean;
  __template_step_name?: string;
}

/** A compensation step's `inputs`. */
export interface CompensationInputs {
  compensates: string;
  result?: JSONValue;
  release?: string[];
}

/** A batch worker's saved progress. */
export interface CheckpointRecord {
  cursor: JSONValue;
  items_processed: number;
  accumulated_results?: JSONValue;
  timestamp: string;
}

/** Thrown by parseStepMessage for a body that is not a valid step message. */
export class InvalidMessageError extends Error {
  override name = "InvalidMessageError";
}

const requiredStrings = ["task_uuid", "step_uuid", "step_name", "handler", "namespace"] as const;
const optionalStrings = ["task_name", "task_version", "step_type", "correlation_id", "enqueued_at", "from_state"] as const;
const optionalIntegers = ["max_attempts", "timeout_seconds"] as const;

/**
 * Parses and validates a step message body (docs/protocol.md §2–3). Unknown
 * fields are ignored. It throws InvalidMessageError when the body is not JSON,
 * `v` is not 1, a required field is missing or empty, `attempt` < 1, or a
 * known field has the wrong JSON type: such a message can never succeed and is
 * deleted without a claim.
 */
export function parseStepMessage(body: string): StepMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new InvalidMessageError(`invalid message: not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) {
    throw new InvalidMessageError("invalid message: not a JSON object");
  }
  const problems: string[] = [];
  if (raw.v !== PROTOCOL_VERSION) {
    problems.push(`v: unsupported version ${JSON.stringify(raw.v ?? null)} (want ${PROTOCOL_VERSION})`);
  }
  for (const f of requiredStrings) {
    if (typeof raw[f] !== "string" || raw[f] === "") problems.push(`${f}: required`);
  }
  for (const f of optionalStrings) {
    if (raw[f] !== undefined && raw[f] !== null && typeof raw[f] !== "string") problems.push(`${f}: must be a string`);
  }
  for (const f of optionalIntegers) {
    if (raw[f] !== undefined && raw[f] !== null && !Number.isInteger(raw[f])) problems.push(`${f}: must be an integer`);
  }
  if (typeof raw.from_state === "string" && raw.from_state !== "enqueued" && raw.from_state !== "pending") {
    problems.push(`from_state: must be "enqueued" or "pending", got ${JSON.stringify(raw.from_state)}`);
  }
  if (!Number.isInteger(raw.attempt) || (raw.attempt as number) < 1) {
    problems.push(`attempt: must be an integer >= 1, got ${JSON.stringify(raw.attempt ?? null)}`);
  }
  problems.push(...payloadProblems(raw));
  if (raw.payload_ref !== undefined && raw.payload_ref !== null) {
    const ref = raw.payload_ref;
    if (!isObject(ref) || typeof ref.pk !== "string" || typeof ref.sk !== "string" ||
      !Number.isInteger(ref.chunks) || !Number.isInteger(ref.bytes)) {
      problems.push("payload_ref: must be {pk, sk, chunks, bytes}");
    }
  }
  if (problems.length > 0) {
    throw new InvalidMessageError(`invalid message: ${problems.join("; ")}`);
  }
  const msg = raw as unknown as StepMessage;
  msg.task_name ??= "";
  msg.task_version ??= "";
  msg.correlation_id ??= "";
  msg.max_attempts ??= 0;
  return msg;
}

/**
 * Lists what is wrong with the payload fields of a step message or of a
 * stored step payload (`context` … `checkpoint`).
 */
export function payloadProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  // context, config, inputs and checkpoint may hold any JSON, as in the Go
  // decoder; a handler that needs an object says so when it reads them.
  for (const f of ["parents", "parent_errors"] as const) {
    if (raw[f] !== undefined && raw[f] !== null && !isObject(raw[f])) problems.push(`${f}: must be an object`);
  }
  const bp = raw.batch_parents;
  if (bp !== undefined && bp !== null && !(Array.isArray(bp) && bp.every((x) => typeof x === "string"))) {
    problems.push("batch_parents: must be an array of strings");
  }
  return problems;
}

/** Reports whether v is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
