// Structured logging: one JSON line per event, to stderr by default.

/** Attributes of a log line. */
export type LogAttrs = Record<string, unknown>;

/** Receives the worker's log lines; console-like loggers (pino, winston) fit with a small adapter. */
export interface Logger {
  info(msg: string, attrs?: LogAttrs): void;
  warn(msg: string, attrs?: LogAttrs): void;
  error(msg: string, attrs?: LogAttrs): void;
}

/** Returns a logger writing one JSON object per line ({time, level, msg, ...attrs}) to the stream. */
export function jsonLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: string, msg: string, attrs?: LogAttrs) => {
    stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...attrs }) + "\n");
  };
  return {
    info: (m, a) => write("INFO", m, a),
    warn: (m, a) => write("WARN", m, a),
    error: (m, a) => write("ERROR", m, a),
  };
}

/** A logger that drops everything. */
export const discardLogger: Logger = { info() {}, warn() {}, error() {} };
