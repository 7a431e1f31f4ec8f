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
  // 3: each record's size, and the total the byte budget (tasks.maxStoredMB) is checked against.
  `ALTER TABLE task_records ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE task_records SET stored_bytes = 200 + octet_length(kwargs) + coalesce(octet_length(exception_text), 0)
     + coalesce(octet_length(traceback), 0) + coalesce(octet_length(return_value), 0) + coalesce(octet_length(print_logs), 0);
   CREATE TABLE record_bytes (id INTEGER PRIMARY KEY CHECK (id = 1), total INTEGER NOT NULL);
   INSERT INTO record_bytes (id, total) SELECT 1, coalesce(sum(stored_bytes), 0) FROM task_records;
   CREATE TRIGGER record_bytes_insert AFTER INSERT ON task_records
     BEGIN UPDATE record_bytes SET total = total + NEW.stored_bytes; END;
   CREATE TRIGGER record_bytes_delete AFTER DELETE ON task_records
     BEGIN UPDATE record_bytes SET total = total - OLD.stored_bytes; END;
   CREATE TRIGGER record_bytes_update AFTER UPDATE OF stored_bytes ON task_records WHEN NEW.stored_bytes <> OLD.stored_bytes
     BEGIN UPDATE record_bytes SET total = total - OLD.stored_bytes + NEW.stored_bytes; END;`,
  // 4: DFF.STORE, scripts' persistent entries. A rowid table (values may be large); expired
  // rows are swept by expiry time.
  `CREATE TABLE script_store (
     scope TEXT NOT NULL,
     key TEXT NOT NULL,
     value_json TEXT NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (scope, key)
   );
   CREATE INDEX script_store_expiry ON script_store (expires_at) WHERE expires_at IS NOT NULL;`,
  // 5: the deploy history (every reload attempt, newest kept) and the pin a rollback sets.
  `CREATE TABLE deploy_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     trigger TEXT NOT NULL,
     result TEXT NOT NULL,
     commit_id TEXT,
     previous_commit TEXT,
     ms INTEGER,
     errors TEXT NOT NULL,
     fetch_error TEXT
   );
   CREATE TABLE deploy_pin (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     commit_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     head_at_pin TEXT
   );`,
];
