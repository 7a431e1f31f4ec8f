/**
 * A reload reaching one replica reaches them all (CONTRACT section 13): a webhook or
 * `POST /api/v1/reload` is published on a Redis channel, and every other replica fetches and
 * builds on its own. Only a request is sent: each replica verifies the commit it fetches.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { ReloadOutcome, ReloadStatus } from '../revision/reload-status.js';
import type { ReloadRequest, ReloadSource, ReloadTrigger } from '../revision/reload-trigger.js';

/** What the fan-out drives: the replica's own reloader. */
export interface LocalReloader extends ReloadTrigger {
  reloadNow(request: ReloadRequest): Promise<ReloadOutcome>;
  status(): ReloadStatus;
}

interface ReloadAnnouncement {
  from: string;
  source: ReloadSource;
  commitHint?: string;
}

export interface ReloadFanOutOptions {
  reloader: LocalReloader;
  /** The client publishing. */
  redis: Redis;
  /** Makes the subscriber's own client (a subscribed client sends no other command). */
  connect: (role: string) => Promise<Redis>;
  keyPrefix: string;
  logger: Logger;
}

/** The replica's reloader as the routes see it: the same requests, announced to the other replicas. */
export class ReloadFanOut implements LocalReloader {
  private subscriber: Redis | undefined;
  private readonly channel: string;
  /** Known once the server listens (it defaults to host:port:pid); until then nothing is announced. */
  private replicaId: string | undefined;

  constructor(private readonly options: ReloadFanOutOptions) {
    this.channel = `${options.keyPrefix}reload`;
  }

  /** Listens for the other replicas' reloads, and announces this one's as `replicaId`. */
  async start(replicaId: string): Promise<void> {
    const { connect, logger, reloader } = this.options;
    this.replicaId = replicaId;
    const subscriber = await connect('reload fan-out');
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => {
      const announcement = parseAnnouncement(message);
      if (announcement === undefined || announcement.from === replicaId) return;
      logger.info({ from: announcement.from, source: announcement.source }, 'reload announced by another replica');
      reloader.request({ source: announcement.source, ...(announcement.commitHint ? { commitHint: announcement.commitHint } : {}) });
    });
    await subscriber.subscribe(this.channel);
    // Any later 'ready' is a reconnection: an announcement may have been missed meanwhile, so look at the head once.
    subscriber.on('ready', () => reloader.request({ source: 'poll' }));
  }

  request(request: ReloadRequest): void {
    this.options.reloader.request(request);
    this.announce(request);
  }

  reloadNow(request: ReloadRequest): Promise<ReloadOutcome> {
    this.announce(request);
    return this.options.reloader.reloadNow(request);
  }

  status(): ReloadStatus {
    return this.options.reloader.status();
  }

  close(): void {
    this.subscriber?.disconnect();
  }

  private announce(request: ReloadRequest): void {
    if (this.replicaId === undefined) return;
    const announcement: ReloadAnnouncement = { from: this.replicaId, source: request.source, ...(request.commitHint ? { commitHint: request.commitHint } : {}) };
    this.options.redis.publish(this.channel, JSON.stringify(announcement)).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'reload not announced to the other replicas: Redis is out of reach (they reload when it is back)');
    });
  }
}

function parseAnnouncement(message: string): ReloadAnnouncement | undefined {
  try {
    const parsed = JSON.parse(message) as Partial<ReloadAnnouncement>;
    return typeof parsed.from === 'string' && typeof parsed.source === 'string' ? (parsed as ReloadAnnouncement) : undefined;
  } catch {
    return undefined; // not ours: nothing to do
  }
}
