import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_ERROR_MESSAGE_BYTES, PermanentError, RetryableError, StepError, boundStepError, classifyFailure, permanent,
  retryAfter, retryable,
} from "../errors.js";

test("wire form of retryable and permanent errors", () => {
  const r = new RetryableError("shop API returned 429", { errorType: "rate_limited", retryAfterSeconds: 20, statusCode: 429, context: { endpoint: "/orders/42" } });
  assert.deepEqual(JSON.parse(JSON.stringify(r)), {
    message: "shop API returned 429", error_type: "rate_limited", retryable: true, retry_after_seconds: 20, status_code: 429, context: { endpoint: "/orders/42" },
  });
  const p = new PermanentError("address rejected by carrier", { errorType: "invalid_address", compensate: true, retryAfterSeconds: 5 });
  assert.deepEqual(p.toWire(), { message: "address rejected by carrier", error_type: "invalid_address", retryable: false, compensate: true });
});

test("the retryable flag survives JSON", () => {
  for (const e of [new RetryableError("a", { retryAfterSeconds: 3 }), new PermanentError("b", { errorType: "t" })]) {
    const back = StepError.fromWire(JSON.parse(JSON.stringify(e)));
    assert.equal(back.retryable, e.retryable);
    assert.equal(back.errorType, e.errorType);
    assert.equal(back.retryAfterSeconds, e.retryAfterSeconds);
    assert.equal(back instanceof RetryableError, e.retryable);
  }
});

test("helpers keep the class of a wrapped StepError", () => {
  const inner = new RetryableError("card service down", { errorType: "card_down", context: { id: 1 } });
  const p = permanent(inner);
  assert.equal(p.retryable, false);
  assert.equal(p.errorType, "card_down");
  assert.deepEqual(p.context, { id: 1 });
  assert.equal(p.retryAfterSeconds, undefined);
  assert.equal(retryable(new Error("x")).retryable, true);
  assert.equal(retryable("plain text").message, "plain text");
  assert.equal(retryAfter(new Error("slow down"), 7).toWire().retry_after_seconds, 7);
});

test("classifyFailure maps what a handler throws", () => {
  const se = new PermanentError("no");
  assert.equal(classifyFailure(se), se);
  const plain = classifyFailure(new TypeError("boom"));
  assert.equal(plain.retryable, true);
  assert.equal(plain.message, "boom");
  assert.equal(plain.errorType, undefined);
  const abort = classifyFailure(new DOMException("deadline", "TimeoutError"));
  assert.equal(abort.errorType, "timeout");
  assert.equal(abort.retryable, true);
  const thrown = classifyFailure({ weird: true });
  assert.equal(thrown.errorType, "panic");
  assert.equal(thrown.retryable, true);
  assert.match(thrown.message, /weird/);
});

test("boundStepError truncates messages on a UTF-8 boundary and drops large contexts", () => {
  const long = "é".repeat(MAX_ERROR_MESSAGE_BYTES);
  const b = boundStepError({ message: long, retryable: true, context: { blob: "x".repeat(40_000) } });
  assert.ok(b.message.endsWith("…(truncated)"));
  assert.ok(!b.message.includes("\uFFFD"));
  assert.ok(Buffer.byteLength(b.message) <= MAX_ERROR_MESSAGE_BYTES + 20);
  assert.deepEqual(Object.keys(b.context as object).sort(), ["bytes", "context_dropped", "valid_json"]);
  const small = boundStepError({ message: "m", retryable: false, context: { a: 1 } });
  assert.deepEqual(small, { message: "m", retryable: false, context: { a: 1 } });
});
