/**
 * The one place gitfunc's Redis clients are made (settings `redis.*`): every client fails fast
 * while Redis is out of reach (a call never hangs on it), reconnects forever on its own, and
 * says so in the log once when lost and once when back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';

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
export function redisClientOptions(): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  };
}

/** A Redis client of gitfunc, connected; reconnection is logged once per outage. */
export async function connectRedis(options: RedisConnectionOptions): Promise<Redis> {
  const client = new Redis(options.url, redisClientOptions());
  watchConnection(client, options.logger, options.role);
  await client.connect();
  return client;
}

/** Logs a client's outage once ("redis connection lost") and its end ("redis reconnected"). */
export function watchConnection(client: Redis, logger: Logger, role: string): void {
  let lost = false;
  let lastError: string | undefined;
  const host = `${client.options.host ?? ''}:${client.options.port ?? ''}`;
  client.on('error', (error: Error) => {
    // Every failed reconnection emits one; the outage is logged once, on 'close'.
    lastError = error.message;
  });
  client.on('close', () => {
    if (lost || client.status === 'end') return;
    lost = true;
    logger.warn({ redis: host, role, reason: lastError ?? 'connection closed' }, 'redis connection lost');
  });
  client.on('ready', () => {
    lastError = undefined;
    if (!lost) return;
    lost = false;
    logger.info({ redis: host, role }, 'redis reconnected');
  });
}
