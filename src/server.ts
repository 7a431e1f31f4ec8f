import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request } from 'polka';
import type { Settings } from './config/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { createAdminCheck } from './http/admin-auth.js';
import { createApp } from './http/app.js';
import type { Readiness } from './http/health-api.js';
import { AsyncTaskRunner } from './invocation/async-task-runner.js';
import { Invoker } from './invocation/invoker.js';
import { InFlight } from './in-flight.js';
import { createLogger, type Logger } from './log.js';
import { buildRevision } from './revision/build-revision.js';
import { Reloader } from './revision/reloader.js';
import { RevisionHolder } from './revision/revision-holder.js';
import { ImportChecker } from './runtime/import-checker.js';
import { WorkerPool } from './runtime/pool.js';
import { CronRunner } from './schedule/cron-runner.js';
import { CronScheduler } from './schedule/cron-scheduler.js';
import { systemClock } from './schedule/fire-times.js';
import { RecordWriter } from './tasks/record-writer.js';
import { openSqliteStorage } from './tasks/sqlite/index.js';

/** A started gitfunc server. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  url: string;
  holder: RevisionHolder;
  pool: WorkerPool;
  /** Fetches and serves new commits (webhooks, polling, `POST /api/v1/reload`). */
  reloader: Reloader;
  /**
   * Graceful stop (SIGTERM): `/readyz` turns 503 at once, calls are still served for
   * `shutdown.drainSeconds`, then no new connection is accepted; calls in flight, running
   * async tasks and cron runs get `shutdown.graceSeconds` to end. Queued async tasks stay
   * in the durable queue for the next start.
   */
  shutdown(): Promise<void>;
  /** Stops at once: connections cut, running work abandoned (re-queued at the next start). */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Where `${NAME}` references of the manifest are read; the process environment by default. */
  processEnv?: NodeJS.ProcessEnv;
}

/** Calls waiting for a worker, per worker, before new calls get 503. */
const QUEUE_PER_WORKER = 64;
/** Time the HTTP server allows beyond the longest sync call before it gives up on a request. */
const REQUEST_TIMEOUT_MARGIN_MS = 30_000;
/** Sync and cron records wait at most this long in memory before they are written. */
const RECORD_FLUSH_MS = 100;
/** A batch is sent early after this many records; RecordBuffer keeps what it holds per API far smaller. */
const RECORD_BATCH = 5000;

type Phase = 'loading' | 'ready' | 'draining' | 'stopped';

/**
 * Listens at once (`/healthz` answers, `/readyz` says 503), fetches and loads the configured
 * revision into the worker pool, then starts cron and the async queue and reports ready.
 */
