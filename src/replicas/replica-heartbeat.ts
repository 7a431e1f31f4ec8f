/**
 * Each replica announces itself in Redis (CONTRACT section 13): a key with what it serves,
 * rewritten every HEARTBEAT_MS and expiring after EXPIRY_MS, so a replica that stopped
 * answering drops out of the list by itself. A sorted set (score: expiry time) indexes the keys.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const HEARTBEAT_MS = 2000;
/** Three missed heartbeats and a replica is no longer listed. */
const EXPIRY_MS = 3 * HEARTBEAT_MS;
/** Index entries of replicas gone longer than this are removed. */
const FORGET_AFTER_MS = 60_000;

/** What a replica says of itself at each heartbeat. */
export interface ReplicaState {
  /** The commit served; null while none is. */
  commit: string | null;
  /** The last reload: its state, and what failed last (fetch or build). */
  lastReload: unknown;
  workers: unknown;
}

/** A live replica as `GET /api/v1/status` lists it. */
export interface ReplicaInfo extends ReplicaState {
  id: string;
  url: string;
  startedAt: string;
  heartbeatAt: string;
}

export interface ReplicaHeartbeatOptions {
  redis: Redis;
  keyPrefix: string;
  id: string;
  url: string;
  /** Read at every heartbeat. */
  state: () => ReplicaState;
  logger: Logger;
}

export class ReplicaHeartbeat {
  private readonly startedAt = new Date().toISOString();
  private timer: NodeJS.Timeout | undefined;
  private readonly indexKey: string;

  constructor(private readonly options: ReplicaHeartbeatOptions) {
    this.indexKey = `${options.keyPrefix}replicas`;
  }

  get id(): string {
    return this.options.id;
  }

  /** Announces the replica now, then every HEARTBEAT_MS. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops announcing and leaves the list at once (a clean stop). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.options.redis.multi().unlink(this.keyOf(this.options.id)).zrem(this.indexKey, this.options.id).exec();
    } catch (error) {
      // The entry expires by itself within EXPIRY_MS.
      this.options.logger.debug({ err: error }, 'could not remove this replica from the list');
    }
  }

  /** The replicas whose heartbeat has not expired, by id. */
  async live(): Promise<ReplicaInfo[]> {
    const { redis } = this.options;
    const ids = await redis.zrangebyscore(this.indexKey, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const values = await redis.mget(ids.map((id) => this.keyOf(id)));
    return values
      .filter((value): value is string => value !== null)
      .map((value) => JSON.parse(value) as ReplicaInfo)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private async beat(): Promise<void> {
    const { redis, id, url, state, logger } = this.options;
    const now = Date.now();
    const info: ReplicaInfo = { id, url, startedAt: this.startedAt, heartbeatAt: new Date(now).toISOString(), ...state() };
    try {
      await redis
        .multi()
        .set(this.keyOf(id), JSON.stringify(info), 'PX', EXPIRY_MS)
        .zadd(this.indexKey, now + EXPIRY_MS, id)
        .zremrangebyscore(this.indexKey, '-inf', now - FORGET_AFTER_MS)
        .exec();
    } catch (error) {
      // Redis is out of reach (its client logged that once): the next beat tries again.
      logger.debug({ err: error }, 'heartbeat not written');
    }
  }

  private keyOf(id: string): string {
    return `${this.options.keyPrefix}replica:${id}`;
  }
}
