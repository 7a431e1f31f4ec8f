import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request } from 'polka';
import type { Settings } from './config/index.js';
import { RevisionInvalidError } from './errors.js';
import { fetchRevision } from './git/index.js';
import { createAdminCheck } from './http/admin-auth.js';
import { createApp } from './http/app.js';
import type { Readiness } from './http/health-api.js';
import type { UploadSupport } from './http/upload-call.js';
import { AsyncTaskRunner } from './invocation/async-task-runner.js';
import { Invoker } from './invocation/invoker.js';
import { InFlight } from './in-flight.js';
import { createLogger, type Logger } from './log.js';
import { buildRevision } from './revision/build-revision.js';
import { RevisionHolder } from './revision/revision-holder.js';
import { WorkerPool } from './runtime/pool.js';
import { CronRunner } from './schedule/cron-runner.js';
import { CronScheduler } from './schedule/cron-scheduler.js';
import { systemClock } from './schedule/fire-times.js';
import { RecordWriter } from './tasks/record-writer.js';
import { UploadFolders } from './uploads/upload-folders.js';
import { openSqliteStorage } from './tasks/sqlite/index.js';

/** A started gitfunc server. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  url: string;
  holder: RevisionHolder;
  pool: WorkerPool;
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
  const storage = openSqliteStorage(settings.dataDir);
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
  const uploadFolders = new UploadFolders(settings.dataDir, logger);
  const uploads: UploadSupport = {
    folders: uploadFolders,
    limits: {
      fileBytes: settings.limits.uploadFileBytes,
      totalBytes: settings.limits.uploadTotalBytes,
      files: settings.limits.uploadFiles,
      fieldBytes: settings.limits.bodyBytes,
    },
  };
  const asyncRunner = new AsyncTaskRunner({
    queue: storage.queue,
    holder,
    invoker,
    records,
    logger,
    concurrency: pool.backgroundSlots,
    uploads: uploadFolders,
  });
  const cronRunner = new CronRunner({ holder, invoker, records, logger });
  const scheduler = new CronScheduler({ ledger: storage.cronLedger, clock: systemClock, logger, run: (fire) => cronRunner.runFire(fire) });

  /** Sync and async API calls being answered: a shutdown lets them finish. */
  const calls = new InFlight();
  let phase: Phase = 'loading';
  let loadMs: number | undefined;
  const readiness: Readiness = { ready: () => phase === 'ready', phase: () => phase };
  const check = createAdminCheck(settings.adminToken);
  const app = createApp({
    logger,
    readiness,
    sync: { holder, invoker, logger, bodyLimitBytes: settings.limits.bodyBytes, records, calls, uploads },
    async: {
      holder,
      queue: storage.queue,
      runner: asyncRunner,
      logger,
      bodyLimitBytes: settings.limits.bodyBytes,
      queueMax: settings.limits.asyncQueueMax,
      calls,
      uploads,
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
      loadMs: () => loadMs,
    },
    cron: { check, scheduler, runner: cronRunner },
  });

  // polka's handler parses the URL itself; `Request` is the same object with fields it adds.
  const server = createServer((req, res) => void app.handler(req as Request, res, undefined as never));
  server.requestTimeout = settings.limits.syncTimeoutMaxSeconds * 1000 + REQUEST_TIMEOUT_MARGIN_MS;

  /** Releases everything but the HTTP server; running work is cut (and re-queued next start). */
  const release = async (): Promise<void> => {
    phase = 'stopped';
    scheduler.stop();
    uploadFolders.stopSweeping();
    void asyncRunner.stop(0);
    void cronRunner.drain(0);
    await pool.close();
    await records.flush();
    await storage.close();
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
    const started = performance.now();
    const fetched = await fetchRevision({ ...settings.repo, dataDir: settings.dataDir });
    const built = await buildRevision(fetched.commit, fetched.dir, {
      pool,
      envAllow: settings.envAllow,
      processEnv: options.processEnv ?? process.env,
      mode: 'serve',
      syncTimeoutMaxSeconds: settings.limits.syncTimeoutMaxSeconds,
      importSeconds: settings.limits.importSeconds,
      live: holder.live(),
    });
    if (built.revision === undefined) {
      logger.error({ commit: fetched.commit, problems: built.problems }, 'revision failed');
      throw new RevisionInvalidError(built.problems);
    }
    logger.info({ commit: fetched.commit, ms: Math.round(performance.now() - started) }, 'revision built');
    holder.swap(built.revision);
    await pool.warm(built.revision.ref, holder.live());
    loadMs = Math.round(performance.now() - started);
    scheduler.replace(built.revision.cronJobs);
    scheduler.catchUp();
    asyncRunner.start();
    // After the runner's recovery, so tasks it gave up on lose their uploads at once.
    uploadFolders.startSweeping((taskId) => storage.queue.holds(taskId));
    phase = 'ready';
    logger.info({ commit: fetched.commit, ms: loadMs, warnings: built.problems.length }, 'revision served');
  } catch (error) {
    await closeNow();
    throw error;
  }

  return {
    url,
    holder,
    pool,
    close: closeNow,
    shutdown: async () => {
      if (phase === 'draining' || phase === 'stopped') return;
      phase = 'draining';
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
