/**
 * The one place gitfunc's Redis clients are made (settings `redis.*`): every client fails fast
 * while Redis is out of reach (a call never hangs on it), reconnects forever on its own, and
 * says so in the log once when lost and once when back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { SharedStoreUnavailable } from './shared-store-unavailable.js';

/** A command, or a connection attempt, given up after this long. */
const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 2000;
/** Reconnection attempts back off to at most this interval, forever. */
const MAX_RECONNECT_DELAY_MS = 1000;

export interface RedisConnectionOptions {
  url: string;
  logger: Logger;
  /** Names the client in the logs ("commands", "subscriber"...). */
  role: string;
}

/**
 * ioredis options of every gitfunc client: no offline queue (a command while disconnected
 * rejects at once instead of piling up in memory), one try per command, timeouts on
 * commands and connecting, reconnection forever.
 */
function redisClientOptions(): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  };
}

/**
 * A Redis client of gitfunc, connected; reconnection is logged once per outage.
 * @throws SharedStoreUnavailable when Redis cannot be reached now (a server does not start without it)
 */
export async function connectRedis(options: RedisConnectionOptions): Promise<Redis> {
  const client = new Redis(options.url, redisClientOptions());
  watchConnection(client, options.logger, options.role);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect(); // no reconnecting in the background of a start that failed
    throw new SharedStoreUnavailable(`connecting (${options.role})`, error);
  }
  return client;
}

/** Logs a client's outage once ("redis connection lost") and its end ("redis reconnected"). */
function watchConnection(client: Redis, logger: Logger, role: string): void {
  let connected = false;
  let lost = false;
  let lastError: string | undefined;
  const host = `${client.options.host ?? ''}:${client.options.port ?? ''}`;
  client.on('error', (error: Error) => {
    // Every failed reconnection emits one; the outage is logged once, on 'close'.
    lastError = error.message;
  });
  client.on('close', () => {
    // Before the first connection a failure is the start's own error, not an outage; and a
    // client closed on purpose turns 'end' right after this event.
    setImmediate(() => {
      if (!connected || lost || client.status === 'end') return;
      lost = true;
      logger.warn({ redis: host, role, reason: lastError ?? 'connection closed' }, 'redis connection lost');
    });
  });
  client.on('ready', () => {
    connected = true;
    lastError = undefined;
    if (!lost) return;
    lost = false;
    logger.info({ redis: host, role }, 'redis reconnected');
  });
}
