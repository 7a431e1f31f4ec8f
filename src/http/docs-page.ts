import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Polka, Request } from 'polka';
import { ApiError, ApiErrors } from './api-error.js';
import { sendApiError, startScope } from './respond.js';

/** Swagger UI's own files, served from the installed swagger-ui-dist package. */
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Our page and its start script (copied next to the compiled file by scripts/copy-assets.mjs). */
const PAGE_DIR = fileURLToPath(new URL('./docs-page/', import.meta.url));

/** The files `/docs` serves, by the name after `/docs/`: nothing else of either folder is reachable. */
const FILES: Readonly<Record<string, { path: string; type: string }>> = Object.freeze({
  '': { path: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  'docs-init.js': { path: join(PAGE_DIR, 'docs-init.js'), type: 'text/javascript; charset=utf-8' },
  'swagger-ui-bundle.js': { path: join(SWAGGER_UI_DIR, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { path: join(SWAGGER_UI_DIR, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'favicon-32x32.png': { path: join(SWAGGER_UI_DIR, 'favicon-32x32.png'), type: 'image/png' },
});

/**
 * The page may load and call only this server: Swagger UI's inline styles aside, everything
 * comes from 'self', so no request leaves it (no CDN, fonts or validator badge).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /docs`: a try-it page (Swagger UI) on `/api/v1/openapi.json`, served offline. Open to all, as the document is. */
export function registerDocsPage(app: Polka): void {
  const loaded = new Map<string, Promise<Buffer>>();
  const serve = async (name: string, req: Request, res: ServerResponse): Promise<void> => {
    const file = FILES[name];
    if (file === undefined) {
      sendApiError(res, startScope(req), new ApiError(ApiErrors.notFound, `No route ${req.method} ${req.path}`));
      return;
    }
    // Read once, on first use: most servers never show the page.
    let body = loaded.get(name);
    if (body === undefined) {
      body = readFile(file.path);
      loaded.set(name, body);
      body.catch(() => loaded.delete(name));
    }
    const bytes = await body;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': bytes.length,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': name === '' ? 'no-cache' : 'public, max-age=3600',
    });
    res.end(bytes);
  };
  app.get('/docs', (req: Request, res: ServerResponse) => serve('', req, res));
  app.get('/docs/', (req: Request, res: ServerResponse) => serve('', req, res));
  app.get('/docs/:file', (req: Request, res: ServerResponse) => serve(req.params.file!, req, res));
}
