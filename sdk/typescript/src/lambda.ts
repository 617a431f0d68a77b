// Hosting in AWS Lambda: an SQS event source with ReportBatchItemFailures.
import { DEFAULT_CONCURRENCY, type Worker } from "./worker.js";

/** The fields of an SQS event record the handler reads. */
export interface SQSRecord {
  messageId: string;
  body: string;
}

/** An SQS event as Lambda delivers it. */
export interface SQSEvent {
  Records: SQSRecord[];
}

/** A partial batch response: the records SQS must redeliver. */
export interface SQSBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Returns a Lambda handler for a step queue's event source:
 *
 *     export const handler = lambdaHandler(worker);
 *
 * It processes the event's records concurrently (at most `concurrency` at
 * once) and lists the records to redeliver in `batchItemFailures`, so enable
 * ReportBatchItemFailures on the event source mapping. Records that are done,
 * duplicates or malformed are not listed and SQS deletes them. It never
 * throws: failing the whole invocation would redeliver finished records.
 */
export function lambdaHandler(worker: Worker, concurrency = DEFAULT_CONCURRENCY): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const records = event?.Records ?? [];
    const redeliver = await mapLimit(records, Math.max(1, concurrency), async (r) => (await worker.process(r.body ?? "")) === "redeliver");
    return { batchItemFailures: records.filter((_, i) => redeliver[i]).map((r) => ({ itemIdentifier: r.messageId })) };
  };
}

/** Maps items through fn with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
