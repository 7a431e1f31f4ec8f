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

/** JSON-lines logger (pino) with secrets redacted; `destination` defaults to stdout. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'gitfunc' }, redact: { paths: REDACT_PATHS, censor: '***' } };
  return destination ? pino(options, destination) : pino(options);
}
