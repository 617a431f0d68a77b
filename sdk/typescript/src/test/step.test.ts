import { test } from "node:test";
import assert from "node:assert/strict";
import { parseStepMessage } from "../protocol.js";
import { CheckpointTooLargeError, NoParentError, Step, WrongStepTypeError } from "../step.js";

const base = { v: 1, task_uuid: "t", step_uuid: "su", step_name: "n", namespace: "ns", handler: "h", attempt: 2, max_attempts: 3 };
const mk = (extra: Record<string, unknown>, opts: Partial<ConstructorParameters<typeof Step>[1]> = {}) =>
  new Step(parseStepMessage(JSON.stringify({ ...base, ...extra })), { signal: new AbortController().signal, deadline: new Date(), ...opts });

test("typed access to context, config and parents", () => {
  const s = mk({ context: { order_id: "o-1" }, config: { x: 1 }, parents: { b: { n: 2 }, a: null } });
  assert.equal(s.idempotencyKey, "su");
  assert.equal(s.contextValue<string>("order_id"), "o-1");
  assert.deepEqual(s.getConfig(), { x: 1 });
  assert.deepEqual(s.parent("b"), { n: 2 });
  assert.equal(s.parent("a"), null);
  assert.deepEqual(s.parentNames(), ["a", "b"]);
  assert.throws(() => s.parent("zz"), NoParentError);
  assert.deepEqual(mk({}).getContext(), {});
  assert.deepEqual(mk({}).config, {});
});

test("batch inputs, results and compensation inputs", () => {
  const w = mk({ step_type: "batch_worker", inputs: { cursor: { batch_id: "001", start_cursor: 10, end_cursor: 20 }, batch_metadata: {}, is_no_op: false } });
  assert.equal(w.batchInputs().cursor.end_cursor, 20);
  assert.throws(() => mk({ step_type: "decision" }).batchInputs(), WrongStepTypeError);
  assert.throws(() => mk({}).batchInputs(), WrongStepTypeError);
  const conv = mk({ batch_parents: ["work_001", "work_000"], parents: { work_000: { processed: 3 } },
    parent_errors: { work_001: { message: "boom", retryable: false } } });
  assert.deepEqual(conv.batchResults().map((r) => [r.step, r.batchId, r.failed, r.result]), [
    ["work_000", "000", false, { processed: 3 }], ["work_001", "001", true, null],
  ]);
  assert.throws(() => mk({}).batchResults(), WrongStepTypeError);
  assert.equal(mk({ step_type: "compensation", inputs: { compensates: "charge" } }).compensationInputs().compensates, "charge");
  assert.throws(() => mk({}).compensationInputs(), WrongStepTypeError);
});

test("the claimed item's checkpoint and inputs", () => {
  const s = mk({ checkpoint: { cursor: 1, items_processed: 1, timestamp: "x" } }, { checkpoint: { cursor: 5, items_processed: 5, timestamp: "y" }, inputs: { cursor: {} } });
  assert.equal(s.lastCheckpoint?.cursor, 5);
  assert.deepEqual(s.inputs, { cursor: {} });
  assert.equal(mk({}).lastCheckpoint, null);
});

test("checkpoint saves a record and refuses one over 64 KiB", async () => {
  const saved: string[] = [];
  const s = mk({}, { saveCheckpoint: async (c) => void saved.push(c), now: () => new Date("2026-11-27T06:01:10.5Z") });
  await s.checkpoint({ id: 1500 }, 500, { sum: 1234 });
  assert.deepEqual(JSON.parse(saved[0]), { cursor: { id: 1500 }, items_processed: 500, accumulated_results: { sum: 1234 }, timestamp: "2026-11-27T06:01:10.5Z" });
  assert.equal(s.lastCheckpoint?.items_processed, 500);
  await assert.rejects(s.checkpoint("x".repeat(70 * 1024), 1), CheckpointTooLargeError);
  await assert.rejects(mk({}).checkpoint(1, 1), /not running under a worker/);
});
