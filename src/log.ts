import { pino, type Logger } from 'pino';

export type { Logger };

/** Header and field names whose values never reach a log line. */
const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  '*.token',
  '*.password',
  '*.secret',
  '*.adminToken',
  '*.webhookSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

const FLUSH_INTERVAL_MS = 500;

/**
 * JSON-lines logger (pino) with secrets redacted. Without a `destination` it writes to stdout
 * through a buffer (one write per ~4 KB instead of one per request line); call `flush()`
 * before exiting.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'gitfunc' }, redact: { paths: REDACT_PATHS, censor: '***' } };
  if (destination) return pino(options, destination);
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  // A quiet server still shows its last lines within a moment.
  setInterval(() => logger.flush(), FLUSH_INTERVAL_MS).unref();
  return logger;
}
