import type { Statement } from 'better-sqlite3';
import type { CronFireLedger } from '../ports.js';
import type { SqliteDatabase } from './database.js';

/** Cron fires claimed so far, keyed by (job id, scheduled time). */
export class SqliteCronLedger implements CronFireLedger {
  private readonly insert: Statement<[string, number, string]>;
  private readonly latest: Statement<[string], { at: number | null }>;
  private readonly pruneStatement: Statement<[number]>;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare('INSERT OR IGNORE INTO cron_fires (job_id, scheduled_at, task_id) VALUES (?, ?, ?)');
    this.latest = db.prepare('SELECT max(scheduled_at) AS at FROM cron_fires WHERE job_id = ?');
    this.pruneStatement = db.prepare(
      `DELETE FROM cron_fires WHERE scheduled_at < ?
         AND scheduled_at < (SELECT max(scheduled_at) FROM cron_fires AS newer WHERE newer.job_id = cron_fires.job_id)`,
    );
  }

  async claim(jobId: string, scheduledAt: number, taskId: string): Promise<boolean> {
    return this.insert.run(jobId, scheduledAt, taskId).changes === 1;
  }

  async lastFire(jobId: string): Promise<number | undefined> {
    return this.latest.get(jobId)?.at ?? undefined;
  }

  async prune(before: number): Promise<number> {
    return this.pruneStatement.run(before).changes;
  }
}
