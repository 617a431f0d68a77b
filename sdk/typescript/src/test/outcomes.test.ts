import { test } from "node:test";
import assert from "node:assert/strict";
import { batches, decision, noBatches, noBranches, outcomeProblem, rangeCursors } from "../outcomes.js";

test("decision builds create_steps and no_branches", () => {
  assert.deepEqual(decision(["a", "b"], { route: "dual" }), {
    route: "dual", decision_point_outcome: { type: "create_steps", step_names: ["a", "b"] },
  });
  assert.deepEqual(decision([]), { decision_point_outcome: { type: "no_branches" } });
  assert.deepEqual(noBranches(), { decision_point_outcome: { type: "no_branches" } });
  assert.throws(() => decision(["a", "a"]), /appears twice/);
  assert.throws(() => decision([""]), /empty/);
  assert.throws(() => decision(["a"], { decision_point_outcome: 1 }), /must not use the key/);
});

test("batches builds create_batches with worker_count", () => {
  const r = batches(rangeCursors(2000, 1000), { workerTemplate: "process_batch", totalItems: 2000 });
  assert.deepEqual(r, {
    batch_processing_outcome: {
      type: "create_batches", worker_template_name: "process_batch", worker_count: 2, total_items: 2000,
      cursor_configs: [
        { batch_id: "000", start_cursor: 0, end_cursor: 1000, batch_size: 1000 },
        { batch_id: "001", start_cursor: 1000, end_cursor: 2000, batch_size: 1000 },
      ],
    },
  });
  assert.deepEqual(noBatches(), { batch_processing_outcome: { type: "no_batches" } });
  assert.throws(() => batches([]), /at least one cursor/);
  assert.throws(() => batches([{ batch_id: "a-b", start_cursor: 0, end_cursor: 1 }]), /must match/);
  assert.throws(() => batches([{ batch_id: "x", start_cursor: 0, end_cursor: 1 }, { batch_id: "x", start_cursor: 1, end_cursor: 2 }]), /twice/);
});

test("rangeCursors splits like the Go SDK", () => {
  assert.deepEqual(rangeCursors(35, 10).map((c) => [c.batch_id, c.start_cursor, c.end_cursor, c.batch_size]), [
    ["000", 0, 9, 9], ["001", 9, 18, 9], ["002", 18, 27, 9], ["003", 27, 35, 8],
  ]);
  assert.equal(rangeCursors(450, 100, 3).length, 3);
  assert.deepEqual(rangeCursors(450, 100, 3).map((c) => c.end_cursor), [150, 300, 450]);
  assert.deepEqual(rangeCursors(0, 10), []);
  assert.deepEqual(rangeCursors(10, 0), []);
});

test("outcomeProblem reads results as the engine does", () => {
  const ok = [
    { any: 1 }, [1, 2], "text", null, { decision_point_outcome: null },
    decision(["a"]), noBranches(), noBatches(), batches(rangeCursors(10, 5)),
  ];
  for (const r of ok) assert.equal(outcomeProblem(r), undefined, JSON.stringify(r));
  const bad = {
    "unknown decision type": { decision_point_outcome: { type: "maybe" } },
    "create_steps without names": { decision_point_outcome: { type: "create_steps", step_names: [] } },
    "unknown batch type": { batch_processing_outcome: { type: "lots" } },
    "create_batches without cursors": { batch_processing_outcome: { type: "create_batches" } },
    "cursor without batch_id": { batch_processing_outcome: { type: "create_batches", cursor_configs: [{ start_cursor: 0 }] } },
    "duplicate batch_id": { batch_processing_outcome: { type: "create_batches", cursor_configs: [{ batch_id: "a" }, { batch_id: "a" }] } },
  };
  for (const [name, r] of Object.entries(bad)) assert.ok(outcomeProblem(r), name);
});
