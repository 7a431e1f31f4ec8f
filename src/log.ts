import { pino, type Logger } from 'pino';

export type { Logger };

const FLUSH_INTERVAL_MS = 500;

/**
 * JSON-lines logger (pino). Secrets are kept out by what is logged (settings go through
 * `redactedSettings`, errors never carry tokens, headers and bodies are never logged), not by
 * pino's `redact`: it cost ~7 µs per request line and compiles code from strings. Without a `destination` it writes to stdout
 * through a buffer (one write per ~4 KB instead of one per request line); call `flush()`
 * before exiting.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'gitfunc' } };
  if (destination) return pino(options, destination);
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  // A quiet server still shows its last lines within a moment.
  setInterval(() => logger.flush(), FLUSH_INTERVAL_MS).unref();
  return logger;
}
