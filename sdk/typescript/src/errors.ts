// Step failures as handlers report them, and their wire form.
import type { JSONValue, StepErrorWire } from "./protocol.js";

/** Error types the worker itself reports in `error_type` (docs/protocol.md §7). */
export const ErrorTypes = {
  /** The handler's deadline passed. */
  timeout: "timeout",
  /** The handler was cancelled. */
  cancelled: "cancelled",
  /** The handler crashed with something that is not an Error (the JS analogue of a Go panic). */
  panic: "panic",
  /** No handler is registered under the step's handler name. */
  handlerNotFound: "handler_not_found",
  /** The handler's result is not JSON or embeds a malformed outcome. */
  invalidResult: "invalid_result",
  /** The result exceeds what the state table can hold (8 MiB). */
  resultTooLarge: "result_too_large",
  /** The step's out-of-line payload is missing or is not a step payload. */
  invalidPayload: "invalid_payload",
} as const;

/** Options of a StepError. */
export interface StepErrorOptions {
  /** A short machine-readable class, e.g. "card_declined". */
  errorType?: string;
  /** Retryable only: wait at least this many seconds before the next attempt. */
  retryAfterSeconds?: number;
  /** An HTTP-like status code, for operators. */
  statusCode?: number;
  /** JSON detail stored with the step (at most 32 KiB encoded). */
  context?: JSONValue;
  /** Permanent only: compensate the steps completed so far (a saga). */
  compensate?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A failed attempt: retryable (the engine may run the step again while it has
 * attempts left) or permanent (the step fails now). Throw RetryableError or
 * PermanentError from a handler, or build one with retryable(), permanent() or
 * retryAfter(). Anything else a handler throws is treated as retryable.
 */
export class StepError extends Error {
  override name = "StepError";
  readonly retryable: boolean;
  errorType?: string;
  retryAfterSeconds?: number;
  statusCode?: number;
  context?: JSONValue;
  compensate: boolean;

  constructor(message: string, retryable: boolean, opts: StepErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = retryable;
    this.errorType = opts.errorType;
    this.retryAfterSeconds = retryable ? opts.retryAfterSeconds : undefined;
    this.statusCode = opts.statusCode;
    this.context = opts.context;
    this.compensate = opts.compensate ?? false;
  }

  /** Returns the wire form (docs/protocol.md §7, schemas/step-error.schema.json). */
  toWire(): StepErrorWire {
    const w: StepErrorWire = { message: this.message || "unknown error", retryable: this.retryable };
    if (this.errorType) w.error_type = this.errorType;
    if (this.retryable && this.retryAfterSeconds !== undefined && this.retryAfterSeconds > 0) {
      w.retry_after_seconds = this.retryAfterSeconds;
    }
    if (this.statusCode) w.status_code = this.statusCode;
    if (this.context !== undefined) w.context = this.context;
    if (this.compensate) w.compensate = true;
    return w;
  }

  /** JSON.stringify encodes a StepError as its wire form, so the retryable flag survives JSON. */
  toJSON(): StepErrorWire {
    return this.toWire();
  }

  /** Rebuilds a StepError from its wire form. */
  static fromWire(w: StepErrorWire): StepError {
    const Cls = w.retryable ? RetryableError : PermanentError;
    return new Cls(w.message, {
      errorType: w.error_type, retryAfterSeconds: w.retry_after_seconds, statusCode: w.status_code,
      context: w.context, compensate: w.compensate,
    });
  }
}

/** A failure that may succeed when tried again (a timeout, a 5xx, a rate limit). */
export class RetryableError extends StepError {
  override name = "RetryableError";
  constructor(message: string, opts: StepErrorOptions = {}) {
    super(message, true, opts);
  }
}

/** A failure that will not succeed however often it is tried (invalid input, a business rule). */
export class PermanentError extends StepError {
  override name = "PermanentError";
  constructor(message: string, opts: StepErrorOptions = {}) {
    super(message, false, { ...opts, retryAfterSeconds: undefined });
  }
}

/** Marks err (an Error or a message) as retryable, keeping the class and context of a StepError. */
export function retryable(err: unknown, opts: StepErrorOptions = {}): RetryableError {
  return new RetryableError(messageOf(err), { ...inherited(err), cause: err, ...opts });
}

/** Marks err (an Error or a message) as permanent, keeping the class and context of a StepError. */
export function permanent(err: unknown, opts: StepErrorOptions = {}): PermanentError {
  return new PermanentError(messageOf(err), { ...inherited(err), cause: err, ...opts });
}

/** Marks err as retryable no sooner than `seconds` from now (e.g. a rate limit's reset). */
export function retryAfter(err: unknown, seconds: number, opts: StepErrorOptions = {}): RetryableError {
  return retryable(err, { ...opts, retryAfterSeconds: seconds });
}

function inherited(err: unknown): StepErrorOptions {
  if (!(err instanceof StepError)) return {};
  return { errorType: err.errorType, context: err.context, retryAfterSeconds: err.retryAfterSeconds, compensate: err.compensate, statusCode: err.statusCode };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/**
 * Classifies whatever a handler threw (docs/protocol.md §6): a StepError keeps
 * its class; a deadline (an AbortError or TimeoutError) is a retryable
 * "timeout"; any other Error is retryable, since an unknown failure is assumed
 * to be transient; a thrown non-Error value is a retryable "panic".
 */
export function classifyFailure(thrown: unknown): StepError {
  if (thrown instanceof StepError) return thrown;
  if (thrown instanceof Error) {
    if (thrown.name === "TimeoutError" || thrown.name === "AbortError") {
      return new RetryableError(thrown.message, { errorType: ErrorTypes.timeout, cause: thrown });
    }
    return new RetryableError(thrown.message || thrown.name, { cause: thrown });
  }
  return new RetryableError(`panic: ${messageOf(thrown)}`, { errorType: ErrorTypes.panic });
}

/** Limits that keep a failure report well inside one SQS message. */
export const MAX_ERROR_MESSAGE_BYTES = 4 * 1024;
export const MAX_ERROR_CONTEXT_BYTES = 32 * 1024;

/**
 * Truncates an oversized message (on a UTF-8 boundary) and replaces an
 * oversized context with a note of its size, as the Go SDK does.
 */
export function boundStepError(w: StepErrorWire): StepErrorWire {
  const out = { ...w };
  const msg = Buffer.from(out.message, "utf8");
  if (msg.length > MAX_ERROR_MESSAGE_BYTES) {
    let n = MAX_ERROR_MESSAGE_BYTES;
    while (n > 0 && (msg[n] & 0xc0) === 0x80) n--;
    out.message = msg.subarray(0, n).toString("utf8") + "…(truncated)";
  }
  if (out.context !== undefined) {
    let encoded: string | undefined;
    try {
      encoded = JSON.stringify(out.context);
    } catch {
      encoded = undefined;
    }
    const bytes = encoded === undefined ? 0 : Buffer.byteLength(encoded);
    if (encoded === undefined || bytes > MAX_ERROR_CONTEXT_BYTES) {
      out.context = { context_dropped: true, bytes, valid_json: encoded !== undefined };
    }
  }
  return out;
}
