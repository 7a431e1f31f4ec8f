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
  /** Sets the CORS headers of a function API response (before it is written). */
  apply(req: IncomingMessage, res: ServerResponse): void;
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

  const allowOrigin = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (fixedOrigin) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      return true;
    }
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || !(anyOrigin || origins.has(origin))) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (settings.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    return true;
  };

  return {
    apply(req, res) {
      if (allowOrigin(req, res) && expose !== '') res.setHeader('Access-Control-Expose-Headers', expose);
    },
    preflight(req, res, authHeaders) {
      if (allowOrigin(req, res)) {
        res.setHeader('Access-Control-Allow-Methods', METHODS);
        res.setHeader('Access-Control-Allow-Headers', [...new Set([...settings.allowHeaders, ...authHeaders])].join(', '));
        res.setHeader('Access-Control-Max-Age', maxAge);
      }
      sendEmpty(res, startScope(req), 204);
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
