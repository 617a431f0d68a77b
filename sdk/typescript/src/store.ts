// The DynamoDB writes and reads a worker makes on the state table
// (docs/protocol.md §4–6): the claim, checkpoints and out-of-line payloads.
// DynamoDB errors become the domain errors below here, in one place.
import { randomBytes } from "node:crypto";
import {
  ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand,
  type AttributeValue, type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { CHUNK_BYTES, MAX_CHUNKS, MAX_PAYLOAD_BYTES, type PayloadRef } from "./protocol.js";
import { historyTime, rfc3339Nano, sortableTime } from "./timefmt.js";

/** The step is not enqueued for this attempt (a duplicate or stale delivery), or no longer in progress on it. */
export class ConflictError extends Error {
  override name = "ConflictError";
}

/** A stored payload is missing or does not match its reference; reads are strongly consistent, so this is final. */
export class PayloadNotFoundError extends Error {
  override name = "PayloadNotFoundError";
}

/** A payload exceeds what the state table holds (8 MiB). */
export class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

/** The grace the sweeper adds to a step's timeout before it treats the claim as abandoned. */
export const CLAIM_GRACE_SECONDS = 30;

/** What a successful claim returns of the step's item. */
export interface ClaimedStep {
  /** The item's checkpoint (JSON text), fresher than the message's; undefined when none. */
  checkpoint?: string;
  /** The item's inputs (JSON text), used when the message carried none. */
  inputs?: string;
}

/** The arguments of a claim. */
export interface ClaimRequest {
  taskUuid: string;
  stepName: string;
  attempt: number;
  timeoutSeconds: number;
  workerId: string;
  correlationId: string;
  now: Date;
  /** The message's from_state: "pending" claims a step the engine sent without storing its enqueue. */
  fromState?: string;
  /** The message's enqueued_at, as sent; recorded as the enqueue's time by a claim from pending. */
  enqueuedAt?: string;
}

/** The state-table operations a worker uses; DynamoStateStore implements them. */
export interface StateStore {
  /** Claims the step for the attempt; throws ConflictError for a duplicate or stale delivery or a missing step. */
  claimStep(req: ClaimRequest): Promise<ClaimedStep>;
  /** Loads an out-of-line payload; throws PayloadNotFoundError when it is missing or invalid. */
  loadPayload(ref: PayloadRef): Promise<Buffer>;
  /** Stores a payload in chunks under the task's partition; throws PayloadTooLargeError above 8 MiB. */
  savePayload(taskUuid: string, id: string, data: Buffer): Promise<PayloadRef>;
  /** Saves a checkpoint while the step is in progress on the attempt; throws ConflictError when it no longer is. */
  saveCheckpoint(taskUuid: string, stepName: string, attempt: number, checkpoint: string, now: Date): Promise<void>;
}

/** The part of the DynamoDB client the store uses. */
export type DynamoSend = Pick<DynamoDBClient, "send">;

// Every history attribute name of this process carries processSalt and a
// growing sequence, so names sort in write order and never collide.
const processSalt = randomBytes(4).toString("hex");
let historySeq = 0;

/** Returns the name of the history attribute of a write at t: "h_<time>_<process><seq>_<index>". */
export function historyName(t: Date, index = 0): string {
  return historyNames(t, index + 1)[index];
}

/** Returns the names of n history attributes of one write at t (one sequence number, indexes 00…). */
export function historyNames(t: Date, n: number): string[] {
  historySeq = (historySeq + 1) >>> 0;
  const base = `h_${historyTime(t)}_${processSalt}${historySeq.toString(16).padStart(8, "0")}_`;
  return Array.from({ length: n }, (_, i) => base + String(i).padStart(2, "0"));
}

const taskPK = (taskUuid: string) => `T#${taskUuid}`;
const stepSK = (stepName: string) => `S#${stepName}`;
const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });

/** Returns the exact claim request of docs/protocol.md §5 (exported for tests). */
export function claimInput(table: string, r: ClaimRequest) {
  const pk = taskPK(r.taskUuid);
  const sk = stepSK(r.stepName);
  const timeout = r.timeoutSeconds > 0 ? r.timeoutSeconds : 30;
  const due = new Date(r.now.getTime() + (timeout + CLAIM_GRACE_SECONDS) * 1000);
  const now = rfc3339Nano(r.now);
  const record: Record<string, AttributeValue> = {
    from: S("enqueued"), to: S("in_progress"), event: S("start"), attempt: N(r.attempt), at: S(now),
  };
  if (r.workerId) record.processor = S(r.workerId);
  if (r.correlationId) record.correlation_id = S(r.correlationId);
  const pending = r.fromState === "pending";
  const values: Record<string, AttributeValue> = {
    ":f0": S(pending ? "pending" : "enqueued"), ":a": N(r.attempt - 1), ":to": S("in_progress"), ":sa": N(r.attempt), ":now": S(now),
    ":due": S(sortableTime(due)),
  };
  const names: Record<string, string> = {};
  const hist = historyNames(r.now, pending ? 2 : 1);
  let set = "SET st = :to, updated_at = :now";
  if (pending) {
    // The engine sent the message without storing the enqueue: record it
    // here, at the message's time (the claim's if that is later or unreadable).
    const sent = r.enqueuedAt !== undefined ? Date.parse(r.enqueuedAt) : NaN;
    const at = Number.isNaN(sent) || sent > r.now.getTime() ? now : r.enqueuedAt!;
    names["#hn00"] = hist[0];
    values[":hv00"] = { M: { from: S("pending"), to: S("enqueued"), event: S("enqueue"), attempt: N(r.attempt), at: S(at) } };
    names["#hn01"] = hist[1];
    values[":hv01"] = { M: record };
    set += ", #hn00 = :hv00, #hn01 = :hv01";
  } else {
    names["#hn00"] = hist[0];
    values[":hv00"] = { M: record };
    set += ", #hn00 = :hv00";
  }
  set += ", attempts = :sa, claimed_at = :now, last_attempted_at = :now";
  if (r.workerId) {
    set += ", worker_id = :w";
    values[":w"] = S(r.workerId);
  }
  // The deadline without a sweep shard: the step stays out of the sweep
  // index, and the engine's check of its task reads the deadline.
  set += ", sweep_at = :due REMOVE next_retry_at";
  return {
    TableName: table,
    Key: { pk: S(pk), sk: S(sk) },
    ConditionExpression: "(st = :f0) AND attempts = :a",
    UpdateExpression: set,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW" as const,
  };
}

