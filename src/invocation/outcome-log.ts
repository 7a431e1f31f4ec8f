import type { Logger } from '../log.js';
import type { RunMetrics } from '../metrics/gitfunc-metrics.js';
import type { TaskRecord } from '../model/task-record.js';

/** Statuses of a run that went wrong: logged at warn, with the exception. */
const FAILED: ReadonlySet<TaskRecord['status']> = new Set(['failure', 'timeout']);

/**
 * Where every run's final record is reported: counted in the metrics, and logged (a sync call's
 * success only by its HTTP line, off the hot path).
 */
export class OutcomeLog {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: RunMetrics,
  ) {}

  ended(record: TaskRecord): void {
    this.metrics.runEnded(record);
    if (record.origin !== 'syncAPI' || record.status !== 'success') logOutcome(this.logger, record);
  }
}

/**
 * Logs one line for a run's final record: its task, origin, function, status and duration;
 * a failed or timed-out run at warn with its exception type and message. Never the kwargs,
 * the result or the print output; the exception text is the record's, already masked by the
 * revision's secret mask (call-records.ts).
 */
function logOutcome(logger: Logger, record: TaskRecord): void {
  const failed = FAILED.has(record.status);
  const line = {
    taskId: record.id,
    origin: record.origin,
    // The API id of an API call, the cron job id of a cron run: named as the rest of the log does.
    [record.origin === 'syncAPI' || record.origin === 'asyncAPI' ? 'apiId' : 'jobId']: record.originId,
    funcId: record.funcId,
    status: record.status,
    ms: record.startTime !== undefined && record.endTime !== undefined ? record.endTime - record.startTime : undefined,
    commit: record.commit,
    ...(failed || record.exceptionText ? { exceptionType: record.exceptionType, exceptionText: record.exceptionText } : {}),
  };
  if (failed) logger.warn(line, 'call failed');
  else logger.info(line, 'call ended');
}
