import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimalGitEnv, runHttpBackend } from '../../src/push-remote/git-http-backend.js';
import { runGit } from './git-repo.js';

/** The Basic-auth user name when the header carries one, or null when the request is not authorized. */
function authorizedUser(req: IncomingMessage, token: string | undefined): string | null | undefined {
  if (token === undefined) return undefined;
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(colon + 1) !== token) return null;
  return decoded.slice(0, colon) || 'token';
}

/** Serve bare repositories under `root` over git smart HTTP on 127.0.0.1 (random port) via gitfunc's own `git http-backend` bridge (src/push-remote/git-http-backend.ts; http.receivepack enabled so `git push` works). When `token` is given every request must carry HTTP Basic auth whose password equals token, else 401 with WWW-Authenticate: Basic. When `hold` is given every answer waits for it: a server fetching from here stays loading until the test lets it go on. */
export async function startGitServer(opts: { token?: string; hold?: Promise<unknown> } = {}): Promise<{
  root: string;
  url(name: string): string;
  publish(name: string, workDir: string): Promise<void>;
  close(): Promise<void>;
}> {
  const root = mkdtempSync(join(tmpdir(), 'gitfunc-gitserver-'));

  const server = createServer(async (req, res) => {
    if (opts.hold !== undefined) await opts.hold;
    const user = authorizedUser(req, opts.token);
    if (user === null) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitfunc-test"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void runHttpBackend(req, res, {
      projectRoot: root,
      pathInfo: decodeURIComponent(url.pathname),
      query: url.search.slice(1),
      ...(user !== undefined ? { remoteUser: user } : {}),
      // Enables `git push` over HTTP for every repository without a per-repository config call.
      config: { 'http.receivepack': 'true' },
      baseEnv: minimalGitEnv(),
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const publish = async (name: string, workDir: string): Promise<void> => {
    const bare = join(root, `${name}.git`);
    if (!existsSync(bare)) await runGit(root, ['init', '--quiet', '--bare', bare]);
    // A local push is faster than going through HTTP; --mirror also removes deleted branches and tags.
    await runGit(workDir, ['push', '--quiet', '--mirror', bare]);
    // Serve the work repo's current branch as the default (HEAD); a plain file copy saves a git process per call.
    await writeFile(join(bare, 'HEAD'), await readFile(join(workDir, '.git', 'HEAD')));
  };

  const close = async (): Promise<void> => {
    // Cutting the connections also kills any http-backend still answering one.
    // Node 20's global agent keeps connections alive; without this close() would wait for them to idle out.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  };

  return { root, url: (name) => `http://127.0.0.1:${port}/${name}.git`, publish, close };
}
