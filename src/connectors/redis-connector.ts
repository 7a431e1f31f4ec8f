/**
 * The `redis` connector type (CONTRACT section 12): one ioredis connection per connector,
 * shared by every worker (ioredis pipelines concurrent commands on it). Its one operation,
 * `command`, sends any Redis command as the Python helper spelled it
 * (runtime/python/gitfunc_conn_redis.py shapes the replies as DFF returns them).
 *
 * The connector is declared by the team in the manifest, so it is trusted: its host is not
 * checked against the egress rules that scripts' own sockets pass (network/).
 */
import { Redis, ReplyError } from 'ioredis';
import { ConnectorDriverError, type ConnectorClient, type ConnectorFactory, type ConnectorOperation } from './connector-client.js';
import { integerSetting, textSetting } from './connector-settings.js';

interface RedisSettings {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  database: number;
}

function readSettings(config: Readonly<Record<string, unknown>>): RedisSettings {
  return {
    host: textSetting(config, 'redis', 'host', '127.0.0.1'),
    port: integerSetting(config, 'redis', 'port', 1, 65535, 6379),
    username: textSetting(config, 'redis', 'user'),
    password: textSetting(config, 'redis', 'password'),
    database: integerSetting(config, 'redis', 'database', 0, 1_000_000, 0),
  };
}

/**
 * Commands that would change the shared connection for every script using it (its database,
 * its protocol, a transaction or subscription others' commands would fall into).
 */
const SHARED_CONNECTION_COMMANDS = new Set([
  'AUTH', 'HELLO', 'SELECT', 'QUIT', 'RESET', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'MONITOR',
  'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE',
]);

/** Commands that may wait on the server: each runs on its own connection, dropped at the deadline. */
const BLOCKING_COMMANDS = new Set(['BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BLMPOP', 'BZPOPMIN', 'BZPOPMAX', 'BZMPOP', 'WAIT', 'WAITAOF']);

function isBlocking(name: string, args: readonly string[]): boolean {
  if (BLOCKING_COMMANDS.has(name)) return true;
  return (name === 'XREAD' || name === 'XREADGROUP') && args.some((arg) => arg.toUpperCase() === 'BLOCK');
}

/** The command's name (upper case, as Redis spells it) and its arguments, all strings. */
function readCommand(args: readonly unknown[]): { name: string; args: string[] } {
  const [name, ...rest] = args;
  if (typeof name !== 'string' || name === '') throw new ConnectorDriverError('redis: a command needs its name first', 'ERR');
  const words = rest.map((arg) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' && Number.isFinite(arg)) return String(arg);
    throw new ConnectorDriverError(`redis: ${name.toUpperCase()} arguments must be strings or numbers`, 'ERR');
  });
  const upper = name.toUpperCase();
  if (SHARED_CONNECTION_COMMANDS.has(upper) || (upper === 'CLIENT' && words[0]?.toUpperCase() === 'REPLY')) {
    throw new ConnectorDriverError(`redis: ${upper} is not available on a connector's shared connection`, 'ERR');
  }
  return { name: upper, args: words };
}

/** A reply as JSON: bulk strings as text, integers kept, nested arrays kept. */
function jsonReply(reply: unknown): unknown {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string' || typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) return reply.map(jsonReply);
  // An error reply nested in an array (a Lua table with an `err` field): its message.
  if (reply instanceof Error) return reply.message;
  // ioredis turns some replies into objects (HGETALL): back to Redis' flat field-value array,
  // which the Python helper shapes as redis-py does.
  if (typeof reply === 'object') return Object.entries(reply).flatMap(([key, value]) => [key, jsonReply(value)]);
  return String(reply);
}

/** Redis' own error code: the first word of its error message (WRONGTYPE, ERR, NOSCRIPT...). */
function redisErrorCode(message: string): string {
  const word = /^[A-Z][A-Z_]*(?= |$)/.exec(message);
  return word ? word[0] : 'ERR';
}

/** Resolves with `promise`, or rejects at the deadline (after `onTimeout`). */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string, onTimeout: () => void = () => undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new ConnectorDriverError(`redis: ${what} got no answer before the call's deadline (${timeoutMs} ms)`, 'TIMEOUT'));
    }, Math.max(0, timeoutMs));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** One ioredis connection, with what its last failure reported. */
