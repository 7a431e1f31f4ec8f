/**
 * `scriptErrors: isolate` (CONTRACT section 12): scripts that fail to import are left out of
 * their revision, and what names their functions answers 503.3 instead of being served.
 */
import { GitfuncError, type SourcePosition } from '../errors.js';
import type { Logger } from '../log.js';
import { isOutOfMemory } from '../runtime/import-checker.js';
import type { InspectOutcome } from '../runtime/worker-protocol.cjs';

/** A script left out of a revision: where its import failed, and with what. */
export interface ScriptFailure extends SourcePosition {
  /** The script id, `demo__basic`; `file` may be another script, one it imports. */
  script: string;
  /** The exception, as `SyntaxError: invalid syntax`. */
  message: string;
}

/** An enabled cron job that is not scheduled: its function's script failed to import. */
export interface UnscheduledCronJob {
  id: string;
  funcId: string;
  failure: ScriptFailure;
}

/** A call (API or cron job) of a function whose script was left out: 503.3 with the import error. */
export class ScriptImportFailed extends GitfuncError {
  constructor(failure: ScriptFailure) {
    const { script, file, line, col, message } = failure;
    super('SCRIPT_IMPORT_FAILED', `Script '${script}' failed to import: ${file}:${line}:${col} ${message}`, {
      script,
      file,
      line,
      col,
      importError: message,
    });
    this.name = 'ScriptImportFailed';
  }
}

/** `demo__basic.hello` -> `demo__basic`. */
export function scriptOfFunction(funcId: string): string {
  return funcId.slice(0, funcId.lastIndexOf('.'));
}

/**
 * The import failures of a check, by script id, when a revision may be served without those
 * scripts: every problem is one script's own failed import. Undefined when one is not: the
 * time limit stopped the check (later scripts were never imported, and a serving worker's
 * warm-up, which has no time limit, would hang on the same line), the interpreter ran out of
 * memory (a serving worker's would too: warm-ups import every script), or the check itself
 * failed.
 */
export function isolatableFailures(outcome: InspectOutcome): Map<string, ScriptFailure> | undefined {
  if (outcome.interrupted) return undefined;
  const failures = new Map<string, ScriptFailure>();
  for (const { script, file, line, col, message } of outcome.problems) {
    if (script === undefined || isOutOfMemory(message)) return undefined;
    failures.set(script, { script, file, line, col, message });
  }
  return failures;
}

/** Logs, once per served revision, each script left out and each cron job that does not fire because of it. */
export function logScriptFailures(
  logger: Logger,
  commit: string,
  failures: ReadonlyMap<string, ScriptFailure>,
  cronJobs: readonly UnscheduledCronJob[],
): void {
  for (const failure of failures.values()) {
    logger.warn({ commit, ...failure }, 'script left out (scriptErrors: isolate): it failed to import, its APIs answer 503.3');
  }
  for (const job of cronJobs) {
    logger.warn({ commit, jobId: job.id, funcId: job.funcId, ...job.failure }, 'cron job not scheduled: its script failed to import (scriptErrors: isolate)');
  }
}
