// Builders and checks for the outcomes a decision or batchable step embeds in
// its result (docs/protocol.md §7, "Outcomes embedded in results").
import type { BatchOutcome, CursorConfig, DecisionOutcome, JSONObject, JSONValue } from "./protocol.js";
import { isObject } from "./protocol.js";

/** The result key of a decision step's outcome. */
export const KEY_DECISION_OUTCOME = "decision_point_outcome";
/** The result key of a batchable step's outcome. */
export const KEY_BATCH_OUTCOME = "batch_processing_outcome";

/**
 * Returns a decision step's result creating the named template steps:
 * `{...data, decision_point_outcome: {type: "create_steps", step_names}}`, or
 * a no_branches outcome when `steps` is empty. It throws for an empty or
 * repeated name, or when data uses the outcome's key.
 */
export function decision(steps: string[], data: JSONObject = {}): JSONObject {
  if (steps.length === 0) return noBranches(data);
  checkNames("decision", steps);
  const outcome: DecisionOutcome = { type: "create_steps", step_names: [...steps] };
  return withOutcome(data, KEY_DECISION_OUTCOME, outcome as unknown as JSONObject);
}

/** Returns a decision step's result that creates no steps: `{decision_point_outcome: {type: "no_branches"}}`. */
export function noBranches(data: JSONObject = {}): JSONObject {
  return withOutcome(data, KEY_DECISION_OUTCOME, { type: "no_branches" });
}

/** Options of batches(). */
export interface BatchesOptions {
  /**
   * The batch_worker template step to instantiate per cursor. When omitted the
   * engine uses the step's `worker_template_name` initialization or its only
   * batch_worker dependent.
   */
  workerTemplate?: string;
  /** The number of items the batches cover (informative). */
  totalItems?: number;
  /** Further result fields dependent steps see next to the outcome. */
  data?: JSONObject;
}

/**
 * Returns a batchable step's result asking the engine to create one batch
 * worker per cursor: `{batch_processing_outcome: {type: "create_batches",
 * worker_count, cursor_configs, ...}}`. It throws when there are no cursors
 * (use noBatches) or a batch id is empty, repeated or not
 * `^[A-Za-z0-9_]{1,32}$`.
 */
export function batches(cursors: CursorConfig[], opts: BatchesOptions = {}): JSONObject {
  if (cursors.length === 0) throw new Error("batches: at least one cursor is required (use noBatches for none)");
  const ids = cursors.map((c) => c.batch_id);
  checkNames("batches: batch id", ids);
  for (const id of ids) {
    if (!/^[A-Za-z0-9_]{1,32}$/.test(id)) throw new Error(`batches: batch id ${JSON.stringify(id)} must match ^[A-Za-z0-9_]{1,32}$`);
  }
  const outcome: BatchOutcome = { type: "create_batches", worker_count: cursors.length, cursor_configs: cursors.map((c) => ({ ...c })) };
  if (opts.workerTemplate) outcome.worker_template_name = opts.workerTemplate;
  if (opts.totalItems !== undefined) outcome.total_items = opts.totalItems;
  return withOutcome(opts.data ?? {}, KEY_BATCH_OUTCOME, outcome as unknown as JSONObject);
}

/** Returns a batchable step's result that creates no batches (the engine makes one no-op worker). */
export function noBatches(data: JSONObject = {}): JSONObject {
  return withOutcome(data, KEY_BATCH_OUTCOME, { type: "no_batches" });
}

/**
 * Splits the integer range [0, total) into cursors the way the Go SDK's
 * RangeCursors does: workers = min(ceil(total/batchSize), maxWorkers), each
 * covering ceil(total/workers) items, with batch ids "000", "001", … It
 * returns [] when total <= 0 or batchSize <= 0; maxWorkers <= 0 means no limit.
 */
export function rangeCursors(total: number, batchSize: number, maxWorkers = 0): CursorConfig[] {
  if (!(total > 0) || !(batchSize > 0)) return [];
  let workers = Math.ceil(total / batchSize);
  if (maxWorkers > 0 && workers > maxWorkers) workers = maxWorkers;
  const per = Math.ceil(total / workers);
  const out: CursorConfig[] = [];
  for (let i = 0; i < workers; i++) {
    const start = i * per;
    const end = Math.min((i + 1) * per, total);
    if (start >= end) break;
    out.push({ batch_id: String(i).padStart(3, "0"), start_cursor: start, end_cursor: end, batch_size: end - start });
  }
  return out;
}

/**
 * Checks the outcomes a result embeds as the engine will read them and
 * returns a description of the first problem, or undefined when the result is
 * fine (including results without outcomes and non-object results). `null`
 * means absent.
 */
export function outcomeProblem(result: JSONValue): string | undefined {
  if (!isObject(result)) return undefined;
  const d = result[KEY_DECISION_OUTCOME];
  if (d !== undefined && d !== null) {
    if (!isObject(d)) return `${KEY_DECISION_OUTCOME}: must be an object`;
    if (d.type === "create_steps") {
      if (!Array.isArray(d.step_names) || d.step_names.length === 0) return `${KEY_DECISION_OUTCOME}.step_names: required for create_steps`;
      if (!d.step_names.every((n) => typeof n === "string")) return `${KEY_DECISION_OUTCOME}.step_names: must be strings`;
    } else if (d.type !== "no_branches") {
      return `${KEY_DECISION_OUTCOME}.type: unknown value ${JSON.stringify(d.type ?? "")}`;
    }
  }
  const b = result[KEY_BATCH_OUTCOME];
  if (b !== undefined && b !== null) {
    if (!isObject(b)) return `${KEY_BATCH_OUTCOME}: must be an object`;
    if (b.type === "create_batches") {
      const cs = b.cursor_configs;
      if (!Array.isArray(cs) || cs.length === 0) return `${KEY_BATCH_OUTCOME}.cursor_configs: required for create_batches`;
      const seen = new Set<string>();
      for (let i = 0; i < cs.length; i++) {
        const c = cs[i];
        const id = isObject(c) ? c.batch_id : undefined;
        if (typeof id !== "string" || id === "") return `${KEY_BATCH_OUTCOME}.cursor_configs[${i}].batch_id: required`;
        if (seen.has(id)) return `${KEY_BATCH_OUTCOME}.cursor_configs[${i}].batch_id: duplicate ${JSON.stringify(id)}`;
        seen.add(id);
      }
    } else if (b.type !== "no_batches") {
      return `${KEY_BATCH_OUTCOME}.type: unknown value ${JSON.stringify(b.type ?? "")}`;
    }
  }
  return undefined;
}

function withOutcome(data: JSONObject, key: string, outcome: JSONObject): JSONObject {
  if (Object.prototype.hasOwnProperty.call(data, key)) throw new Error(`result data must not use the key ${JSON.stringify(key)}`);
  return { ...data, [key]: outcome };
}

function checkNames(what: string, names: string[]): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (typeof n !== "string" || n === "") throw new Error(`${what}: [${i}] is empty`);
    if (seen.has(n)) throw new Error(`${what}: ${JSON.stringify(n)} appears twice`);
    seen.add(n);
  });
}