/** Checks a payload reference before reading; returns the problem or undefined. */
export function payloadRefProblem(ref: PayloadRef): string | undefined {
  if (typeof ref.pk !== "string" || !ref.pk.startsWith("T#")) return "pk must start with T#";
  if (typeof ref.sk !== "string" || !ref.sk.startsWith("B#")) return "sk must start with B#";
  if (!Number.isInteger(ref.chunks) || ref.chunks < 1 || ref.chunks > MAX_CHUNKS) return `chunks must be 1…${MAX_CHUNKS}`;
  if (!Number.isInteger(ref.bytes) || ref.bytes < 0 || ref.bytes > MAX_PAYLOAD_BYTES) return `bytes must be 0…${MAX_PAYLOAD_BYTES}`;
  return undefined;
}

const chunkSK = (sk: string, i: number) => `${sk}#${String(i).padStart(4, "0")}`;

/** A StateStore on a DynamoDB state table (`<prefix>-state`). */
export class DynamoStateStore implements StateStore {
  constructor(private readonly db: DynamoSend, private readonly table: string) {}

  async claimStep(req: ClaimRequest): Promise<ClaimedStep> {
    try {
      const out = await this.db.send(new UpdateItemCommand(claimInput(this.table, req)));
      const item = out.Attributes ?? {};
      return { checkpoint: item.checkpoint?.S, inputs: item.inputs?.S };
    } catch (err) {
      throw mapErr(`claim step ${req.stepName}`, err);
    }
  }

  async loadPayload(ref: PayloadRef): Promise<Buffer> {
    const problem = payloadRefProblem(ref);
    if (problem) throw new PayloadNotFoundError(`load payload: invalid reference: ${problem}`);
    const parts: Buffer[] = [];
    for (let i = 0; i < ref.chunks; i++) {
      let item: Record<string, AttributeValue> | undefined;
      try {
        const out = await this.db.send(new GetItemCommand({
          TableName: this.table, Key: { pk: S(ref.pk), sk: S(chunkSK(ref.sk, i)) }, ConsistentRead: true,
        }));
        item = out.Item;
      } catch (err) {
        throw mapErr("load payload", err);
      }
      if (!item) throw new PayloadNotFoundError(`load payload ${ref.sk} chunk ${i}: not found`);
      const data = item.data?.B;
      if (!data) throw new PayloadNotFoundError(`load payload ${ref.sk} chunk ${i}: no data`);
      parts.push(Buffer.from(data));
    }
    const all = Buffer.concat(parts);
    if (all.length !== ref.bytes) throw new PayloadNotFoundError(`load payload ${ref.sk}: got ${all.length} bytes, want ${ref.bytes}`);
    return all;
  }

  async savePayload(taskUuid: string, id: string, data: Buffer): Promise<PayloadRef> {
    if (data.length > MAX_PAYLOAD_BYTES) {
      throw new PayloadTooLargeError(`save payload ${id}: ${data.length} bytes, limit ${MAX_PAYLOAD_BYTES}`);
    }
    const ref: PayloadRef = { pk: taskPK(taskUuid), sk: `B#${id}`, chunks: 0, bytes: data.length };
    for (let off = 0; off === 0 || off < data.length; off += CHUNK_BYTES) {
      const end = Math.min(off + CHUNK_BYTES, data.length);
      try {
        await this.db.send(new PutItemCommand({
          TableName: this.table,
          Item: { pk: S(ref.pk), sk: S(chunkSK(ref.sk, ref.chunks)), kind: S("blob"), data: { B: data.subarray(off, end) } },
        }));
      } catch (err) {
        throw mapErr(`save payload ${id}`, err);
      }
      ref.chunks++;
      if (end === data.length) break;
    }
    return ref;
  }

  async saveCheckpoint(taskUuid: string, stepName: string, attempt: number, checkpoint: string, now: Date): Promise<void> {
    try {
      await this.db.send(new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: S(taskPK(taskUuid)), sk: S(stepSK(stepName)) },
        UpdateExpression: "SET checkpoint = :c, updated_at = :now",
        ConditionExpression: "st = :ip AND attempts = :a",
        ExpressionAttributeValues: { ":c": S(checkpoint), ":now": S(rfc3339Nano(now)), ":ip": S("in_progress"), ":a": N(attempt) },
      }));
    } catch (err) {
      throw mapErr(`save checkpoint ${stepName}`, err);
    }
  }
}

function mapErr(op: string, err: unknown): Error {
  if (err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === "ConditionalCheckFailedException") {
    return new ConflictError(`${op}: condition failed`, { cause: err });
  }
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new Error(`${op}: ${msg}`, { cause: err });
}
