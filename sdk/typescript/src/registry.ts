// Handlers by name.
import type { JSONValue } from "./protocol.js";
import type { Step } from "./step.js";

/**
 * Runs one attempt of a step. It returns the step's result (any JSON value;
 * undefined is reported as {}), or throws: a StepError says whether the attempt
 * may be retried, anything else is treated as retryable. `step.signal` aborts
 * at the deadline.
 */
export type Handler = (step: Step) => Promise<JSONValue | undefined | void> | JSONValue | undefined | void;

/** Maps handler names (the template's `handler` values) to handlers. */
export class Registry {
  private readonly handlers = new Map<string, Handler>();

  /** Adds h under name; throws for an empty name, a non-function or a name registered twice. */
  register(name: string, h: Handler): this {
    if (!name) throw new Error("register: empty handler name");
    if (typeof h !== "function") throw new Error(`register ${JSON.stringify(name)}: handler is not a function`);
    if (this.handlers.has(name)) throw new Error(`register: handler ${JSON.stringify(name)} registered twice`);
    this.handlers.set(name, h);
    return this;
  }

  /** Returns the handler registered under name, or undefined. */
  lookup(name: string): Handler | undefined {
    return this.handlers.get(name);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
