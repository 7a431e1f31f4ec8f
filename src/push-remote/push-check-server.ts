/**
 * The loopback HTTP server the push hooks (push-hook.cjs) ask before and after a push to the
 * served ref: `POST /check?commit=<id>` with the commit's objects as a pack body builds it
 * without serving it (the push is refused when it does not build), `POST /serve?commit=<id>`
 * serves it once stored. Only the hooks know its per-process secret: it reaches them through
 * git's environment, never the network.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { formatProblem, type Problem } from '../errors.js';
import { writeCommitRevision } from '../git/remote-source.js';
import type { Logger } from '../log.js';
import { matchesSecret, secretDigest } from '../secret-compare.js';
import { minimalGitEnv } from './git-http-backend.js';

/** What building a pushed commit found; `ok` only when it would be served. */
export interface PushBuildResult {
  ok: boolean;
  problems: readonly Problem[];
}

export interface PushCheckDeps {
  dataDir: string;
  /** repo.path: the folder of the repository that is served. */
  repoPath: string;
  /** Builds a revision directory as a reload would, without serving it. */
  build(commit: string, dir: string): Promise<PushBuildResult>;
  /** Serves the stored commit now; resolves with one line saying what happened. */
  serve(commit: string): Promise<string>;
  logger: Logger;
}

/** The hooks' answer: lines for git to show as `remote:` lines, and whether the push may go on. */
interface HookAnswer {
  accepted: boolean;
  lines: string[];
}

export interface PushCheckServer {
  /** The environment git's hooks need: where to ask, with which secret, about which ref. */
  hookEnv: Record<string, string>;
  /** `core.hooksPath` for git-receive-pack runs. */
  hooksDir: string;
  close(): Promise<void>;
}

const COMMIT_ID = /^[0-9a-f]{40}$/;
const HOOK_FILE = fileURLToPath(new URL('./push-hook.cjs', import.meta.url));

/** Single-quotes a string for /bin/sh. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Writes the two hook scripts: each runs push-hook.cjs with this node. */
async function writeHooks(hooksDir: string): Promise<void> {
  await mkdir(hooksDir, { recursive: true });
  for (const hook of ['pre-receive', 'post-receive']) {
    const script = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(HOOK_FILE)} ${hook}\n`;
    await writeFile(join(hooksDir, hook), script, { mode: 0o755 });
  }
}

/** Runs git with `args`, `input` piped to its stdin; rejects with its stderr when it fails. */
function runGit(args: string[], env: NodeJS.ProcessEnv, input: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]} failed: ${stderr.trim()}`))));
    pipeline(input, child.stdin).catch(() => {
      /* git's exit code tells the story */
    });
  });
}

/** The pushed commit's files as a revision directory, read from the pack the hook sent. */
async function revisionOfPack(deps: PushCheckDeps, commit: string, pack: IncomingMessage): Promise<string> {
  const checksDir = join(deps.dataDir, 'push-checks');
  await mkdir(checksDir, { recursive: true });
  const gitdir = await mkdtemp(join(checksDir, 'pack-'));
  try {
    const env = { ...minimalGitEnv(), GIT_DIR: gitdir };
    await new Promise<void>((resolve, reject) => {
      const init = spawn('git', ['init', '--quiet', '--bare', gitdir], { env: minimalGitEnv(), stdio: 'ignore' });
      init.on('error', reject);
      init.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git init failed (${code})`))));
    });
    await runGit(['index-pack', '--stdin'], env, pack);
    const { dir } = await writeCommitRevision(gitdir, commit, deps.repoPath, join(deps.dataDir, 'revisions'));
    return dir;
  } finally {
    await rm(gitdir, { recursive: true, force: true });
  }
}

async function check(deps: PushCheckDeps, commit: string, pack: IncomingMessage): Promise<HookAnswer> {
  let dir: string;
  try {
    dir = await revisionOfPack(deps, commit, pack);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { accepted: false, lines: [`gitfunc: ${commit} refused: ${message}`] };
  }
  const built = await deps.build(commit, dir);
  const lines = built.problems.map(formatProblem);
  if (!built.ok) {
    deps.logger.warn({ pushRemote: { commit, problems: built.problems.filter((p) => p.severity === 'error') } }, 'push refused: the commit does not build');
    return { accepted: false, lines: [`gitfunc: ${commit} does not build; the push is refused:`, ...lines] };
  }
  return { accepted: true, lines: [`gitfunc: ${commit} builds`, ...lines] };
}

/** Runs what the hook asked for. */
function route(deps: PushCheckDeps, pathname: string, commit: string, req: IncomingMessage): Promise<HookAnswer> {
  if (pathname === '/check') return check(deps, commit, req);
  req.resume();
  if (pathname === '/serve') return deps.serve(commit).then((line) => ({ accepted: true, lines: [line] }));
  return Promise.resolve({ accepted: false, lines: ['gitfunc: unknown push check'] });
}

/**
 * Starts the check server on 127.0.0.1 (any free port) and writes the hooks into
 * `<dataDir>/push-hooks`. `servedRef` is the ref the hooks look for in git's update lines.
 */
export async function startPushCheckServer(deps: PushCheckDeps, servedRef: string): Promise<PushCheckServer> {
  const hooksDir = join(deps.dataDir, 'push-hooks');
  await writeHooks(hooksDir);
  const secret = randomBytes(32).toString('hex');
  const expected = secretDigest(secret);
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: HookAnswer): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const commit = url.searchParams.get('commit') ?? '';
    const given = req.headers.authorization ?? '';
    const allowed = given.startsWith('Bearer ') && matchesSecret(given.slice('Bearer '.length), expected);
    if (req.method !== 'POST' || !allowed || !COMMIT_ID.test(commit)) {
      req.resume();
      answer(403, { accepted: false, lines: ['gitfunc: the push check was refused'] });
      return;
    }
    const work = route(deps, url.pathname, commit, req);
    work.then(
      (body) => answer(200, body),
      (error: unknown) => {
        deps.logger.error({ err: error, pushRemote: { commit } }, 'the push check failed');
        answer(200, { accepted: false, lines: [`gitfunc: the push check failed: ${error instanceof Error ? error.message : String(error)}`] });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    hooksDir,
    hookEnv: {
      GITFUNC_PUSH_CHECK_URL: `http://127.0.0.1:${port}`,
      GITFUNC_PUSH_CHECK_SECRET: secret,
      GITFUNC_PUSH_CHECK_REF: servedRef.startsWith('refs/') ? servedRef : `refs/heads/${servedRef}`,
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The check server, started by the first push that needs it (a failed start is retried by the next), closed with the server. */
export interface LazyPushCheck {
  server(): Promise<PushCheckServer>;
  close(): Promise<void>;
}

export function lazyPushCheck(deps: PushCheckDeps, servedRef: string): LazyPushCheck {
  let started: Promise<PushCheckServer> | undefined;
  let closed = false;
  return {
    server: () => {
      if (closed) return Promise.reject(new Error('the server is stopping'));
      started ??= startPushCheckServer(deps, servedRef).catch((error: unknown) => {
        started = undefined;
        throw error;
      });
      return started;
    },
    close: async () => {
      closed = true;
      const server = await started?.catch(() => undefined);
      await server?.close();
    },
  };
}
