import type { Statement } from 'better-sqlite3';
import type { Clock } from '../../model/clock.js';
import type { ScriptStore } from '../script-store.js';
import type { SqliteDatabase } from './database.js';

/** An entry is live while its expiry is unset or still ahead (named parameter `now`). */
const LIVE = '(expires_at IS NULL OR expires_at > @now)';
/** Expired rows deleted per statement by a sweep, so no sweep holds the write lock for long. */
const SWEEP_BATCH = 1000;

/** DFF's `*` and `?` as a GLOB pattern: `[` is GLOB's only other special character. */
function globOf(pattern: string): string {
  return pattern.replaceAll('[', '[[]');
}

/**
 * DFF.STORE entries in the data dir's database, on the serving thread's connection: every
 * operation is one prepared statement of a few µs (writes are WAL appends, no fsync), and each
 * write statement takes the write lock before it reads, waiting out the record thread's
 * batches through busy_timeout like the async queue does. Expired rows are ignored on read
 * and deleted by `sweepExpired`.
 */
export class SqliteScriptStore implements ScriptStore {
  private readonly getStatement: Statement<{ scope: string; key: string; now: number }, { value_json: string }>;
  private readonly mgetStatement: Statement<{ scope: string; keys: string; now: number }, { key: string; value_json: string }>;
  private readonly upsert: Statement<{ scope: string; key: string; value: string; expiresAt: number | null }>;
  /** Inserts, or replaces only an expired entry. */
  private readonly insertIfAbsent: Statement<{ scope: string; key: string; value: string; expiresAt: number | null; now: number }>;
  private readonly keysStatement: Statement<{ scope: string; glob: string; now: number }, { key: string }>;
  private readonly deleteStatement: Statement<{ scope: string; key: string; now: number }, { live: number }>;
  private readonly sweepStatement: Statement<{ now: number }>;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.getStatement = db.prepare(`SELECT value_json FROM script_store WHERE scope = @scope AND key = @key AND ${LIVE}`);
    this.mgetStatement = db.prepare(
      `SELECT key, value_json FROM script_store WHERE scope = @scope AND key IN (SELECT value FROM json_each(@keys)) AND ${LIVE}`,
    );
    const insert = 'INSERT INTO script_store (scope, key, value_json, expires_at) VALUES (@scope, @key, @value, @expiresAt)';
    const replace = 'ON CONFLICT (scope, key) DO UPDATE SET value_json = excluded.value_json, expires_at = excluded.expires_at';
    this.upsert = db.prepare(`${insert} ${replace}`);
    this.insertIfAbsent = db.prepare(`${insert} ${replace} WHERE script_store.expires_at <= @now`);
    this.keysStatement = db.prepare(`SELECT key FROM script_store WHERE scope = @scope AND key GLOB @glob AND ${LIVE} ORDER BY key`);
    this.deleteStatement = db.prepare(`DELETE FROM script_store WHERE scope = @scope AND key = @key RETURNING ${LIVE} AS live`);
    this.sweepStatement = db.prepare(
      `DELETE FROM script_store WHERE rowid IN (SELECT rowid FROM script_store WHERE expires_at <= @now LIMIT ${SWEEP_BATCH})`,
    );
  }

  async get(scope: string, key: string): Promise<string | undefined> {
    return this.getStatement.get({ scope, key, now: this.clock.now() })?.value_json;
  }

  async mget(scope: string, keys: readonly string[]): Promise<(string | undefined)[]> {
    const found = new Map<string, string>();
    for (const row of this.mgetStatement.iterate({ scope, keys: JSON.stringify(keys), now: this.clock.now() })) found.set(row.key, row.value_json);
    return keys.map((key) => found.get(key));
  }

  async set(scope: string, key: string, valueJson: string, ttlMs: number | undefined, notExists: boolean): Promise<boolean> {
    const now = this.clock.now();
    const entry = { scope, key, value: valueJson, expiresAt: ttlMs === undefined ? null : now + ttlMs };
    // With notExists, a live entry makes the update's WHERE false: nothing changes.
    return (notExists ? this.insertIfAbsent.run({ ...entry, now }) : this.upsert.run(entry)).changes === 1;
  }

  async keys(scope: string, pattern: string): Promise<string[]> {
    return this.keysStatement.all({ scope, glob: globOf(pattern), now: this.clock.now() }).map((row) => row.key);
  }

  async delete(scope: string, key: string): Promise<boolean> {
    return this.deleteStatement.get({ scope, key, now: this.clock.now() })?.live === 1;
  }

  /** Deletes every expired row, a batch per statement; returns how many. */
  sweepExpired(): number {
    const now = this.clock.now();
    let deleted = 0;
    for (;;) {
      const changes = this.sweepStatement.run({ now }).changes;
      deleted += changes;
      if (changes < SWEEP_BATCH) return deleted;
    }
  }
}
