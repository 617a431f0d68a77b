// The order confirmation step of the e-commerce sample, written with the
// TypeScript SDK: `tasker demo` starts this worker for the `notifications`
// namespace (templates/notifications/order_confirmation.yaml) next to the Go
// handlers. Configuration comes from the environment (see configFromEnv);
// it prints READY on stdout once polling and stops gracefully on SIGTERM.
import { createHash } from "node:crypto";
import {
  PermanentError, Registry, configFromEnv, pollUntilSignal, workerFromConfig, type Step,
} from "@tasker-go/worker";

interface Shipment {
  order_id?: string;
  customer_id?: string;
  email?: string;
  tracking_number?: string;
}

function required(s: Shipment, key: keyof Shipment): string {
  const v = s[key];
  if (typeof v !== "string" || v === "") throw new PermanentError(`${key} is required`, { errorType: "invalid_input" });
  return v;
}

/**
 * "Emails" the customer that the order has shipped. The message id is derived
 * from the idempotency key (the step UUID), so a retried attempt reports the
 * message of the first instead of sending another.
 */
export function sendOrderConfirmation(step: Step) {
  const shipment = step.getContext<Shipment>();
  const orderId = required(shipment, "order_id");
  const customer = required(shipment, "customer_id");
  const tracking = required(shipment, "tracking_number");
  const digest = createHash("sha256").update(step.idempotencyKey).digest("hex");
  return {
    worker: "typescript",
    sent: true,
    recipient: shipment.email || `customer:${customer}`,
    order_id: orderId,
    tracking_number: tracking,
    template: step.getConfig<{ template?: string }>().template ?? "",
    message_id: `msg_${digest.slice(0, 12)}`,
    sent_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

async function main(): Promise<void> {
  const cfg = configFromEnv();
  const registry = new Registry().register("notifications.send_order_confirmation", sendOrderConfirmation);
  const worker = workerFromConfig(cfg, registry);
  await pollUntilSignal(worker, {
    queueUrl: cfg.stepQueueUrl,
    waitTimeSeconds: Number(process.env.TASKER_POLL_WAIT_SECONDS ?? 20),
    onReady: () => process.stdout.write("READY\n"),
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`order confirmation worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
