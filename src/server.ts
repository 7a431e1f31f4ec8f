import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'polka';
import type { Settings } from './config/index.js';
import { RevisionInvalidError } from './errors.js';
import { fetchRevision } from './git/index.js';
import { createApp } from './http/app.js';
import { Invoker } from './invocation/invoker.js';
import { createLogger, type Logger } from './log.js';
import { buildRevision } from './revision/build-revision.js';
import { RevisionHolder } from './revision/revision-holder.js';
import { WorkerPool } from './runtime/pool.js';

/** A started gitfunc server. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  url: string;
  holder: RevisionHolder;
  pool: WorkerPool;
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

/** Fetches the configured revision, loads it into the worker pool, then listens. */
export async function startServer(settings: Settings, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(settings.log.level);
  const pool = new WorkerPool(
    { workers: settings.workers, timeoutGraceMs: settings.callTimeoutGraceMs, maxQueue: settings.workers * QUEUE_PER_WORKER },
    logger,
  );
  const holder = new RevisionHolder();
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
    logger.info(
      { commit: fetched.commit, ms: Math.round(performance.now() - started), warnings: built.problems.length },
      'revision served',
    );

    const app = createApp({ holder, invoker: new Invoker(pool, holder), logger, bodyLimitBytes: settings.limits.bodyBytes });
    // polka's handler parses the URL itself; `Request` is the same object with fields it adds.
    const server = createServer((req, res) => void app.handler(req as Request, res, undefined as never));
    server.requestTimeout = settings.limits.syncTimeoutMaxSeconds * 1000 + REQUEST_TIMEOUT_MARGIN_MS;
    await listen(server, settings.port, settings.host);
    const { address, port } = server.address() as AddressInfo;
    const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    logger.info({ url }, 'listening');

    return {
      url,
      holder,
      pool,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await pool.close();
        logger.flush();
      },
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
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
