import type { AsyncCall, AsyncTaskQueue, QueueCancel, QueuedTask } from '../ports.js';
import type { SqliteDatabase } from './database.js';
import { fromRow, type RecordRow } from './record-rows.js';
import type { SqliteTaskRecords } from './sqlite-task-records.js';
import type { TaskRecord } from '../../model/task-record.js';

interface ClaimedRow extends RecordRow {
  queue_seq: number;
  call: string;
}

/**
 * The async queue as a table beside the task records: accepting a task writes its `queued`
 * record and its queue row in one transaction; finishing it writes the final record and
 * deletes the row in one transaction, so a task is never both done and still queued.
 */
export class SqliteAsyncQueue implements AsyncTaskQueue {
  /** Waiting (unclaimed) tasks, counted here so the bound costs no query per call. */
  private waiting: number;
  private readonly enqueueTx: (task: QueuedTask) => void;
  private readonly claimTx: (count: number, startTime: number, commit: string) => QueuedTask[];
  private readonly completeTx: (record: TaskRecord) => void;
  private readonly holdsQuery: { get(taskId: string): unknown };
  private readonly cancelTx: (taskId: string, endTime: number, reason: { exceptionType: string; exceptionText: string }) => 'cancelled' | 'claimed' | 'absent';

  constructor(
    private readonly db: SqliteDatabase,
    records: SqliteTaskRecords,
  ) {
    this.waiting = (db.prepare('SELECT count(*) AS n FROM async_queue WHERE claimed_at IS NULL').get() as { n: number }).n;
    const insertQueue = db.prepare<[string, string]>('INSERT INTO async_queue (task_id, call) VALUES (?, ?)');
    // Every write transaction here is IMMEDIATE: it takes the write lock first (waiting for
    // the record thread's connection through busy_timeout), instead of reading, then failing
    // at once with SQLITE_BUSY when the other connection wrote in between.
    this.enqueueTx = db.transaction((task: QueuedTask) => {
      records.save([task.record]);
      insertQueue.run(task.record.id, JSON.stringify(task.call));
    }).immediate;

    const oldest = db.prepare<[number], ClaimedRow>(
      `SELECT q.seq AS queue_seq, q.call AS call, r.* FROM async_queue q JOIN task_records r ON r.id = q.task_id
        WHERE q.claimed_at IS NULL ORDER BY q.seq LIMIT ?`,
    );
    const markClaimed = db.prepare<[number, number]>('UPDATE async_queue SET claimed_at = ? WHERE seq = ?');
    const markRunning = db.prepare<[number, string, string]>(
      `UPDATE task_records SET status = 'running', start_time = ?, commit_id = ? WHERE id = ?`,
    );
    this.claimTx = db.transaction((count: number, startTime: number, commit: string) =>
      oldest.all(count).map((row) => {
        markClaimed.run(startTime, row.queue_seq);
        markRunning.run(startTime, commit, row.id);
        const record: TaskRecord = { ...fromRow(row), status: 'running', startTime, commit };
        return { record, call: JSON.parse(row.call) as AsyncCall };
      }),
    ).immediate;

    this.holdsQuery = db.prepare<[string]>('SELECT 1 FROM async_queue WHERE task_id = ?');
    const dequeue = db.prepare<[string]>('DELETE FROM async_queue WHERE task_id = ?');
    const queueRow = db.prepare<[string], { claimed_at: number | null }>('SELECT claimed_at FROM async_queue WHERE task_id = ?');
    const markCancelled = db.prepare(
      `UPDATE task_records SET status = 'cancelled', end_time = @endTime, exception_type = @exceptionType, exception_text = @exceptionText WHERE id = @taskId`,
    );
    this.cancelTx = db.transaction((taskId: string, endTime: number, reason: { exceptionType: string; exceptionText: string }) => {
      const row = queueRow.get(taskId);
      if (row === undefined) return 'absent';
      if (row.claimed_at !== null) return 'claimed';
      markCancelled.run({ taskId, endTime, ...reason });
      dequeue.run(taskId);
      return 'cancelled';
    }).immediate;
    this.completeTx = db.transaction((record: TaskRecord) => {
      records.save([record]);
      dequeue.run(record.id);
    }).immediate;
  }

  async enqueue(task: QueuedTask, max: number): Promise<boolean> {
    if (this.waiting >= max) return false;
    this.enqueueTx(task);
    this.waiting++;
    return true;
  }

  async claim(count: number, startTime: number, commit: string): Promise<QueuedTask[]> {
    if (this.waiting === 0 || count <= 0) return [];
    const claimed = this.claimTx(count, startTime, commit);
    this.waiting -= claimed.length;
    return claimed;
  }

  async complete(record: TaskRecord): Promise<void> {
    this.completeTx(record);
  }

  async cancel(taskId: string, endTime: number, reason: { exceptionType: string; exceptionText: string }): Promise<QueueCancel> {
    const outcome = this.cancelTx(taskId, endTime, reason);
    if (outcome === 'cancelled') this.waiting--;
    return outcome;
  }

  async recoverClaimed(maxAttempts: number, now: number): Promise<{ requeued: number; abandoned: number }> {
    const claimed = 'SELECT task_id FROM async_queue WHERE claimed_at IS NOT NULL';
    const outcome = this.db.transaction(() => {
      const abandoned = this.db
        .prepare(
          `UPDATE task_records SET status = 'failure', end_time = @now, exception_type = 'TooManyAttempts',
             exception_text = 'the server stopped during each of its ' || attempt || ' attempts; not run again'
            WHERE attempt >= @maxAttempts AND id IN (${claimed})`,
        )
        .run({ now, maxAttempts }).changes;
      if (abandoned > 0) {
        this.db.prepare(`DELETE FROM async_queue WHERE claimed_at IS NOT NULL AND task_id IN (SELECT id FROM task_records WHERE status = 'failure')`).run();
      }
      this.db.prepare(`UPDATE task_records SET status = 'queued', attempt = attempt + 1, start_time = NULL WHERE id IN (${claimed})`).run();
      const requeued = this.db.prepare('UPDATE async_queue SET claimed_at = NULL WHERE claimed_at IS NOT NULL').run().changes;
      return { requeued, abandoned };
    }).immediate();
    this.waiting += outcome.requeued;
    return outcome;
  }

  async depth(): Promise<number> {
    return this.waiting;
  }

  async holds(taskId: string): Promise<boolean> {
    return this.holdsQuery.get(taskId) !== undefined;
  }
}