interface Connection {
  redis: Redis;
  /** ioredis rejects a failed `connect` with only "Connection is closed."; the cause comes as an event. */
  lastError?: Error & { code?: string };
  connecting?: Promise<void>;
}

class RedisConnector implements ConnectorClient {
  private readonly shared: Connection;
  private closed = false;

  constructor(private readonly settings: RedisSettings) {
    this.shared = this.newConnection();
  }

  private newConnection(): Connection {
    const redis = new Redis({
      host: this.settings.host,
      port: this.settings.port,
      username: this.settings.username,
      password: this.settings.password,
      db: this.settings.database,
      // Connected on first use and again after a failure, by `connect()`: a Redis that is down
      // fails each command at once instead of queueing it until the call's deadline.
      lazyConnect: true,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      connectTimeout: 10_000,
    });
    const connection: Connection = { redis };
    redis.on('error', (error: Error) => (connection.lastError = error));
    return connection;
  }

  async run(operation: ConnectorOperation): Promise<unknown> {
    if (this.closed) throw new ConnectorDriverError('redis: the connector was closed', 'CONNECTION_CLOSED');
    if (operation.op !== 'command') throw new ConnectorDriverError(`redis: no operation '${operation.op}'`, 'ERR');
    const command = readCommand(operation.args);
    const deadline = Date.now() + operation.timeoutMs;
    if (!isBlocking(command.name, command.args)) return this.send(this.shared, command, deadline);
    // A blocking command runs on a connection of its own, so it holds no other script's command up.
    const own = this.newConnection();
    try {
      return await this.send(own, command, deadline);
    } finally {
      own.redis.disconnect();
    }
  }

  private async send(connection: Connection, command: { name: string; args: string[] }, deadline: number): Promise<unknown> {
    try {
      await withDeadline(this.connect(connection), deadline - Date.now(), `connecting to ${this.address()}`);
    } catch (error) {
      throw this.connectError(connection, error);
    }
    try {
      return jsonReply(await withDeadline(connection.redis.call(command.name, ...command.args), deadline - Date.now(), command.name));
    } catch (error) {
      throw this.commandError(error);
    }
  }

  /** Connects when not connected (first use, or after the connection failed or dropped). */
  private connect(connection: Connection): Promise<void> {
    if (connection.redis.status === 'ready') return Promise.resolve();
    if (connection.connecting === undefined) {
      connection.lastError = undefined;
      connection.connecting = connection.redis.connect().finally(() => (connection.connecting = undefined));
    }
    return connection.connecting;
  }

  /** Why the server could not be reached, for the script (never the password). */
  private connectError(connection: Connection, error: unknown): ConnectorDriverError {
    if (error instanceof ConnectorDriverError) return error;
    const cause: Error & { code?: unknown } = connection.lastError ?? (error instanceof Error ? error : new Error(String(error)));
    // ioredis types ReplyError as `any`; it is the class of every error reply from Redis.
    if (cause instanceof ReplyError) {
      // Refused at connection time: WRONGPASS, NOAUTH, a database out of range.
      const message = (cause as Error).message;
      return new ConnectorDriverError(`redis: ${this.address()} refused the connection: ${message}`, redisErrorCode(message));
    }
    if (typeof cause.code === 'string') return new ConnectorDriverError(`redis: cannot connect to ${this.address()} (${cause.code})`, cause.code);
    return new ConnectorDriverError(`redis: cannot connect to ${this.address()}: ${cause.message}`, 'CONNECTION_FAILED');
  }

  /** Redis' own error (message and code), or the connection lost during the command. */
  private commandError(error: unknown): ConnectorDriverError {
    if (error instanceof ConnectorDriverError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ReplyError) return new ConnectorDriverError(message, redisErrorCode(message));
    return new ConnectorDriverError(`redis: the connection to ${this.address()} failed: ${message}`, 'CONNECTION_CLOSED');
  }

  private address(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    const { redis } = this.shared;
    if (redis.status !== 'ready') {
      redis.disconnect();
      return;
    }
    // QUIT lets commands in flight finish; a server that does not answer is dropped.
    await withDeadline(redis.quit(), 1_000, 'QUIT', () => redis.disconnect()).catch(() => redis.disconnect());
  }
}

/** The `redis` connector type: `config` {host, port, user?, password?, database?}. */
export const createRedisConnector: ConnectorFactory = (config) => new RedisConnector(readSettings(config));
