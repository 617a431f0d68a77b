// The conformance worker: the handlers of the conformance contract
// (pkg/conformance) on this SDK. The Go suite starts it as
//
//     node sdk/typescript/dist/conformance/worker.js
//
// with AWS_* and TASKER_* in the environment. It prints READY once polling
// and EFFECT <step_uuid> <attempt> each time a handler body runs, on stdout;
// logs go to stderr. SIGTERM finishes in-flight work and exits 0.
import {
  PermanentError, Registry, RetryableError, batches, configFromEnv, decision, isObject, pollUntilSignal, rangeCursors,
  workerFromConfig, type Handler, type JSONObject, type JSONValue, type Step,
} from "../index.js";

/** Wraps h so that each run prints its EFFECT line before the body runs. */
function effect(h: Handler): Handler {
  return (step) => {
    process.stdout.write(`EFFECT ${step.stepUuid} ${step.attempt}\n`);
    return h(step);
  };
}

function num(v: JSONValue | undefined, fallback = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

const handlers: Record<string, Handler> = {
  "conformance.echo": (s: Step) => ({
    context: s.context, parents: s.parents as JSONObject, config: s.config ?? {}, attempt: s.attempt, idempotency_key: s.idempotencyKey,
  }),
  "conformance.flaky": (s) => {
    if (s.attempt < 2) throw new RetryableError("flaky: try again", { errorType: "FlakyError" });
    return { attempt: s.attempt };
  },
  "conformance.permanent": () => {
    throw new PermanentError("permanent: bad input", { errorType: "PermanentError" });
  },
  "conformance.slow": async (s) => {
    const ms = Math.max(0, num(s.contextValue("sleep_ms")));
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { slept_ms: ms };
  },
  "conformance.large": (s) => ({ blob: "x".repeat(Math.max(0, num(s.contextValue("size")))) }),
  "conformance.decide": (s) => {
    const branches = s.contextValue<JSONValue>("branches");
    const chosen = Array.isArray(branches) ? branches.filter((b): b is string => typeof b === "string") : [];
    return decision(chosen, { chosen });
  },
  "conformance.batch": (s) => {
    const total = num(s.contextValue("total"));
    const size = num(s.contextValue("batch_size"), 1);
    const cursors = rangeCursors(total, size);
    const tpl = isObject(s.config) && typeof s.config.worker_template_name === "string" ? s.config.worker_template_name : undefined;
    if (cursors.length === 0) return { batch_processing_outcome: { type: "no_batches" } };
    return batches(cursors, { workerTemplate: tpl, totalItems: total });
  },
  "conformance.batch_work": (s) => {
    const inputs = s.batchInputs();
    if (inputs.is_no_op) return { processed: 0 };
    return { processed: num(inputs.cursor.end_cursor) - num(inputs.cursor.start_cursor) };
  },
  "conformance.sum": (s) => {
    let total = 0;
    for (const name of s.parentNames()) {
      const r = s.parent(name);
      if (isObject(r)) total += num(r.processed);
    }
    return { total };
  },
};

async function main(): Promise<void> {
  const cfg = configFromEnv();
  const registry = new Registry();
  for (const [name, h] of Object.entries(handlers)) registry.register(name, effect(h));
  const worker = workerFromConfig(cfg, registry);
  await pollUntilSignal(worker, {
    queueUrl: cfg.stepQueueUrl,
    onReady: () => process.stdout.write("READY\n"),
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`conformance worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
