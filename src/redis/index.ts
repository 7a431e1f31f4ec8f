/**
 * The shared store of several replicas (settings `redis.*`): every storage port on one Redis,
 * each port's failure to reach Redis reported as SharedStoreUnavailable (503.4).
 */
import type { Redis } from 'ioredis';
import type { ThrottleStore } from '../access/throttle.js';
import type { CacheStore } from '../cache/cache-store.js';
import type { ResultCache } from '../cache/result-cache.js';
import type { Logger } from '../log.js';
import type { AsyncTaskQueue, CronFireLedger, RecordBatchSink, TaskRecordStore } from '../tasks/ports.js';
import type { ScriptStore } from '../tasks/script-store.js';
import { BullmqAsyncQueue } from './bullmq-async-queue.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { connectRedis } from './redis-connection.js';
import { RedisCronLedger } from './redis-cron-ledger.js';
import { RedisResultCache } from './redis-result-cache.js';
import { RedisScriptStore } from './redis-script-store.js';
import { RedisTaskRecords } from './redis-task-records.js';
import { RedisThrottleStore } from './redis-throttle-store.js';
import { reportingUnavailable } from './shared-store-unavailable.js';

export interface RedisStorageOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
  /** This replica's upload folders: a task's files travel in its job and are restored there. */
  uploadRoot: string;
}

/** An async call is answered 503.4 rather than kept waiting longer than this for Redis. */
const ENQUEUE_DEADLINE_MS = 5000;

/** The ports of the embedded store (tasks/sqlite/) and the in-memory caches, on Redis. */
export interface RedisStorage {
  records: TaskRecordStore;
  recordSink: RecordBatchSink;
  queue: AsyncTaskQueue;
  cronLedger: CronFireLedger;
  scriptStore: ScriptStore;
  cache: CacheStore;
  resultCache: ResultCache;
  throttle: ThrottleStore;
  /** The client the stores share, for the replicas' own keys (heartbeats, reload fan-out). */
  redis: Redis;
  /** A client of its own on the same Redis (a subscriber sends no other command); `role` names it in the logs. */
  connect(role: string): Promise<Redis>;
  /** Whether Redis answers right now (`/readyz`). */
  reachable(): boolean;
  close(): Promise<void>;
}

/** Connects to Redis (rejects if it cannot be reached at start) and builds every store on it. */
export async function openRedisStorage(options: RedisStorageOptions): Promise<RedisStorage> {
  const { url, keyPrefix, logger, uploadRoot } = options;
  const redis = await connectRedis({ url, logger, role: 'stores' });
  const reachable = (): boolean => redis.status === 'ready';
  const records = new RedisTaskRecords(redis, keyPrefix);
  const queue = new BullmqAsyncQueue({ redisUrl: url, keyPrefix, records, logger, uploadRoot });
  const rules = { reachable };
  return {
    records: reportingUnavailable<TaskRecordStore>(records, 'taskRecords', rules),
    recordSink: reportingUnavailable<RecordBatchSink>(records, 'taskRecords', rules),
    // BullMQ's own connection waits for Redis to come back: an accept must not wait with it.
    queue: reportingUnavailable<AsyncTaskQueue>(queue, 'asyncQueue', { reachable, deadlinesMs: { enqueue: ENQUEUE_DEADLINE_MS } }),
    cronLedger: reportingUnavailable<CronFireLedger>(new RedisCronLedger(redis, keyPrefix), 'cronLedger', rules),
    scriptStore: reportingUnavailable<ScriptStore>(new RedisScriptStore(redis, keyPrefix), 'store', rules),
    cache: reportingUnavailable<CacheStore>(new RedisCacheStore(redis, keyPrefix), 'cache', rules),
    resultCache: reportingUnavailable<ResultCache>(new RedisResultCache(redis, keyPrefix), 'resultCache', rules),
    throttle: reportingUnavailable<ThrottleStore>(new RedisThrottleStore(redis, keyPrefix), 'throttle', rules),
    redis,
    connect: (role) => connectRedis({ url, logger, role }),
    reachable,
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}
