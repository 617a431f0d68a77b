import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidMessageError, parseStepMessage } from "../protocol.js";

// The example step message of docs/protocol.md §3.
const example = {
  v: 1, task_uuid: "0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01", step_uuid: "0193f0c2-7a42-7d00-8000-00000000000b",
  step_name: "process_batch_001", namespace: "data_pipeline", task_name: "dataset_analysis", task_version: "1.0.0",
  handler: "DataPipeline::ProcessBatch", step_type: "batch_worker", attempt: 2, max_attempts: 3, timeout_seconds: 120,
  correlation_id: "req-7f3a", enqueued_at: "2026-11-27T06:00:03.5Z", context: { dataset: "s3://example-bucket/events.csv" },
  config: { chunk_size: 100 }, parents: { analyze_dataset: { rows: 2000 } },
  inputs: { cursor: { batch_id: "001", start_cursor: 1000, end_cursor: 2000, batch_size: 1000 }, is_no_op: false },
  checkpoint: { cursor: 1500, items_processed: 500, timestamp: "2026-11-27T06:01:10Z" },
};

test("parses the protocol's example step message", () => {
  const m = parseStepMessage(JSON.stringify(example));
  assert.equal(m.step_name, "process_batch_001");
  assert.equal(m.attempt, 2);
  assert.deepEqual(m.parents, { analyze_dataset: { rows: 2000 } });
});

test("ignores unknown fields and fills optional strings", () => {
  const { task_name: _a, task_version: _b, correlation_id: _c, ...rest } = example;
  const m = parseStepMessage(JSON.stringify({ ...rest, future_field: { x: 1 } }));
  assert.equal(m.correlation_id, "");
  assert.equal(m.task_name, "");
});

test("accepts an out-of-line message", () => {
  const { context: _c, config: _g, parents: _p, inputs: _i, checkpoint: _k, ...rest } = example;
  const m = parseStepMessage(JSON.stringify({ ...rest, payload_ref: { pk: "T#x", sk: "B#y#2#input", chunks: 1, bytes: 10 } }));
  assert.equal(m.payload_ref?.chunks, 1);
});

test("rejects malformed messages", () => {
  const cases: Record<string, unknown> = {
    "not JSON": "{",
    "an array": [],
    "v 2": { ...example, v: 2 },
    "no v": { ...example, v: undefined },
    "attempt 0": { ...example, attempt: 0 },
    "attempt as string": { ...example, attempt: "1" },
    "attempt fractional": { ...example, attempt: 1.5 },
    "no task_uuid": { ...example, task_uuid: undefined },
    "empty step_uuid": { ...example, step_uuid: "" },
    "no step_name": { ...example, step_name: undefined },
    "no handler": { ...example, handler: undefined },
    "no namespace": { ...example, namespace: undefined },
    "parents not an object": { ...example, parents: [1] },
    "batch_parents not strings": { ...example, batch_parents: [1] },
    "bad payload_ref": { ...example, payload_ref: { pk: 1 } },
    "unknown from_state": { ...example, from_state: "running" },
  };
  for (const [name, body] of Object.entries(cases)) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    assert.throws(() => parseStepMessage(text), InvalidMessageError, name);
  }
});
