/**
 * A SQL connector's client (mysql, postgresql): statements run on the driver's bounded pool,
 * transactions held per worker until committed, rolled back or the call ends, and every wait
 * bounded by the calling script's deadline. What differs between the databases is a SqlDriver.
 * The Python side (gitfunc_conn_sql.py) fills DFF's `?` placeholders, so a statement arrives
 * here as finished SQL text.
 */
import type { Logger } from '../log.js';
import { BridgeRefusal, type BridgePeer } from '../runtime/bridge/bridge-server.js';
import { ConnectorDriverError, type ConnectorClient, type ConnectorOperation } from './connector-client.js';

/** How gitfunc_conn_sql.py turns a column's text back into a Python value ('' keeps it as it is). */
export type ColumnKind = '' | 'datetime' | 'date' | 'time' | 'timedelta' | 'decimal' | 'int' | 'bytes';

/** A statement's rows as the Python helper reads them. */
export interface SqlRows {
  columns: string[];
  kinds: ColumnKind[];
  /** Each row's values in column order; a `bytes` column's as base64. */
  rows: unknown[][];
}

export interface SqlOutcome {
  rows: SqlRows;
  /** Rows changed (or, for a query, returned), as DFF's `non_query` answers. */
  affectedRows: number;
}

/** A mysql or postgresql connector's config (the manifest's schema checked it; port and poolSize filled in). */
export interface SqlConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  charset?: string;
  poolSize: number;
}

/** A statement's rows for the Python helper: `bytes` columns' Buffers as base64 (in place). */
export function sqlRows(columns: string[], kinds: ColumnKind[], rows: unknown[][]): SqlRows {
  if (kinds.includes('bytes')) {
    for (const row of rows) for (let i = 0; i < row.length; i++) if (kinds[i] === 'bytes' && Buffer.isBuffer(row[i])) row[i] = (row[i] as Buffer).toString('base64');
  }
  return { columns, kinds, rows };
}

/** Where and as whom both drivers connect (each adds its own options). */
export function connectionTarget(config: SqlConfig): { host: string; port: number; user: string; password: string; database: string } {
  return { host: config.host, port: config.port, user: config.user, password: config.password ?? '', database: config.database };
}

/** The SQL settings of a connector's config. */
export function sqlConfig(config: Readonly<Record<string, unknown>>): SqlConfig {
  return config as unknown as SqlConfig;
}

/** A driver error's message and code (errno, SQLSTATE or a Node error code). */
export interface DriverFailure {
  message: string;
  code: string | number | null;
}

/** What differs between MySQL and PostgreSQL. */
export interface SqlDriver<Conn> {
  /** A connection of the pool; waits while every one is leased. */
  acquire(): Promise<Conn>;
  release(conn: Conn): void;
  /** Drops a connection that cannot be trusted any more (a statement was cut off, it failed). */
  discard(conn: Conn): void;
  execute(conn: Conn, sql: string): Promise<SqlOutcome>;
  /** Ends what runs on `conn` from another connection, so the database stops working on it. */
  stop(conn: Conn): Promise<void>;
  /** The statement that opens a transaction. */
  readonly begin: string;
  /** True when `error` leaves its connection unusable (not a statement's own SQL error). */
  isFatal(error: unknown): boolean;
  describe(error: unknown): DriverFailure;
  /** Closes the pool. */
  end(): Promise<void>;
}

export interface SqlConnectorOptions {
  /** The connector's id, for logs. */
  id: string;
  poolSize: number;
  /** Values never to show in a message (the password). */
  secrets: readonly string[];
  logger: Logger;
}

/** A transaction's rollback at the end of its call waits at most this long. */
const END_CALL_TIMEOUT_MS = 5_000;
const TIMED_OUT = Symbol('timed out');

/** `work`, or TIMED_OUT once `ms` have passed. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), TIMED_OUT)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A leased connection: given back exactly once. */
interface Lease<Conn> {
  conn: Conn;
  returned: boolean;
}

interface Transaction<Conn> {
  lease: Lease<Conn>;
  /** A statement of it is running. */
  busy: boolean;
  /** Its call ended while a statement ran: rolled back when that statement ends. */
  abandoned: boolean;
}

