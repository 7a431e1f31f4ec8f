/**
 * The postgresql connector type on pg: a bounded pool per connector, rows as arrays with their
 * columns' kinds; dates and times travel as PostgreSQL writes them (no JavaScript Date between),
 * so the Python side gives datetime, date, time, Decimal, int and bytes as psycopg2 would.
 */
import pg, { type FieldDef, type PoolClient, type QueryResult } from 'pg';
import type { ConnectorFactory } from './connector-client.js';
import { type ColumnKind, connectionTarget, type DriverFailure, type SqlConfig, SqlConnector, sqlConfig, type SqlDriver, type SqlOutcome, sqlRows } from './sql-connector.js';

const { Client, DatabaseError, Pool, types } = pg;

/** Column kinds by type OID (PostgreSQL's pg_type). */
const COLUMN_KINDS: ReadonlyMap<number, ColumnKind> = new Map([
  [1114, 'datetime'], // timestamp
  [1184, 'datetime'], // timestamptz
  [1082, 'date'],
  [1083, 'time'],
  [1266, 'time'], // timetz
  [1700, 'decimal'], // numeric
  [20, 'int'], // int8 (pg gives it as text)
  [17, 'bytes'], // bytea
]);
/** Types kept as PostgreSQL's text instead of pg's parse (a Date, an interval object). */
const KEPT_AS_TEXT = new Set([1114, 1184, 1082, 1083, 1266, 1186]);

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    KEPT_AS_TEXT.has(oid) ? (text: string) => text : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/** SQLSTATE classes after which a connection is not used again: connection exceptions, operator intervention. */
const FATAL_SQLSTATE = /^(08|57P)/;

function outcomeOf(result: QueryResult<unknown[]>): SqlOutcome {
  const fields: FieldDef[] = result.fields ?? [];
  const kinds = fields.map((field) => COLUMN_KINDS.get(field.dataTypeID) ?? '');
  return { rows: sqlRows(fields.map((f) => f.name), kinds, result.rows), affectedRows: result.rowCount ?? 0 };
}

function connectionOptions(config: SqlConfig) {
  return {
    ...connectionTarget(config),
    ...(config.charset === undefined ? {} : { client_encoding: config.charset }),
    connectionTimeoutMillis: 10_000,
  };
}

class PostgresqlDriver implements SqlDriver<PoolClient> {
  readonly begin = 'BEGIN';
  private readonly pool: InstanceType<typeof Pool>;
  /** Clients given an error listener (a checked-out client's own error event has none otherwise). */
  private readonly watched = new WeakSet<PoolClient>();

  constructor(private readonly config: SqlConfig) {
    this.pool = new Pool({ ...connectionOptions(config), max: config.poolSize, idleTimeoutMillis: 60_000, types: typeParsers });
    // An idle connection that fails is dropped by the pool; the event only must not go unheard.
    this.pool.on('error', () => undefined);
  }

  async acquire(): Promise<PoolClient> {
    const client = await this.pool.connect();
    if (!this.watched.has(client)) {
      this.watched.add(client);
      client.on('error', () => undefined); // the statement running on it fails with the error
    }
    return client;
  }

  release(client: PoolClient): void {
    client.release();
  }

  discard(client: PoolClient): void {
    client.release(true);
  }

  async execute(client: PoolClient, sql: string): Promise<SqlOutcome> {
    const result = (await client.query({ text: sql, rowMode: 'array' })) as QueryResult<unknown[]> | QueryResult<unknown[]>[];
    // Several statements in one text answer one result each; psycopg2 shows the last.
    return outcomeOf(Array.isArray(result) ? result[result.length - 1]! : result);
  }

  /** Ends the client's backend from a connection of its own: the statement and its transaction end. */
  async stop(client: PoolClient): Promise<void> {
    const pid = (client as unknown as { processID: number }).processID;
    const killer = new Client(connectionOptions(this.config));
    killer.on('error', () => undefined);
    try {
      await killer.connect();
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await killer.end().catch(() => undefined);
    }
  }

  isFatal(error: unknown): boolean {
    return !(error instanceof DatabaseError) || FATAL_SQLSTATE.test(error.code ?? '');
  }

  describe(error: unknown): DriverFailure {
    const { message, code } = error as { message?: string; code?: string };
    return { message: message ?? String(error), code: code ?? null };
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** The postgresql connector type. */
export const createPostgresqlConnector: ConnectorFactory = (config, context) => {
  const settings = sqlConfig(config);
  return new SqlConnector(new PostgresqlDriver(settings), {
    id: context.id,
    poolSize: settings.poolSize,
    secrets: settings.password === undefined ? [] : [settings.password],
    logger: context.logger,
  });
};
