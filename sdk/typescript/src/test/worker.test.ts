// The worker's decisions that happen before anything is sent: malformed
// messages, duplicate and failed claims, result checks. The whole path over
// real SQS and DynamoDB is proven by the Go conformance suite (pkg/conformance).
import { test } from "node:test";
import assert from "node:assert/strict";
import { discardLogger } from "../log.js";
import { lambdaHandler, mapLimit } from "../lambda.js";
import { decision } from "../outcomes.js";
import { Registry } from "../registry.js";
import { ConflictError, type ClaimRequest, type ClaimedStep, type StateStore } from "../store.js";
import { StepError } from "../errors.js";
import { Worker, checkResult, type SQSSend } from "../worker.js";
import type { PayloadRef } from "../protocol.js";

/** A StateStore whose claim answers as told and records its calls. */
class ScriptedStore implements StateStore {
  claims: ClaimRequest[] = [];
  constructor(private readonly claim: (r: ClaimRequest) => Promise<ClaimedStep>) {}
  claimStep(r: ClaimRequest) {
    this.claims.push(r);
    return this.claim(r);
  }
  loadPayload(_: PayloadRef): Promise<Buffer> {
    return Promise.reject(new Error("unexpected loadPayload"));
  }
  savePayload(): Promise<PayloadRef> {
    return Promise.reject(new Error("unexpected savePayload"));
  }
  saveCheckpoint(): Promise<void> {
    return Promise.reject(new Error("unexpected saveCheckpoint"));
  }
}

const noSQS: SQSSend = { send: () => Promise.reject(new Error("unexpected SQS call")) } as unknown as SQSSend;

function newWorker(store: StateStore, onMalformed?: (b: string, e: Error) => void) {
  let ran = 0;
  const reg = new Registry().register("h", () => {
    ran++;
    return {};
  });
  const w = new Worker({ store, sqs: noSQS, resultsQueueUrl: "http://q", registry: reg, logger: discardLogger, onMalformed, workerId: "w-1" });
  return { w, ran: () => ran };
}

const msg = (over: Record<string, unknown> = {}) => JSON.stringify({
  v: 1, task_uuid: "t", step_uuid: "s", step_name: "n", namespace: "ns", handler: "h", attempt: 1, max_attempts: 3, correlation_id: "c", ...over,
});

test("a malformed message is acknowledged without a claim", async () => {
  const store = new ScriptedStore(() => Promise.reject(new Error("must not claim")));
  const seen: string[] = [];
  const { w } = newWorker(store, (b) => seen.push(b));
  assert.equal(await w.process("not json"), "malformed");
  assert.equal(await w.process(msg({ v: 2 })), "malformed");
  assert.equal(store.claims.length, 0);
  assert.deepEqual(seen, ["not json", msg({ v: 2 })]);
});

test("a failed claim condition is a duplicate: nothing runs", async () => {
  const store = new ScriptedStore(() => Promise.reject(new ConflictError("condition failed")));
  const { w, ran } = newWorker(store);
  assert.equal(await w.process(msg({ attempt: 2, timeout_seconds: 45 })), "duplicate");
  assert.equal(ran(), 0);
  assert.equal(store.claims[0].attempt, 2);
  assert.equal(store.claims[0].timeoutSeconds, 45);
  assert.equal(store.claims[0].workerId, "w-1");
  assert.equal(store.claims[0].correlationId, "c");
});

test("a claim that fails for another reason leaves the message for redelivery", async () => {
  const { w, ran } = newWorker(new ScriptedStore(() => Promise.reject(new Error("throttled"))));
  assert.equal(await w.process(msg()), "redeliver");
  assert.equal(ran(), 0);
});

test("the Lambda handler reports only redeliveries as batch item failures", async () => {
  const store = new ScriptedStore((r) => Promise.reject(r.stepName === "busy" ? new Error("throttled") : new ConflictError("dup")));
  const { w } = newWorker(store);
  const handler = lambdaHandler(w, 2);
  const out = await handler({ Records: [
    { messageId: "m1", body: "{" }, { messageId: "m2", body: msg({ step_name: "busy" }) },
    { messageId: "m3", body: msg({ step_name: "dup" }) }, { messageId: "m4", body: msg({ step_name: "busy" }) },
  ] });
  assert.deepEqual(out, { batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m4" }] });
  assert.deepEqual(await handler({ Records: [] }), { batchItemFailures: [] });
});

test("mapLimit keeps order and bounds concurrency", async () => {
  let active = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, n));
    active--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

test("checkResult accepts JSON and rejects what the engine would reject", () => {
  assert.deepEqual(checkResult(undefined), {});
  assert.deepEqual(checkResult({ a: 1 }), { a: 1 });
  assert.deepEqual(checkResult(decision(["x"])), decision(["x"]));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [cyclic, 10n, () => 1, { decision_point_outcome: { type: "nope" } }]) {
    const r = checkResult(bad);
    assert.ok(r instanceof StepError, String(bad));
    assert.equal(r.retryable, false);
    assert.equal(r.errorType, "invalid_result");
  }
});

test("the registry refuses duplicates and empty names", () => {
  const r = new Registry().register("a", () => 1);
  assert.throws(() => r.register("a", () => 2), /twice/);
  assert.throws(() => r.register("", () => 2), /empty/);
  assert.deepEqual(r.names(), ["a"]);
});
