/**
 * The mysql connector type (MySQL, MariaDB) on mysql2: a bounded pool per connector, rows as
 * arrays with their columns' kinds, values as pymysql would give them once the Python side
 * converts them (DATETIME as datetime, DECIMAL as Decimal, BIGINT as int, BLOB as bytes,
 * TIME as timedelta, JSON as str).
 */
import { createConnection, createPool, type FieldPacket, type Pool, type PoolConnection, type ResultSetHeader } from 'mysql2';
import type { ConnectorFactory } from './connector-client.js';
import { type ColumnKind, connectionTarget, type DriverFailure, type SqlConfig, SqlConnector, sqlConfig, type SqlDriver, type SqlOutcome, sqlRows } from './sql-connector.js';

/** MySQL protocol column types that need a kind (the protocol's own numbers). */
const COLUMN_KINDS: ReadonlyMap<number, ColumnKind> = new Map([
  [0, 'decimal'], // DECIMAL
  [246, 'decimal'], // NEWDECIMAL
  [8, 'int'], // LONGLONG: read as text, so no digit is lost
  [7, 'datetime'], // TIMESTAMP
  [12, 'datetime'], // DATETIME
  [10, 'date'], // DATE
  [14, 'date'], // NEWDATE
  [11, 'timedelta'], // TIME
  [16, 'bytes'], // BIT
]);
/** String and blob types, which are bytes when their character set is binary. */
const STRING_TYPES = new Set([15, 249, 250, 251, 252, 253, 254]);
const BINARY_CHARSET = 63;

function kindOf(field: FieldPacket): ColumnKind {
  const type = field.columnType ?? field.type ?? -1;
  if (STRING_TYPES.has(type)) return field.characterSet === BINARY_CHARSET ? 'bytes' : '';
  return COLUMN_KINDS.get(type) ?? '';
}

/** A result of `query` with `rowsAsArray`: rows and their fields, or a statement's header. */
function outcomeOf(result: unknown, fields: FieldPacket[] | undefined): SqlOutcome {
  if (!Array.isArray(result) || fields === undefined) {
    const header = result as ResultSetHeader;
    return { rows: { columns: [], kinds: [], rows: [] }, affectedRows: header.affectedRows ?? 0 };
  }
  const kinds = fields.map(kindOf);
  const rows = result as unknown[][];
  return { rows: sqlRows(fields.map((f) => f.name), kinds, rows), affectedRows: rows.length };
}

function connectionOptions(config: SqlConfig) {
  return {
    ...connectionTarget(config),
    charset: config.charset ?? 'utf8mb4',
    // Values as text where JavaScript numbers or dates would change them; Python converts them.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    // One statement per call: DFF's `?` formatting is no place for a second one.
    multipleStatements: false,
    connectTimeout: 10_000,
  };
}

class MysqlDriver implements SqlDriver<PoolConnection> {
  readonly begin = 'START TRANSACTION';
  private readonly pool: Pool;

  constructor(private readonly config: SqlConfig) {
    this.pool = createPool({
      ...connectionOptions(config),
      connectionLimit: config.poolSize,
      maxIdle: config.poolSize,
      // Idle connections close after a minute; the pool opens new ones as calls need them.
      idleTimeout: 60_000,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
    });
    // A connection that fails while idle leaves the pool by itself; nobody waits on this event.
    this.pool.on('connection', (conn) => conn.on('error', () => undefined));
  }

  acquire(): Promise<PoolConnection> {
    return new Promise((resolve, reject) => this.pool.getConnection((error, conn) => (error ? reject(error) : resolve(conn))));
  }

  release(conn: PoolConnection): void {
    conn.release();
  }

  discard(conn: PoolConnection): void {
    conn.destroy();
  }

  execute(conn: PoolConnection, sql: string): Promise<SqlOutcome> {
    return new Promise((resolve, reject) => {
      conn.query({ sql, rowsAsArray: true }, (error, result, fields) => (error ? reject(error) : resolve(outcomeOf(result, fields))));
    });
  }

  /** KILL the connection's thread from a connection of its own: the statement and the connection end. */
  stop(conn: PoolConnection): Promise<void> {
    const threadId = conn.threadId;
    return new Promise((resolve, reject) => {
      const killer = createConnection(connectionOptions(this.config));
      killer.on('error', () => undefined);
      killer.query('KILL ?', [threadId], (error) => {
        killer.destroy();
        if (error) reject(error);
        else resolve();
      });
    });
  }

  isFatal(error: unknown): boolean {
    return (error as { fatal?: boolean }).fatal === true;
  }

  describe(error: unknown): DriverFailure {
    const { message, errno, code } = error as { message?: string; errno?: number; code?: string };
    return { message: message ?? String(error), code: typeof errno === 'number' && errno > 0 ? errno : (code ?? null) };
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.pool.end(() => resolve()));
  }
}

/** The mysql connector type. */
export const createMysqlConnector: ConnectorFactory = (config, context) => {
  const settings = sqlConfig(config);
  return new SqlConnector(new MysqlDriver(settings), {
    id: context.id,
    poolSize: settings.poolSize,
    secrets: settings.password === undefined ? [] : [settings.password],
    logger: context.logger,
  });
};
