import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Polka, Request } from 'polka';
import { ApiError, ApiErrors } from './api-error.js';
import { sendApiError, startScope } from './respond.js';

/**
 * The dashboard's built files (scripts/build-ui.mjs writes them at `npm run build`). Two levels
 * up from this file is the package root whether it runs as src/http/*.ts or dist/http/*.js.
 */
const UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
});

/** The page may load and call only this server: no inline script or style, no CDN, no font. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A built file's name carries its content hash (app-XXXX.js), so it never changes. */
const HASHED_NAME = /-[A-Z0-9]{8}\.(js|css)$/;

interface UiFile {
  bytes: Buffer;
  type: string;
}

/** Reads the built folder once, on first use: a name not in it is never looked up on disk. */
async function loadUiFiles(): Promise<Map<string, UiFile>> {
  const files = new Map<string, UiFile>();
  for (const name of await readdir(UI_DIR)) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue; // a build's temporary file
    try {
      files.set(name, { bytes: await readFile(join(UI_DIR, name)), type });
    } catch (error) {
      // A build running meanwhile removed a stale file: it is no longer part of the page.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (!files.has('index.html')) throw new Error('dist/ui/ has no index.html');
  return files;
}

/**
 * `GET /ui/`: the dashboard (ui/), a static page that signs in with the admin token and reads
 * the admin API itself; the files are open, the data behind them is not.
 */
export function registerDashboardPage(app: Polka): void {
  let loaded: Promise<Map<string, UiFile>> | undefined;
  const serve = async (name: string, req: Request, res: ServerResponse): Promise<void> => {
    loaded ??= loadUiFiles();
    let files: Map<string, UiFile>;
    try {
      files = await loaded;
    } catch {
      loaded = undefined; // not built yet: look again next time
      sendApiError(res, startScope(req), new ApiError(ApiErrors.notFound, 'The dashboard is not built: run npm run build'));
      return;
    }
    const file = files.get(name);
    if (file === undefined) {
      sendApiError(res, startScope(req), new ApiError(ApiErrors.notFound, `No route ${req.method} ${req.path}`));
      return;
    }
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.bytes.length,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': HASHED_NAME.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(file.bytes);
  };
  // Polka matches `/ui` and `/ui/` alike; the page's files are named relative to `/ui/`.
  app.get('/ui', (req: Request, res: ServerResponse) => {
    if (req.url.split('?')[0] !== '/ui') return serve('index.html', req, res);
    res.writeHead(308, { Location: '/ui/', 'Content-Length': 0 });
    res.end();
    return undefined;
  });
  app.get('/ui/:file', (req: Request, res: ServerResponse) => serve(req.params.file!, req, res));
}
