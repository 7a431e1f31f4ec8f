import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GitfuncError } from '../../errors.js';
import { MIGRATIONS } from './migrations.js';

export type SqliteDatabase = Database.Database;

/** The store's file inside the data dir. */
export const DATABASE_FILE = 'gitfunc.db';

/**
 * Opens (creating if needed) the data dir's database and migrates it to the current schema.
 * WAL with synchronous=NORMAL: a committed transaction survives the process being killed;
 * only an OS crash or power loss can lose the last moments.
 */
export function openDatabase(dataDir: string, migrations: readonly string[] = MIGRATIONS): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, DATABASE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the migrations past the database's version, all in one transaction. */
function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > migrations.length) {
    throw new GitfuncError(
      'STORE_TOO_NEW',
      `the task database is at schema version ${version}, newer than this gitfunc knows (${migrations.length}); upgrade gitfunc or use another data dir`,
      { version, known: migrations.length },
    );
  }
  if (version === migrations.length) return;
  db.transaction(() => {
    for (let next = version; next < migrations.length; next++) db.exec(migrations[next]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
}
