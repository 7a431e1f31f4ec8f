import { pino, type Logger } from 'pino';
import { prettyDestination } from './log/pretty-line.js';

export type { Logger };

/** How log lines look: JSON objects, or short lines for a person (src/log/pretty-line.ts). */
export type LogFormat = 'json' | 'pretty';

const FLUSH_INTERVAL_MS = 500;

/** `log.format: auto` is pretty when a person watches the terminal, JSON when a program reads the output. */
export function resolveLogFormat(setting: LogFormat | 'auto', isTTY: boolean | undefined): LogFormat {
  return setting === 'auto' ? (isTTY === true ? 'pretty' : 'json') : setting;
}

/**
 * JSON-lines logger (pino). Secrets are kept out by what is logged (settings go through
 * `redactedSettings`, errors never carry tokens, headers and bodies are never logged), not by
 * pino's `redact`: it cost ~7 µs per request line and compiles code from strings. Without a `destination` it writes to stdout
 * through a buffer (one write per ~4 KB instead of one per request line); call `flush()`
 * before exiting. `pretty` turns each JSON line into a short human-readable one, written as it comes.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = { level, base: { service: 'gitfunc' } };
  if (format === 'pretty') return pino(options, prettyDestination(destination ?? process.stdout));
  if (destination) return pino(options, destination);
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  // A quiet server still shows its last lines within a moment.
  setInterval(() => logger.flush(), FLUSH_INTERVAL_MS).unref();
  return logger;
}