export async function startServer(settings: Settings, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(settings.log.level);
  const lock = lockDataDir(settings.dataDir);
  let storage: ReturnType<typeof openSqliteStorage>;
  try {
    storage = openSqliteStorage(settings.dataDir);
  } catch (error) {
    lock.release();
    throw error;
  }
  const pool = new WorkerPool(
    { workers: settings.workers, timeoutGraceMs: settings.callTimeoutGraceMs, maxQueue: settings.workers * QUEUE_PER_WORKER },
    logger,
  );
  const holder = new RevisionHolder();
  const invoker = new Invoker(pool, holder);
  const records = new RecordWriter(
    storage.recordSink,
    {
      flushMs: RECORD_FLUSH_MS,
      maxBatch: RECORD_BATCH,
      keep: (origin) => (origin === 'cronJob' || origin === 'manual' ? settings.tasks.keepPerCronJob : settings.tasks.keepPerApi),
    },
    logger,
  );
  const asyncRunner = new AsyncTaskRunner({ queue: storage.queue, holder, invoker, records, logger, concurrency: pool.backgroundSlots });
  const cronRunner = new CronRunner({ holder, invoker, records, logger });
  const scheduler = new CronScheduler({ ledger: storage.cronLedger, clock: systemClock, logger, run: (fire) => cronRunner.runFire(fire) });
  // Scripts of a new commit are first imported here, apart from the workers serving calls.
  const inspector = new ImportChecker({ timeoutGraceMs: settings.callTimeoutGraceMs }, logger);
  const reloader = new Reloader({
    source: { ...settings.repo, dataDir: settings.dataDir },
    pollSeconds: settings.repo.pollSeconds,
    holder,
    build: (commit, dir) =>
      buildRevision(commit, dir, {
        inspector,
        envAllow: settings.envAllow,
        processEnv: options.processEnv ?? process.env,
        mode: 'serve',
        syncTimeoutMaxSeconds: settings.limits.syncTimeoutMaxSeconds,
        importSeconds: settings.limits.importSeconds,
      }),
    warm: (revision, live, everyWorker) => pool.warm(revision.ref, live, everyWorker),
    onServed: (revision) => scheduler.replace(revision.cronJobs),
    logger,
  });

  /** Sync and async API calls being answered: a shutdown lets them finish. */
  const calls = new InFlight();
  let phase: Phase = 'loading';
  const readiness: Readiness = { ready: () => phase === 'ready', phase: () => phase };
  const check = createAdminCheck(settings.adminToken);
  const app = createApp({
    logger,
    readiness,
    sync: { holder, invoker, logger, bodyLimitBytes: settings.limits.bodyBytes, records, calls },
    async: {
      holder,
      queue: storage.queue,
      runner: asyncRunner,
      logger,
      bodyLimitBytes: settings.limits.bodyBytes,
      queueMax: settings.limits.asyncQueueMax,
      calls,
    },
    tasks: { check, store: storage.records, flushPending: () => records.flush() },
    status: {
      check,
      holder,
      readiness,
      pool,
      queue: storage.queue,
      scheduler,
      running: () => ({ asyncTasks: asyncRunner.running, cronRuns: cronRunner.running }),
      loadMs: () => reloader.loadMs,
      reload: () => reloader.status(),
    },
    reload: { check, reloader },
    cron: { check, scheduler, runner: cronRunner },
  });

  // polka's handler parses the URL itself; `Request` is the same object with fields it adds.
  const server = createServer((req, res) => void app.handler(req as Request, res, undefined as never));
  server.requestTimeout = settings.limits.syncTimeoutMaxSeconds * 1000 + REQUEST_TIMEOUT_MARGIN_MS;

  /** Releases everything but the HTTP server; running work is cut (and re-queued next start). */
  const release = async (): Promise<void> => {
    phase = 'stopped';
    reloader.close();
    scheduler.stop();
    void asyncRunner.stop(0);
    void cronRunner.drain(0);
    await Promise.all([pool.close(), inspector.close()]);
    await records.flush();
    await storage.close();
    lock.release();
    logger.flush();
  };

  try {
    await listen(server, settings.port, settings.host);
  } catch (error) {
    await release();
    throw error;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  logger.info({ url }, 'listening');

  const closeNow = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await release();
  };

  try {
    await reloader.start();
    scheduler.catchUp();
    asyncRunner.start();
    phase = 'ready';
  } catch (error) {
    await closeNow();
    throw error;
  }

  return {
    url,
    holder,
    pool,
    reloader,
    close: closeNow,
    shutdown: async () => {
      if (phase === 'draining' || phase === 'stopped') return;
      phase = 'draining';
      reloader.close();
      logger.info({ drainSeconds: settings.shutdown.drainSeconds }, 'draining: /readyz answers 503');
      scheduler.stop();
      const graceMs = settings.shutdown.graceSeconds * 1000;
      const asyncDone = asyncRunner.stop(graceMs + settings.shutdown.drainSeconds * 1000);
      await sleep(settings.shutdown.drainSeconds * 1000);
      server.close();
      server.closeIdleConnections();
      logger.info({ calls: calls.active, graceSeconds: settings.shutdown.graceSeconds }, 'no longer accepting connections');
      await Promise.all([calls.idle(graceMs), asyncDone, cronRunner.drain(graceMs)]);
      server.closeAllConnections();
      await release();
      logger.info({}, 'stopped');
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
