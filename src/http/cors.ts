/**
 * CORS for the function APIs (`/api/v1/al`, `/sync`, `/bat`, `/async`), from the `cors`
 * settings. Admin routes never send CORS headers: only the function API routes apply this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import type { CorsSettings } from '../config/index.js';
import type { ApiEndpoint } from '../revision/revision.js';
import { sendEmpty, startScope } from './respond.js';

/** The CORS headers of the function APIs. */
export interface CorsPolicy {
  /**
   * The CORS headers of a function API response to `req`, sent with the response's other headers
   * (one `writeHead` object: a `setHeader` first would put every later header on Node's slow path).
   */
  headersFor(req: IncomingMessage): Readonly<Record<string, string>>;
  /** Answers a preflight with 204; `authHeaders` are the headers the API's auth reads. */
  preflight(req: IncomingMessage, res: ServerResponse, authHeaders: readonly string[]): void;
}

const METHODS = 'GET, POST, OPTIONS';

/** The policy of `settings`, or undefined when no origin is allowed (CORS off). */
export function createCorsPolicy(settings: CorsSettings): CorsPolicy | undefined {
  if (settings.allowOrigins.length === 0) return undefined;
  const anyOrigin = settings.allowOrigins.includes('*');
  const origins = new Set(settings.allowOrigins);
  const expose = settings.exposeHeaders.join(', ');
  const maxAge = String(settings.maxAgeSeconds);
  // `*` is not allowed with credentials: the caller's origin is echoed instead.
  const fixedOrigin = anyOrigin && !settings.allowCredentials;

  const withExpose = (headers: Record<string, string>): Record<string, string> => {
    if (expose !== '') headers['Access-Control-Expose-Headers'] = expose;
    return headers;
  };
  // The usual case (any origin, no credentials) answers every request with the same headers.
  const anyOriginHeaders = Object.freeze(withExpose({ 'Access-Control-Allow-Origin': '*' }));
  const varyOnly = Object.freeze({ Vary: 'Origin' });

  /** The allow-origin headers for `req`, or undefined when its origin is not allowed. */
  const allowOrigin = (req: IncomingMessage): Record<string, string> | undefined => {
    if (fixedOrigin) return { 'Access-Control-Allow-Origin': '*' };
    const origin = req.headers.origin;
    if (origin === undefined || !(anyOrigin || origins.has(origin))) return undefined;
    const headers: Record<string, string> = { Vary: 'Origin', 'Access-Control-Allow-Origin': origin };
    if (settings.allowCredentials) headers['Access-Control-Allow-Credentials'] = 'true';
    return headers;
  };

  return {
    headersFor(req) {
      if (fixedOrigin) return anyOriginHeaders;
      const allowed = allowOrigin(req);
      return allowed === undefined ? varyOnly : withExpose(allowed);
    },
    preflight(req, res, authHeaders) {
      const scope = startScope(req);
      const allowed = allowOrigin(req);
      scope.cors =
        allowed === undefined
          ? varyOnly
          : {
              ...allowed,
              'Access-Control-Allow-Methods': METHODS,
              'Access-Control-Allow-Headers': [...new Set([...settings.allowHeaders, ...authHeaders])].join(', '),
              'Access-Control-Max-Age': maxAge,
            };
      sendEmpty(res, scope, 204);
    },
  };
}

/**
 * Answers `OPTIONS <prefix>/:id[/:form]` for the APIs `apis` returns; without a policy,
 * preflights fall through to 404 like any unknown route.
 */
export function registerPreflight(
  app: Polka,
  prefixes: readonly string[],
  cors: CorsPolicy | undefined,
  apis: () => ReadonlyMap<string, ApiEndpoint> | undefined,
): void {
  if (cors === undefined) return;
  const handler = (req: Request, res: ServerResponse): void => {
    const auth = apis()?.get(req.params.id!)?.access?.auth;
    cors.preflight(req, res, auth?.headerNames ?? []);
  };
  for (const prefix of prefixes) {
    app.options(`${prefix}/:id`, handler);
    app.options(`${prefix}/:id/:form`, handler);
  }
}
