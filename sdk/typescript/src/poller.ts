// Hosting in a long-running process: long-poll the step queue with bounded
// concurrency and shut down gracefully.
import {
  ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message,
} from "@aws-sdk/client-sqs";
import { DEFAULT_CONCURRENCY, REPORT_TIMEOUT_MS, type Worker } from "./worker.js";

/** Configures poll. */
export interface PollerOptions {
  /** The step queue (`<prefix>-steps-<namespace>`) to consume. */
  queueUrl: string;
  /** The most messages processed at once; default 10. */
  concurrency?: number;
  /** The long-poll wait of each receive, 1–20 s; default 20. */
  waitTimeSeconds?: number;
  /** The most messages per receive, 1–10; default 10. */
  maxMessages?: number;
  /**
   * The visibility timeout requested on each receive; 0 keeps the queue's.
   * When set, a message whose handler is still running is kept invisible by
   * extending it every half period, so a slow step is not redelivered.
   */
  visibilityTimeoutSeconds?: number;
  /** When > 0, a message left for redelivery becomes visible again after this delay instead of the visibility timeout. */
  errorBackoffSeconds?: number;
  /** Stops polling when aborted; in-flight messages are finished, reported and deleted first. */
  signal?: AbortSignal;
  /** Called once, just before the first receive. */
  onReady?: () => void;
}

const MAX_RECEIVE_BACKOFF_MS = 30_000;

/**
 * Consumes the step queue until opts.signal aborts. It receives only while a
 * processing slot is free, processes messages concurrently, deletes the ones
 * that are done and leaves the others for redelivery. Shutdown is graceful:
 * on abort it stops receiving (an in-flight long poll is cancelled), lets
 * running handlers finish and report (they are not cancelled, only bounded by
 * their step timeout), deletes their messages and resolves. It rejects when
 * the queue does not exist.
 */
export async function poll(worker: Worker, opts: PollerOptions): Promise<void> {
  if (!opts.queueUrl) throw new Error("invalid poller config: queueUrl required");
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  const wait = clamp(opts.waitTimeSeconds ?? 20, 0, 20);
  const maxMessages = clamp(opts.maxMessages ?? 10, 1, 10);
  const signal = opts.signal ?? new AbortController().signal;
  const inflight = new Set<Promise<void>>();
  let slotFreed: () => void = () => {};
  let failures = 0;
  let ready = false;
  signal.addEventListener("abort", () => slotFreed(), { once: true });
  worker.log.info("poller started", { queue_url: opts.queueUrl, concurrency, worker_id: worker.id });
  while (!signal.aborted) {
    if (inflight.size >= concurrency) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      continue;
    }
    if (!ready) {
      ready = true;
      opts.onReady?.();
    }
    let msgs: Message[];
    try {
      const out = await worker.sqs.send(new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl, MaxNumberOfMessages: Math.min(maxMessages, concurrency - inflight.size), WaitTimeSeconds: wait,
        VisibilityTimeout: opts.visibilityTimeoutSeconds || undefined, MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }), { abortSignal: signal });
      msgs = out.Messages ?? [];
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      if ((err as { name?: string }).name === "QueueDoesNotExist" || (err as { name?: string }).name === "AWS.SimpleQueueService.NonExistentQueue") {
        throw new Error(`poll ${opts.queueUrl}: queue does not exist`, { cause: err });
      }
      failures++;
      const delay = Math.min(100 * 2 ** Math.min(failures, 10), MAX_RECEIVE_BACKOFF_MS);
      worker.log.warn("receive failed", { queue_url: opts.queueUrl, error: (err as Error).message, retry_in_ms: delay });
      await sleep(delay, signal);
      continue;
    }
    for (const m of msgs) {
      const p = handle(worker, opts, m).finally(() => {
        inflight.delete(p);
        slotFreed();
      });
      inflight.add(p);
    }
  }
  await Promise.all(inflight);
  worker.log.info("poller stopped", { queue_url: opts.queueUrl });
}

/** Processes one message, keeping it invisible while it runs, then deletes or releases it. */
async function handle(worker: Worker, opts: PollerOptions, m: Message): Promise<void> {
  const vis = opts.visibilityTimeoutSeconds ?? 0;
  const heartbeat = vis >= 2
    ? setInterval(() => void changeVisibility(worker, opts.queueUrl, m, vis), (vis * 1000) / 2)
    : undefined;
  let outcome;
  try {
    outcome = await worker.process(m.Body ?? "");
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
  if (outcome === "redeliver") {
    if ((opts.errorBackoffSeconds ?? 0) > 0) await changeVisibility(worker, opts.queueUrl, m, opts.errorBackoffSeconds!);
    return;
  }
  try {
    await worker.sqs.send(new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: m.ReceiptHandle }),
      { abortSignal: AbortSignal.timeout(REPORT_TIMEOUT_MS) });
  } catch (err) {
    // Redelivered later, its claim fails and it is deleted as a duplicate.
    worker.log.warn("delete message failed", { message_id: m.MessageId, error: (err as Error).message });
  }
}

async function changeVisibility(worker: Worker, queueUrl: string, m: Message, seconds: number): Promise<void> {
  try {
    await worker.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: Math.round(seconds) }),
      { abortSignal: AbortSignal.timeout(REPORT_TIMEOUT_MS) });
  } catch (err) {
    worker.log.warn("change visibility failed", { message_id: m.MessageId, error: (err as Error).message });
  }
}

/**
 * Runs poll until the process receives SIGTERM or SIGINT, then shuts down
 * gracefully; resolves when every in-flight message is done.
 */
export async function pollUntilSignal(worker: Worker, opts: Omit<PollerOptions, "signal">): Promise<void> {
  const ctrl = new AbortController();
  const stop = (sig: NodeJS.Signals) => {
    worker.log.info("shutting down", { signal: sig });
    ctrl.abort();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  try {
    await poll(worker, { ...opts, signal: ctrl.signal });
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
