/**
 * The store's schema, one migration per version. `PRAGMA user_version` holds the version a
 * database is at; opening it applies the missing steps in one transaction. Never edit a step
 * that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: task records.
  `CREATE TABLE task_records (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     func_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     origin_id TEXT NOT NULL,
     kwargs TEXT NOT NULL,
     commit_id TEXT NOT NULL,
     trigger_time INTEGER NOT NULL,
     start_time INTEGER,
     end_time INTEGER,
     attempt INTEGER NOT NULL,
     status TEXT NOT NULL,
     exception_type TEXT,
     exception_text TEXT,
     traceback TEXT,
     return_value TEXT,
     print_logs TEXT
   );
   CREATE INDEX task_records_by_origin ON task_records (origin, origin_id, seq);
   -- No index by function or status: trimming keeps the table small enough to scan.`,
  // 2: the durable async queue and the cron fire ledger.
  `CREATE TABLE async_queue (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id TEXT NOT NULL UNIQUE REFERENCES task_records (id) ON DELETE CASCADE,
     call TEXT NOT NULL,
     claimed_at INTEGER
   );
   CREATE INDEX async_queue_waiting ON async_queue (claimed_at, seq);
   CREATE TABLE cron_fires (
     job_id TEXT NOT NULL,
     scheduled_at INTEGER NOT NULL,
     task_id TEXT NOT NULL,
     PRIMARY KEY (job_id, scheduled_at)
   ) WITHOUT ROWID;`,
];