function sqlArg(args: readonly unknown[], index: number): string {
  const sql = args[index];
  if (typeof sql !== 'string' || sql.trim() === '') throw new BridgeRefusal('sql must be a non-empty string');
  return sql;
}

export class SqlConnector<Conn> implements ConnectorClient {
  private readonly transactions = new Map<BridgePeer, Map<number, Transaction<Conn>>>();
  private lastTransaction = 0;
  private closed = false;
  /** Operations running, awaited before the pool closes. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly driver: SqlDriver<Conn>,
    private readonly options: SqlConnectorOptions,
  ) {}

  run(operation: ConnectorOperation): Promise<unknown> {
    if (this.closed) return Promise.reject(new ConnectorDriverError(`connector '${this.options.id}' is closed`, 'CLOSED'));
    const work = this.dispatch(operation, Date.now() + operation.timeoutMs);
    this.running.add(work);
    void work.then(
      () => this.running.delete(work),
      () => this.running.delete(work),
    );
    return work;
  }

  private async dispatch({ op, args, peer }: ConnectorOperation, deadline: number): Promise<unknown> {
    switch (op) {
      case 'query':
        return (await this.once(sqlArg(args, 0), deadline)).rows;
      case 'nonQuery':
        return (await this.once(sqlArg(args, 0), deadline)).affectedRows;
      case 'begin':
        return { trans: await this.begin(peer, deadline) };
      case 'transQuery':
        return (await this.inTransaction(peer, args, deadline)).rows;
      case 'transNonQuery':
        return (await this.inTransaction(peer, args, deadline)).affectedRows;
      case 'commit':
      case 'rollback':
        await this.finish(this.take(peer, args[0]), op === 'commit' ? 'COMMIT' : 'ROLLBACK', deadline);
        return null;
      default:
        throw new BridgeRefusal(`unknown SQL connector operation '${op}'`);
    }
  }

  /** Rolls back the transactions `peer`'s call left open and returns their connections. */
  endCall(peer: BridgePeer): Promise<void> {
    // Taken at once: the worker's next call may already be sending requests.
    const open = this.transactions.get(peer);
    this.transactions.delete(peer);
    const endings: Promise<void>[] = [];
    for (const transaction of open?.values() ?? []) {
      if (transaction.busy) transaction.abandoned = true;
      else endings.push(this.rollBackQuietly(transaction));
    }
    return Promise.all(endings).then(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.transactions.keys()].map((peer) => this.endCall(peer)));
    await Promise.allSettled([...this.running]);
    await this.driver.end();
  }

  /** One statement on a connection of its own, committed at once. */
  private async once(sql: string, deadline: number): Promise<SqlOutcome> {
    const lease = await this.lease(deadline);
    try {
      return await this.statement(lease, sql, deadline);
    } finally {
      this.giveBack(lease, true);
    }
  }

  private async begin(peer: BridgePeer, deadline: number): Promise<number> {
    const lease = await this.lease(deadline);
    try {
      await this.statement(lease, this.driver.begin, deadline);
    } catch (error) {
      this.giveBack(lease, true);
      throw error;
    }
    const id = ++this.lastTransaction;
    let open = this.transactions.get(peer);
    if (open === undefined) this.transactions.set(peer, (open = new Map()));
    open.set(id, { lease, busy: false, abandoned: false });
    return id;
  }

  private async inTransaction(peer: BridgePeer, args: readonly unknown[], deadline: number): Promise<SqlOutcome> {
    const transaction = this.find(peer, args[0]);
    const sql = sqlArg(args, 1);
    if (transaction.busy) throw new BridgeRefusal('the transaction is running another statement');
    transaction.busy = true;
    try {
      return await this.statement(transaction.lease, sql, deadline);
    } finally {
      transaction.busy = false;
      if (transaction.lease.returned) this.forget(peer, transaction);
      else if (transaction.abandoned) void this.rollBackQuietly(transaction);
    }
  }

  private async finish(transaction: Transaction<Conn>, statement: 'COMMIT' | 'ROLLBACK', deadline: number): Promise<void> {
    try {
      await this.statement(transaction.lease, statement, deadline);
    } finally {
      this.giveBack(transaction.lease, true);
    }
  }

  private async rollBackQuietly(transaction: Transaction<Conn>): Promise<void> {
    try {
      await this.finish(transaction, 'ROLLBACK', Date.now() + END_CALL_TIMEOUT_MS);
    } catch (error) {
      this.options.logger.warn({ connector: this.options.id, err: this.failure(error) }, 'rolling back a transaction its call left open failed');
    }
  }

  private find(peer: BridgePeer, handle: unknown): Transaction<Conn> {
    const transaction = typeof handle === 'number' ? this.transactions.get(peer)?.get(handle) : undefined;
    if (transaction === undefined) throw new ConnectorDriverError('the transaction has ended (committed, rolled back, or cut off)', 'TRANSACTION_ENDED');
    return transaction;
  }

  /** Finds the transaction and removes it: it ends with this operation, whatever its outcome. */
  private take(peer: BridgePeer, handle: unknown): Transaction<Conn> {
    const transaction = this.find(peer, handle);
    if (transaction.busy) throw new BridgeRefusal('the transaction is running another statement');
    this.forget(peer, transaction);
    return transaction;
  }

  private forget(peer: BridgePeer, transaction: Transaction<Conn>): void {
    const open = this.transactions.get(peer);
    for (const [id, candidate] of open ?? []) if (candidate === transaction) open!.delete(id);
    if (open?.size === 0) this.transactions.delete(peer);
  }

  /** A pooled connection, waited for until the deadline. */
  private async lease(deadline: number): Promise<Lease<Conn>> {
    const acquiring = this.driver.acquire();
    let got: Conn | typeof TIMED_OUT;
    try {
      got = await within(acquiring, deadline - Date.now());
    } catch (error) {
      throw this.scriptError(error);
    }
    if (got === TIMED_OUT) {
      // The connection may still come: it goes straight back.
      acquiring.then(
        (conn) => this.driver.release(conn),
        () => undefined,
      );
      throw new ConnectorDriverError(`no free connection of connector '${this.options.id}' within the call's time (poolSize ${this.options.poolSize})`, 'TIMEOUT');
    }
    return { conn: got, returned: false };
  }

  /**
   * Runs one statement, until the deadline: then the database is told to stop it and the
   * connection is dropped (an open transaction on it is rolled back by the database).
   */
  private async statement(lease: Lease<Conn>, sql: string, deadline: number): Promise<SqlOutcome> {
    if (lease.returned) throw new ConnectorDriverError('the transaction has ended (committed, rolled back, or cut off)', 'TRANSACTION_ENDED');
    const running = this.driver.execute(lease.conn, sql);
    let outcome: SqlOutcome | typeof TIMED_OUT;
    try {
      outcome = await within(running, deadline - Date.now());
    } catch (error) {
      if (this.driver.isFatal(error)) this.giveBack(lease, false);
      throw this.scriptError(error);
    }
    if (outcome === TIMED_OUT) {
      running.catch(() => undefined); // it ends with the connection
      this.cutOff(lease);
      throw new ConnectorDriverError(`the statement did not finish within the call's time (connector '${this.options.id}')`, 'TIMEOUT');
    }
    return outcome;
  }

  /** Stops what runs on the lease's connection, then drops the connection. */
  private cutOff(lease: Lease<Conn>): void {
    if (lease.returned) return;
    lease.returned = true;
    void within(this.driver.stop(lease.conn), END_CALL_TIMEOUT_MS)
      .catch((error: unknown) => this.options.logger.warn({ connector: this.options.id, err: this.failure(error) }, 'stopping a statement past its deadline failed'))
      .finally(() => this.driver.discard(lease.conn));
  }

  private giveBack(lease: Lease<Conn>, healthy: boolean): void {
    if (lease.returned) return;
    lease.returned = true;
    if (healthy) this.driver.release(lease.conn);
    else this.driver.discard(lease.conn);
  }

  /** The driver's message and code, with any secret of the settings masked. */
  private failure(error: unknown): DriverFailure {
    const { message, code } = error instanceof ConnectorDriverError ? { message: error.message, code: null } : this.driver.describe(error);
    let masked = message;
    for (const secret of this.options.secrets) if (secret !== '') masked = masked.split(secret).join('***');
    return { message: masked, code };
  }

  private scriptError(error: unknown): BridgeRefusal {
    if (error instanceof BridgeRefusal) return error;
    const { message, code } = this.failure(error);
    return new ConnectorDriverError(message, code);
  }
}
