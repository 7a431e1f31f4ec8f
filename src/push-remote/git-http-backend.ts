/**
 * Runs one smart-HTTP request through `git http-backend` (git's CGI program): the request body
 * streams to its stdin, its stdout is a CGI response (header block, blank line, body) streamed
 * back. Used by the push remote, and by the tests' git server.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

export interface HttpBackendOptions {
  /** GIT_PROJECT_ROOT: the folder holding the repositories. */
  projectRoot: string;
  /** PATH_INFO: `/<repo>.git/info/refs`, `/<repo>.git/git-receive-pack`, ... below projectRoot. */
  pathInfo: string;
  /** QUERY_STRING, e.g. `service=git-receive-pack`. */
  query: string;
  /** REMOTE_USER, once authenticated. */
  remoteUser?: string;
  /** git settings for this run only (`git -c name=value`), e.g. http.receivepack. */
  config: Readonly<Record<string, string>>;
  /** The environment git starts from; only what it needs, never the server's secrets. */
  baseEnv: NodeJS.ProcessEnv;
}

/** How a run ended: git's exit code (null when killed or never started), and the start of what it printed to stderr. */
export interface HttpBackendResult {
  exitCode: number | null;
  stderr: string;
}

// A CGI header block is a few short lines; anything longer is not one.
const MAX_HEADER_BYTES = 64 * 1024;

/** The environment git needs and nothing more: PATH to find its helpers, no user or system config. */
export function minimalGitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // A user's or the system's git config could add hooks or change where objects go.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    HOME: '/nonexistent',
  };
}

/** The CGI/1.1 environment `git http-backend` reads for one request. */
function cgiEnv(req: IncomingMessage, options: HttpBackendOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...options.baseEnv,
    GIT_PROJECT_ROOT: options.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: options.pathInfo,
    QUERY_STRING: options.query,
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
  };
  if (req.headers['content-type'] !== undefined) env.CONTENT_TYPE = req.headers['content-type'];
  // Without it (chunked bodies, which git sends for pushes over http.postBuffer) http-backend reads to EOF.
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  // http-backend inflates gzip request bodies (git gzips large fetch negotiations) when told the encoding.
  if (req.headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol'] !== undefined) env.HTTP_GIT_PROTOCOL = String(req.headers['git-protocol']);
  if (options.remoteUser !== undefined) env.REMOTE_USER = options.remoteUser;
  return env;
}

/** Splits a CGI header block ("Status: 200 OK\r\nContent-Type: ...") into a status and headers. */
export function parseCgiHeaders(block: string): { status: number; headers: Array<[string, string]> } {
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 502;
    else headers.push([name, value]);
  }
  return { status, headers };
}

/** Where the header block ends (after the blank line), or -1 while it has not ended yet. */
function headerEnd(head: Buffer): number {
  const crlf = head.indexOf('\r\n\r\n');
  const lf = head.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

/**
 * Pipes `req` through `git http-backend` into `res`; resolves when git has exited. A client that
 * hangs up kills git, so an interrupted push never lingers.
 */
export function runHttpBackend(req: IncomingMessage, res: ServerResponse, options: HttpBackendOptions): Promise<HttpBackendResult> {
  const configArgs = Object.entries(options.config).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const child = spawn('git', [...configArgs, 'http-backend'], { env: cgiEnv(req, options), stdio: ['pipe', 'pipe', 'pipe'] });
  let head = Buffer.alloc(0);
  let stderr = '';

  return new Promise<HttpBackendResult>((resolve) => {
    const fail = (status: number, message: string): void => {
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
      else res.destroy();
    };
    const onHead = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end < 0) {
        if (head.length > MAX_HEADER_BYTES) {
          child.kill('SIGKILL');
          fail(502, 'git http-backend sent no valid CGI header');
        }
        return;
      }
      child.stdout.off('data', onHead);
      const { status, headers } = parseCgiHeaders(head.subarray(0, end).toString('latin1'));
      res.statusCode = status;
      for (const [name, value] of headers) res.setHeader(name, value);
      const rest = head.subarray(end);
      if (rest.length > 0) res.write(rest);
      // The rest streams with backpressure: git waits while the client reads slowly.
      child.stdout.pipe(res);
    };
    child.stdout.on('data', onHead);
    child.stderr.on('data', (chunk: Buffer) => {
      // Kept short: only for the log line of a failed run.
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    res.on('close', () => {
      if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('error', (error) => {
      fail(502, `git http-backend could not start: ${error.message}`);
      resolve({ exitCode: null, stderr: error.message });
    });
    child.on('close', (code) => {
      if (!res.headersSent) fail(502, `git http-backend exited with ${code} before answering`);
      else if (!res.writableEnded) res.end();
      resolve({ exitCode: code, stderr });
    });
    // A request cut short destroys stdin, so git sees EOF and ends instead of waiting forever.
    pipeline(req, child.stdin).catch(() => {
      /* the client hung up or git stopped reading: the exit code tells the story */
    });
  });
}
