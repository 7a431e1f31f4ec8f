import type { Logger } from 'pino';
import type { InterpreterStart } from './interpreter.cjs';

/** The message a worker posts once its interpreter is up (see worker.cts). */
export interface InterpreterStartMessage {
  interpreterStart: InterpreterStart;
}

export function isInterpreterStart(message: unknown): message is InterpreterStartMessage {
  return typeof message === 'object' && message !== null && 'interpreterStart' in message;
}

/**
 * Logs how a pool's workers started: the first restore and the first failed restore at info
 * and warn, every later one (replacements) at debug, so a crash loop does not flood the log.
 */
export class InterpreterStartLog {
  private restoredLogged = false;
  private fallbackLogged = false;

  constructor(private readonly logger: Logger) {}

  report({ interpreterStart: start }: InterpreterStartMessage): void {
    if (start.fallback !== undefined) {
      const level = this.fallbackLogged ? 'debug' : 'warn';
      this.fallbackLogged = true;
      this.logger[level]({ reason: start.fallback, ms: start.ms }, 'restoring the interpreter snapshot failed: worker loaded Pyodide normally');
    } else if (start.from === 'snapshot') {
      const level = this.restoredLogged ? 'debug' : 'info';
      this.restoredLogged = true;
      this.logger[level]({ ms: start.ms }, 'worker restored from the interpreter snapshot');
    } else {
      this.logger.debug({ ms: start.ms }, 'worker loaded Pyodide');
    }
  }
}
