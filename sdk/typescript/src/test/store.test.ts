import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInput, historyName, payloadRefProblem } from "../store.js";
import { historyTime, rfc3339Nano, sortableTime } from "../timefmt.js";

test("time formats", () => {
  const t = new Date("2026-11-27T06:00:04.250Z");
  assert.equal(rfc3339Nano(t), "2026-11-27T06:00:04.25Z");
  assert.equal(rfc3339Nano(new Date("2026-11-27T06:00:04.000Z")), "2026-11-27T06:00:04Z");
  assert.equal(sortableTime(t), "2026-11-27T06:00:04.250000000Z");
  assert.equal(historyTime(t), "20261127T060004.250000000");
});

test("history names sort in write order", () => {
  const t = new Date("2026-11-27T06:00:04.250Z");
  const a = historyName(t);
  const b = historyName(t);
  assert.match(a, /^h_20261127T060004\.250000000_[0-9a-f]{16}_00$/);
  assert.ok(a < b, `${a} < ${b}`);
});

test("the claim is the request of docs/protocol.md §5", () => {
  const now = new Date("2026-11-27T06:00:04.250Z");
  const in_ = claimInput("tasker-state", {
    taskUuid: "0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01", stepName: "process_batch_001", attempt: 2, timeoutSeconds: 120,
    workerId: "py-worker-7", correlationId: "req-7f3a", now,
  });
  assert.equal(in_.ConditionExpression, "(st = :f0) AND attempts = :a");
  assert.equal(in_.UpdateExpression, "SET st = :to, updated_at = :now, #hn00 = :hv00, attempts = :sa, claimed_at = :now, last_attempted_at = :now, worker_id = :w, sweep_at = :due REMOVE next_retry_at");
  assert.deepEqual(in_.Key, { pk: { S: "T#0193f0c2-7a41-7c3e-9f10-2b8f5d1e4a01" }, sk: { S: "S#process_batch_001" } });
  assert.equal(in_.ReturnValues, "ALL_NEW");
  const v = in_.ExpressionAttributeValues;
  assert.deepEqual(v[":a"], { N: "1" });
  assert.deepEqual(v[":sa"], { N: "2" });
  assert.deepEqual(v[":now"], { S: "2026-11-27T06:00:04.25Z" });
  assert.deepEqual(v[":due"], { S: "2026-11-27T06:02:34.250000000Z" });
  assert.equal(v[":shard"], undefined, "the claim puts no sweep shard: the step stays out of the index");
  assert.deepEqual(v[":hv00"], { M: {
    from: { S: "enqueued" }, to: { S: "in_progress" }, event: { S: "start" }, attempt: { N: "2" },
    at: { S: "2026-11-27T06:00:04.25Z" }, processor: { S: "py-worker-7" }, correlation_id: { S: "req-7f3a" },
  } });
  assert.match(in_.ExpressionAttributeNames["#hn00"], /^h_20261127T060004\.250000000_/);
});

test("a claim from pending records the enqueue at the message's time, then the start", () => {
  const now = new Date("2026-11-27T06:00:04.250Z");
  const in_ = claimInput("tasker-state", {
    taskUuid: "u", stepName: "ship", attempt: 1, timeoutSeconds: 30, workerId: "w", correlationId: "c", now,
    fromState: "pending", enqueuedAt: "2026-11-27T06:00:03.123456789Z",
  });
  const v = in_.ExpressionAttributeValues;
  assert.deepEqual(v[":f0"], { S: "pending" });
  assert.equal(in_.UpdateExpression, "SET st = :to, updated_at = :now, #hn00 = :hv00, #hn01 = :hv01, attempts = :sa, claimed_at = :now, last_attempted_at = :now, worker_id = :w, sweep_at = :due REMOVE next_retry_at");
  assert.deepEqual(v[":hv00"], { M: {
    from: { S: "pending" }, to: { S: "enqueued" }, event: { S: "enqueue" }, attempt: { N: "1" },
    at: { S: "2026-11-27T06:00:03.123456789Z" },
  } });
  assert.deepEqual(v[":hv01"].M!.from, { S: "enqueued" });
  assert.deepEqual(v[":hv01"].M!.event, { S: "start" });
  const n0 = in_.ExpressionAttributeNames["#hn00"], n1 = in_.ExpressionAttributeNames["#hn01"];
  assert.equal(n0.slice(0, -3), n1.slice(0, -3), "one write: one sequence number");
  assert.ok(n0.endsWith("_00") && n1.endsWith("_01"));
  const late = claimInput("t", { taskUuid: "u", stepName: "s", attempt: 1, timeoutSeconds: 0, workerId: "", correlationId: "", now,
    fromState: "pending", enqueuedAt: "2026-11-27T07:00:00Z" });
  assert.deepEqual(late.ExpressionAttributeValues[":hv00"].M!.at, { S: "2026-11-27T06:00:04.25Z" }, "a message time after the claim's is replaced by the claim's");
});

test("a claim without worker id or correlation id omits them", () => {
  const in_ = claimInput("t", { taskUuid: "u", stepName: "s", attempt: 1, timeoutSeconds: 0, workerId: "", correlationId: "", now: new Date(0) });
  assert.ok(!in_.UpdateExpression.includes("worker_id"));
  const rec = in_.ExpressionAttributeValues[":hv00"].M!;
  assert.deepEqual(Object.keys(rec).sort(), ["at", "attempt", "event", "from", "to"]);
  assert.deepEqual(in_.ExpressionAttributeValues[":due"], { S: "1970-01-01T00:01:00.000000000Z" });
});

test("payload references are checked before reading", () => {
  assert.equal(payloadRefProblem({ pk: "T#a", sk: "B#b", chunks: 1, bytes: 0 }), undefined);
  assert.ok(payloadRefProblem({ pk: "X#a", sk: "B#b", chunks: 1, bytes: 0 }));
  assert.ok(payloadRefProblem({ pk: "T#a", sk: "S#b", chunks: 1, bytes: 0 }));
  assert.ok(payloadRefProblem({ pk: "T#a", sk: "B#b", chunks: 0, bytes: 0 }));
  assert.ok(payloadRefProblem({ pk: "T#a", sk: "B#b", chunks: 25, bytes: 0 }));
  assert.ok(payloadRefProblem({ pk: "T#a", sk: "B#b", chunks: 1, bytes: 8 * 1024 * 1024 + 1 }));
});
