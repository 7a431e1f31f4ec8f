import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryThrottleStore } from './access/throttle.js';
import { DigestNonces } from './access/digest-nonces.js';
import { registerCacheOps } from './cache/cache-ops.js';
import { MemoryCacheStore } from './cache/cache-store.js';
import { MemoryResultCache } from './cache/result-cache.js';
import type { Settings } from './config/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { GitfuncError, loadDriver } from './errors.js';
import { createAdminCheck } from './http/admin-auth.js';
import type { CallReading } from './http/api-call.js';
import { createApp } from './http/app.js';
import type { CallGate } from './http/call-gate.js';
import { createCorsPolicy } from './http/cors.js';
import type { Readiness } from './http/health-api.js';
import { createHttpServer, listen } from './http/http-server.js';
import { requestTimer } from './http/request-timing.js';
import type { UploadSupport } from './http/upload-call.js';
import { InFlight } from './in-flight.js';
import { AsyncTaskRunner } from './invocation/async-task-runner.js';
import { BackgroundRuns } from './invocation/background-runs.js';
import { Invoker } from './invocation/invoker.js';
import { FuncAuthCalls } from './invocation/func-auth-calls.js';
import { SyncCalls } from './invocation/sync-calls.js';
import { TaskCanceller } from './invocation/task-cancel.js';
import { OutcomeLog } from './invocation/outcome-log.js';
import { createLogger, type Logger } from './log.js';
import { GitfuncMetrics } from './metrics/gitfunc-metrics.js';
import { packageOptions } from './packages/index.js';
import { lazyPushCheck } from './push-remote/push-check-server.js';
import { ensurePushRepo } from './push-remote/push-repo.js';
import { type BuildResult, buildRevision } from './revision/build-revision.js';
import { Reloader } from './revision/reloader.js';
import { describeOutcome } from './revision/reload-status.js';
import { RevisionHolder } from './revision/revision-holder.js';
import type { WorkerPool } from './runtime/pool.js';
import { type PythonRuntime, startPythonRuntime } from './runtime/python-runtime.js';
import { EgressPolicy } from './network/egress-rules.js';
import { registerNetworkOps } from './network/network-ops.js';
import { egressRefusal } from './network/host-egress.js';
import { registerConnectorOps } from './connectors/connector-ops.js';
import { ConnectorRegistry } from './connectors/connector-registry.js';
import { CONNECTOR_LOADERS } from './connectors/connector-types.js';
import { TlsTrust } from './network/tls-trust.js';
// Default import: named imports of a CommonJS module depend on the loader detecting them.
import permissionModel from './runtime/snapshot/permission-model.cjs';
import { CronRunner } from './schedule/cron-runner.js';
import { CronScheduler } from './schedule/cron-scheduler.js';
import { registerStoreOps } from './store/store-ops.js';
import { RecordWriter } from './tasks/record-writer.js';
import type { DeployHistory } from './tasks/deploy-history.js';
import { openSqliteDeployHistory, openSqliteStorage } from './tasks/sqlite/index.js';
import type { RedisStorage } from './redis/index.js';
import { ReloadFanOut } from './replicas/reload-fan-out.js';
import { ReplicaHeartbeat } from './replicas/replica-heartbeat.js';
import { replicaState } from './replicas/replica-state.js';
import { UploadFolders } from './uploads/upload-folders.js';
import { type Clock, systemClock } from './model/clock.js';

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
  /** The time API expiry, throttling windows, record trimming (tasks.keepSeconds) and DFF.STORE expiry read; tests pass a fake one. */
  clock?: Clock;
  /**
   * Workers started before the server's modules were loaded (see the CLI); started here when
   * absent. The server owns them from here on: it closes them when it stops or fails to start.
   */
  runtime?: PythonRuntime;
}

/** Bounds of the DFF.CACHE store: entries, and characters of keys and values. */
const CACHE_LIMITS = { maxEntries: 100_000, maxSize: 256 * 1024 * 1024 };
/** Bounds of the cache_result cache; one result may take at most 1/64 of it. */
const RESULT_CACHE_LIMITS = { maxEntries: 10_000, maxSize: 64 * 1024 * 1024 };
/** Sync and cron records wait at most this long in memory before they are written. */
const RECORD_FLUSH_MS = 100;
/** A batch is sent early after this many records; RecordBuffer keeps what it holds per API far smaller. */
const RECORD_BATCH = 5000;

/** How often a replica on Redis looks for async tasks while a background slot is free. */
const SHARED_QUEUE_POLL_MS = 500;

