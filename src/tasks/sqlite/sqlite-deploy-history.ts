import type { Statement } from 'better-sqlite3';
import type { Problem } from '../../errors.js';
import type { DeployEntry, DeployPin, DeployResult, ReloadSource } from '../../model/deploy.js';
import type { DeployHistory } from '../deploy-history.js';
import type { SqliteDatabase } from './database.js';

interface EntryRow {
  id: number;
  at: number;
  trigger: string;
  result: string;
  commit_id: string | null;
  previous_commit: string | null;
  ms: number | null;
  errors: string;
  fetch_error: string | null;
}

interface PinRow {
  commit_id: string;
  at: number;
  head_at_pin: string | null;
}

function fromRow(row: EntryRow): DeployEntry {
  return {
    id: row.id,
    at: row.at,
    trigger: row.trigger as ReloadSource,
    result: row.result as DeployResult,
    commit: row.commit_id,
    previousCommit: row.previous_commit,
    ms: row.ms,
    errors: JSON.parse(row.errors) as Problem[],
    fetchError: row.fetch_error === null ? null : (JSON.parse(row.fetch_error) as DeployEntry['fetchError']),
  };
}

/** The deploy history and pin in the data dir's SQLite file (a few rows; written once per reload). */
export class SqliteDeployHistory implements DeployHistory {
  private readonly addTx: (entry: Omit<DeployEntry, 'id'>, keep: number) => void;
  private readonly newest: Statement<[number], EntryRow>;
  private readonly readPin: Statement<[], PinRow>;
  private readonly writePin: Statement<[string, number, string | null]>;
  private readonly clearPin: Statement<[]>;

  constructor(db: SqliteDatabase) {
    const insert = db.prepare(
      `INSERT INTO deploy_history (at, trigger, result, commit_id, previous_commit, ms, errors, fetch_error)
       VALUES (@at, @trigger, @result, @commit, @previousCommit, @ms, @errors, @fetchError)`,
    );
    const trim = db.prepare<[number]>('DELETE FROM deploy_history WHERE id <= (SELECT max(id) FROM deploy_history) - ?');
    this.addTx = db.transaction((entry: Omit<DeployEntry, 'id'>, keep: number) => {
      insert.run({ ...entry, errors: JSON.stringify(entry.errors), fetchError: entry.fetchError === null ? null : JSON.stringify(entry.fetchError) });
      trim.run(keep);
    }).immediate;
    this.newest = db.prepare('SELECT * FROM deploy_history ORDER BY id DESC LIMIT ?');
    this.readPin = db.prepare('SELECT commit_id, at, head_at_pin FROM deploy_pin WHERE id = 1');
    this.writePin = db.prepare('INSERT OR REPLACE INTO deploy_pin (id, commit_id, at, head_at_pin) VALUES (1, ?, ?, ?)');
    this.clearPin = db.prepare('DELETE FROM deploy_pin');
  }

  async add(entry: Omit<DeployEntry, 'id'>, keep: number): Promise<void> {
    this.addTx(entry, keep);
  }

  async list(limit: number): Promise<DeployEntry[]> {
    return this.newest.all(limit).map(fromRow);
  }

  async pin(): Promise<DeployPin | undefined> {
    const row = this.readPin.get();
    return row === undefined ? undefined : { commit: row.commit_id, at: row.at, headAtPin: row.head_at_pin };
  }

  async setPin(pin: DeployPin | undefined): Promise<void> {
    if (pin === undefined) this.clearPin.run();
    else this.writePin.run(pin.commit, pin.at, pin.headAtPin);
  }
}
