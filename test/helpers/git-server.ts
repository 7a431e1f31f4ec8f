import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIT_TEST_ENV, runGit } from './git-repo.js';

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

/** The CGI/1.1 environment `git http-backend` reads for one request. */
function cgiEnv(req: IncomingMessage, root: string, user: string | undefined): NodeJS.ProcessEnv {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    ...GIT_TEST_ENV,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    // Enables `git push` over HTTP for every repository without a per-repository config call.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
  };
  if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  // http-backend inflates gzip request bodies itself when told the encoding.
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);
  if (user !== undefined) env.REMOTE_USER = user;
  return env;
}

/** Split a CGI header block ("Status: 200 OK\r\nContent-Type: ...") into a status and headers. */
function parseCgiHeaders(block: string): { status: number; headers: Array<[string, string]> } {
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers.push([name, value]);
  }
  return { status, headers };
}

/** Pipe one request through `git http-backend`: stdin gets the body, stdout is a CGI response. */
function runHttpBackend(req: IncomingMessage, res: ServerResponse, env: NodeJS.ProcessEnv, children: Set<ChildProcess>): void {
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  let head: Buffer = Buffer.alloc(0);
  let headersSent = false;

  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const text = head.toString('latin1');
    const crlf = text.indexOf('\r\n\r\n');
    const lf = text.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
    if (end < 0) return;
    const { status, headers } = parseCgiHeaders(text.slice(0, end));
    res.statusCode = status;
    for (const [name, value] of headers) res.setHeader(name, value);
    headersSent = true;
    const rest = head.subarray(end);
    if (rest.length > 0) res.write(rest);
  });
  child.on('error', (err) => {
    children.delete(child);
    if (!res.headersSent) res.writeHead(500).end(`http-backend failed to start: ${err.message}`);
    else res.destroy(err);
  });
  child.on('close', (code) => {
    children.delete(child);
    if (!headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`http-backend exited ${code}: ${stderr}`);
    } else {
      res.end();
    }
  });
  // A client that hangs up early makes http-backend's stdin close; that EPIPE is expected, not a test failure.
  child.stdin.on('error', () => undefined);
  req.pipe(child.stdin);
}

/** Serve bare repositories under `root` over git smart HTTP on 127.0.0.1 (random port) via `git http-backend` behind a Node http handler (CGI env: GIT_PROJECT_ROOT, GIT_HTTP_EXPORT_ALL=1, PATH_INFO, QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE, REMOTE_USER...; http.receivepack enabled so `git push` works). When `token` is given every request must carry HTTP Basic auth whose password equals token, else 401 with WWW-Authenticate: Basic. */
export async function startGitServer(opts: { token?: string } = {}): Promise<{
  root: string;
  url(name: string): string;
  publish(name: string, workDir: string): Promise<void>;
  close(): Promise<void>;
}> {
  const root = mkdtempSync(join(tmpdir(), 'gitfunc-gitserver-'));
  const children = new Set<ChildProcess>();

  const server = createServer((req, res) => {
    const user = authorizedUser(req, opts.token);
    if (user === null) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gitfunc-test"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    runHttpBackend(req, res, cgiEnv(req, root, user), children);
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
    for (const child of children) child.kill('SIGKILL');
    // Node 20's global agent keeps connections alive; without this close() would wait for them to idle out.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  };

  return { root, url: (name) => `http://127.0.0.1:${port}/${name}.git`, publish, close };
}