type Phase = 'loading' | 'ready' | 'draining' | 'stopped';

/**
 * Listens at once (`/healthz` answers, `/readyz` says 503), fetches and loads the configured
 * revision into the worker pool, then starts cron and the async queue and reports ready.
 */
export async function startServer(settings: Settings, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(settings.log.level);
  // A rule that cannot be read stops the start before any worker exists.
  const egress = new EgressPolicy(settings.network.allow, settings.network.deny);
  const runtime = options.runtime ?? startPythonRuntime(settings, logger);
  const { pool, inspector } = runtime;
  const clock = options.clock ?? systemClock;
  const uploadFolders = new UploadFolders(settings.dataDir, logger);
  let lock: ReturnType<typeof lockDataDir> | undefined;
  let storage: Storage;
  try {
    lock = lockDataDir(settings.dataDir);
    storage = await openStorage(settings, clock, logger, uploadFolders.root);
  } catch (error) {
    lock?.release();
    await runtime.close();
    throw error;
  }
  registerCacheOps(pool.bridge, storage.cache);
  registerStoreOps(pool.bridge, storage.scriptStore);
  registerNetworkOps(pool.bridge, {
    policy: egress,
    trust: new TlsTrust(runtime.caBundle),
    socketsPerCall: settings.limits.socketsPerCall,
  });
  const { resultCache } = storage;
  const holder = new RevisionHolder();
  // A connector's host passes the scripts' egress rules, as a script's own connection would.
  const connectors = new ConnectorRegistry(CONNECTOR_LOADERS, (host, port) => egressRefusal(egress, host, port), logger);
  registerConnectorOps(pool.bridge, connectors);
  // Pools follow the revisions in use: opened on first use, closed once no such revision declares them.
  holder.onRevisionsChange((revisions) => connectors.update(revisions));
  const invoker = new Invoker(pool, holder);
  const metrics = new GitfuncMetrics({
    asyncQueueDepth: () => storage.queue.depth(),
    workers: () => pool.workersByState(),
    servedCommit: () => holder.current?.commit,
  });
  pool.onRestart((reason) => metrics.workerRestarted(reason));
  const outcomes = new OutcomeLog(logger, metrics);
  const records = new RecordWriter(
    storage.recordSink,
    {
      flushMs: RECORD_FLUSH_MS,
      maxBatch: RECORD_BATCH,
      keep: (origin) => (origin === 'cronJob' || origin === 'manual' ? settings.tasks.keepPerCronJob : settings.tasks.keepPerApi),
      // Only an async task's caller comes back later with nothing but the task id; sync calls
      // are answered with their result, and cron runs have no caller.
      keepSeconds: (origin) => (origin === 'asyncAPI' ? settings.tasks.keepSeconds : 0),
      maxStoredBytes: settings.tasks.maxStoredMB * 1024 * 1024,
      now: () => clock.now(),
    },
    logger,
  );
  const syncCalls = new SyncCalls({ invoker, holder, records, resultCache, uploads: uploadFolders, outcomes });
  const uploads: UploadSupport = {
    folders: uploadFolders,
    limits: {
      fileBytes: settings.limits.uploadFileBytes,
      totalBytes: settings.limits.uploadTotalBytes,
      files: settings.limits.uploadFiles,
      fieldBytes: settings.limits.bodyBytes,
    },
  };
  const backgroundRuns = new BackgroundRuns(invoker, holder);
  const asyncRunner = new AsyncTaskRunner({
    queue: storage.queue,
    holder,
    runs: backgroundRuns,
    records,
    logger,
    outcomes,
    queueMax: settings.limits.asyncQueueMax,
    concurrency: pool.backgroundSlots,
    uploads: uploadFolders,
    ...(storage.shared === undefined ? {} : { pollMs: SHARED_QUEUE_POLL_MS }),
  });
  const cronRunner = new CronRunner({ holder, runs: backgroundRuns, records, logger, outcomes });
  const scheduler = new CronScheduler({ ledger: storage.cronLedger, clock: systemClock, logger, run: (fire) => cronRunner.runFire(fire) });
  const packages = packageOptions(settings.dataDir, settings.packages);
  const build = (commit: string, dir: string): Promise<BuildResult> =>
    buildRevision(commit, dir, {
      inspector,
      envAllow: settings.envAllow,
      processEnv: options.processEnv ?? process.env,
      mode: 'serve',
      syncTimeoutMaxSeconds: settings.limits.syncTimeoutMaxSeconds,
      importSeconds: settings.limits.importSeconds,
      packages,
    });
  const reloader = new Reloader({
    source: { ...settings.repo, dataDir: settings.dataDir },
    pollSeconds: settings.repo.pollSeconds,
    holder,
    build,
    warm: (revision, live, everyWorker) => pool.warm(revision.ref, live, everyWorker),
    onServed: (revision) => scheduler.replace(revision.cronJobs),
    history: storage.deploys,
    historyKeep: settings.repo.historyKeep,
    onReloaded: (outcome) => metrics.reloadEnded(outcome.result),
    logger,
  });
  // With several replicas, a reload request reaching this one is announced to the others.
  const fanOut =
    storage.shared === undefined
      ? undefined
      : new ReloadFanOut({ reloader, redis: storage.shared.redis, connect: storage.shared.connect, keyPrefix: settings.redis.keyPrefix, logger });
  const reloadTrigger = fanOut ?? reloader;
  /** This replica's entry in the list of live replicas; set once the server listens. */
  let heartbeat: ReplicaHeartbeat | undefined;

  // A push to the served ref is built before git accepts it, then served before git answers.
  const pushCheck = lazyPushCheck(
    {
      dataDir: settings.dataDir,
      repoPath: settings.repo.path,
      build: async (commit, dir) => {
        const built = await build(commit, dir);
        return { ok: built.revision !== undefined, problems: built.problems };
      },
      serve: async (commit) => describeOutcome(await reloader.reloadNow({ source: 'push', commitHint: commit })),
      logger,
    },
    settings.repo.ref,
  );

  /** Sync and async API calls being answered: a shutdown lets them finish. */
  const calls = new InFlight();
  let phase: Phase = 'loading';
  // Started with the push remote and nothing pushed yet, the server is up but serves nothing.
  const waitingForPush = (): boolean => phase === 'ready' && holder.current === undefined;
  // With several replicas, one that cannot reach Redis takes no traffic until it is back.
  const redisDown = (): boolean => phase === 'ready' && storage.shared !== undefined && !storage.shared.reachable();
  const readiness: Readiness = {
    ready: () => phase === 'ready' && !waitingForPush() && !redisDown(),
    phase: () => (waitingForPush() ? 'waiting-for-push' : redisDown() ? 'redis-unreachable' : phase),
  };
  const check = createAdminCheck(settings.adminToken);
  const gate: CallGate = {
    throttle: storage.throttle,
    clock,
    nonces: new DigestNonces(),
    funcAuth: new FuncAuthCalls(invoker, logger),
  };
  const reading: CallReading = { bodyLimitBytes: settings.limits.bodyBytes, gate, uploads, trustProxy: settings.trustProxy };
  const cors = createCorsPolicy(settings.cors);
  const app = createApp({
    logger,
    readiness,
    sync: { holder, syncCalls, logger, reading, calls, cors },
    async: { holder, runner: asyncRunner, logger, calls, reading, cors },
    tasks: {
      check,
      store: storage.records,
      flushPending: () => records.flush(),
      canceller: new TaskCanceller({ queue: storage.queue, runs: backgroundRuns, records: storage.records, uploads: uploadFolders }),
    },
    status: {
      check,
      holder,
      readiness,
      pool,
      queue: storage.queue,
      scheduler,
      running: () => backgroundRuns.running,
      loadMs: () => reloader.loadMs,
      reload: () => reloader.status(),
      // The heartbeat starts once the server listens: until then the list is empty.
      ...(storage.shared === undefined ? {} : { replicas: async () => (heartbeat === undefined ? [] : heartbeat.live()) }),
    },
    reload: { check, reloader: reloadTrigger },
    deploys: {
      check,
      holder,
      history: storage.deploys,
      historyKeep: settings.repo.historyKeep,
      reloader,
      refuseRollback: storage.shared !== undefined,
    },
    metrics: { check, metrics, holder, queue: storage.queue, workers: () => pool.workersByState() },
    cron: { check, holder, scheduler, runner: cronRunner },
    webhook: { ...settings.webhook, secret: settings.webhookSecret, servedRef: settings.repo.ref, trigger: reloadTrigger, logger },
    ...(settings.pushRemote.enabled && settings.pushRemote.token !== undefined
      ? {
          pushRemote: {
            ...settings.pushRemote,
            token: settings.pushRemote.token,
            repoDir: settings.repo.url,
            servedRef: settings.repo.ref,
            trigger: reloader,
            logger,
            check: pushCheck,
          },
        }
      : {}),
  });

  const server = createHttpServer(app, settings.limits, requestTimer(metrics));

  /** Releases everything but the HTTP server; running work is cut (and re-queued next start). */
  const release = async (): Promise<void> => {
    phase = 'stopped';
    reloader.close();
    fanOut?.close();
    await heartbeat?.stop();
    await pushCheck.close();
    scheduler.stop();
    uploadFolders.stopSweeping();
    void asyncRunner.stop(0);
    void cronRunner.drain(0);
    await runtime.close();
    await connectors.close();
    await records.close();
    await storage.close();
    lock.release();
    logger.flush();
  };

  let url: string;
  try {
    url = await listen(server, settings.port, settings.host);
  } catch (error) {
    await release();
    throw error;
  }
  // See the README, "What a script can reach".
  logger.info({ url, nodePermissionModel: permissionModel.permissionModelOn() }, 'listening');
  if (storage.shared !== undefined) {
    const replicaId = settings.redis.replicaId || `${new URL(url).host}:${process.pid}`;
    const advertisedUrl = settings.redis.advertisedUrl || url;
    heartbeat = new ReplicaHeartbeat({
      redis: storage.shared.redis,
      keyPrefix: settings.redis.keyPrefix,
      id: replicaId,
      url: advertisedUrl,
      state: () => replicaState(holder, reloader.status(), pool),
      logger,
    });
    logger.info({ replicaId, advertisedUrl, keyPrefix: settings.redis.keyPrefix }, 'one of several replicas on Redis');
  }

  const closeNow = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await release();
  };

  try {
    // The push remote's bare repository is what is served (repo.url names it): it must exist to be read.
    if (settings.pushRemote.enabled) await ensurePushRepo(settings.repo.url, settings.repo.ref);
    if (heartbeat !== undefined) await Promise.all([heartbeat.start(), fanOut?.start(heartbeat.id)]);
    await serveFirstRevision(reloader, settings.pushRemote.enabled, logger);
    await scheduler.catchUp();
    await asyncRunner.start();
    // After the runner's recovery, so tasks it gave up on lose their uploads at once.
    uploadFolders.startSweeping((taskId) => storage.queue.holds(taskId));
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
      fanOut?.close();
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

/**
 * Serves the first revision (see Reloader.start). With the push remote on and nothing pushed
 * yet there is none to serve: the server starts empty (calls answer 503.2) and the first push
 * deploys.
 */
async function serveFirstRevision(reloader: Reloader, pushRemoteOn: boolean, logger: Logger): Promise<void> {
  try {
    await reloader.start();
  } catch (error) {
    if (!(pushRemoteOn && error instanceof GitfuncError && error.code === 'GIT_REF_NOT_FOUND')) throw error;
    logger.warn({}, 'nothing pushed to the served branch yet: waiting for the first git push');
  }
}

/** Every store the server uses (the ports RedisStorage also has); `shared` is set when they live on Redis (several replicas). */
interface Storage extends Omit<RedisStorage, 'redis' | 'connect' | 'reachable'> {
  /** This server's own deploy history and pin, in its data dir (also with Redis). */
  deploys: DeployHistory;
  shared?: RedisStorage;
  close(): Promise<void>;
}

/** The stores on Redis with `redis.url`; else the data dir's SQLite file and this process' memory. */
async function openStorage(settings: Settings, clock: Clock, logger: Logger, uploadRoot: string): Promise<Storage> {
  if (settings.redis.url !== '') {
    const { url, keyPrefix } = settings.redis;
    // Imported only here: ioredis and BullMQ (with OpenTelemetry's API) cost every other start ~0.1 s.
    const { openRedisStorage } = await loadDriver('ioredis and bullmq (redis.url)', () => import('./redis/index.js'));
    const shared = await openRedisStorage({ url, keyPrefix, logger, uploadRoot });
    const local = openSqliteDeployHistory(settings.dataDir);
    return {
      ...shared,
      deploys: local.deploys,
      shared,
      close: async () => {
        await shared.close();
        local.close();
      },
    };
  }
  const embedded = openSqliteStorage(settings.dataDir, { clock, logger });
  return {
    ...embedded,
    cache: new MemoryCacheStore(CACHE_LIMITS, systemClock),
    resultCache: new MemoryResultCache(RESULT_CACHE_LIMITS, systemClock),
    throttle: new MemoryThrottleStore(),
  };
}
