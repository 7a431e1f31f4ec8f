import type { Logger } from '../log.js';
import type { DeployEntry, ReloadSource } from '../model/deploy.js';
import type { DeployHistory } from '../tasks/deploy-history.js';
import type { ReloadOutcome } from './reload-status.js';

/** The history entry of one reload's outcome; undefined for a reload the server's stop cut short. */
export function entryOf(trigger: ReloadSource, outcome: ReloadOutcome, at: number): Omit<DeployEntry, 'id'> | undefined {
  const base = { at, trigger, previousCommit: null, ms: null, errors: [], fetchError: null };
  switch (outcome.result) {
    case 'served':
      return { ...base, result: 'served', commit: outcome.commit, previousCommit: outcome.previousCommit, ms: outcome.ms };
    case 'failed':
      return { ...base, result: 'failed', commit: outcome.commit, errors: outcome.errors };
    case 'fetchFailed':
      return { ...base, result: 'fetchFailed', commit: null, fetchError: { code: outcome.error.code, message: outcome.error.message } };
    case 'unchanged':
    case 'knownFailed':
    case 'pinned':
      return { ...base, result: outcome.result, commit: outcome.commit };
    case 'stopped':
      return undefined;
  }
}

/**
 * Writes each reload's outcome to the deploy history. A poll runs every few seconds, so one
 * that changes nothing (`unchanged`) is not recorded, and one whose result and commit repeat
 * the newest entry's poll is not recorded again: the history keeps attempts that tell something.
 */
export class DeployRecorder {
  private lastPoll: { result: string; commit: string | null } | undefined;

  constructor(
    private readonly history: DeployHistory,
    private readonly keep: number,
    private readonly logger: Logger,
  ) {}

  /** Records the outcome; a store failure is logged, never thrown (the reload itself is done). */
  async record(trigger: ReloadSource, outcome: ReloadOutcome): Promise<void> {
    const entry = entryOf(trigger, outcome, Date.now());
    if (entry === undefined || this.isRepeatedPoll(entry)) return;
    try {
      await this.history.add(entry, this.keep);
    } catch (error) {
      this.logger.warn({ err: error, trigger, result: entry.result }, 'recording the reload in the deploy history failed');
    }
  }

  private isRepeatedPoll(entry: Omit<DeployEntry, 'id'>): boolean {
    if (entry.trigger !== 'poll') {
      this.lastPoll = undefined;
      return false;
    }
    if (entry.result === 'unchanged') return true;
    const repeated = this.lastPoll?.result === entry.result && this.lastPoll.commit === entry.commit;
    this.lastPoll = { result: entry.result, commit: entry.commit };
    return repeated;
  }
}
