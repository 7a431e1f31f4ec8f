import { stringify } from 'node:querystring';
import type { Request } from 'polka';
import type { ApiAuthCheck } from '../access/api-auth.js';
import type { ReadBody } from './call-input.js';
import type { ScriptHttpRequest } from '../model/invocation.js';

/** Headers a script never sees (CONTRACT section 9). */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

type Query = Record<string, string | string[]>;

/**
 * The request as `_DFF_HTTP_REQUEST`: without credentials, nor the fields `auth` matched.
 * `hostname`, `ip`, `ips`, `protocol` and `xhr` are read as Express reads them (DFF's server is
 * Express); with `trustProxy` (DFF sets Express's `trust proxy` to true) they come from the
 * X-Forwarded-* headers, else from the connection and `Host` alone. A function auth
 * (`withCredentials`) sees every header: checking them is its job.
 */
export function scriptRequest(
  req: Request,
  query: Query,
  body: ReadBody,
  auth: ApiAuthCheck | undefined,
  trustProxy: boolean,
  withCredentials = false,
): ScriptHttpRequest {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (withCredentials || (!HIDDEN_HEADERS.has(name) && auth?.headerNames.includes(name) !== true)) headers[name] = value;
  }
  const hidesQuery = auth !== undefined && auth.queryNames.length > 0;
  const url = hidesQuery ? urlWithQuery(req.path, query) : (req.originalUrl ?? req.url ?? '');
  const forwardedFor = trustProxy ? forwardedAddresses(req) : [];
  return {
    method: req.method ?? 'GET',
    url,
    originalUrl: url,
    headers,
    query,
    body: body.kind === 'json' || body.kind === 'form' || body.kind === 'text' ? body.value : null,
    // Express's req.ip: the client the farthest proxy saw, when proxies are trusted.
    ip: forwardedFor[0] ?? req.socket.remoteAddress,
    ips: forwardedFor,
    host: req.headers.host,
    hostname: hostname(req, trustProxy),
    protocol: protocol(req, trustProxy),
    xhr: header(req, 'x-requested-with')?.toLowerCase() === 'xmlhttprequest',
  };
}

function urlWithQuery(path: string, query: Query): string {
  const search = stringify(query);
  return search === '' ? path : `${path}?${search}`;
}

/** A header's value as one string (Node joins a repeated X-Forwarded-For itself). */
function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The first comma-separated value of a header, trimmed. */
function firstValue(value: string): string {
  const comma = value.indexOf(',');
  return (comma < 0 ? value : value.slice(0, comma)).trim();
}

/** X-Forwarded-For's addresses, client first (Express's req.ips under `trust proxy: true`). */
function forwardedAddresses(req: Request): string[] {
  const value = header(req, 'x-forwarded-for');
  if (value === undefined) return [];
  return value
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
}

/** The host name without its port (an IPv6 literal keeps its brackets), as Express's req.hostname. */
function hostname(req: Request, trustProxy: boolean): string | undefined {
  const forwarded = trustProxy ? header(req, 'x-forwarded-host') : undefined;
  const host = forwarded ? firstValue(forwarded) : header(req, 'host');
  if (!host) return undefined;
  const offset = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', offset);
  return colon < 0 ? host : host.slice(0, colon);
}

/** `http` or `https`, as Express's req.protocol: the proxy's X-Forwarded-Proto when trusted. */
function protocol(req: Request, trustProxy: boolean): string {
  const own = 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http';
  const forwarded = trustProxy ? header(req, 'x-forwarded-proto') : undefined;
  return forwarded ? firstValue(forwarded) : own;
}
