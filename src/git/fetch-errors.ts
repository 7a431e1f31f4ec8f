import { GitfuncError } from '../errors.js';
import { redactUrl, scrubSecrets } from './redact.js';

/** What a fetch error message may mention: never the token itself, only that one was used. */
export interface FetchErrorContext {
  url: string;
  ref: string;
  /** every secret that must not leak into a message (token, password in the URL) */
  secrets: Array<string | undefined>;
  timedOut: boolean;
  idleTimeoutMs: number;
}

// Node system errors that mean "the network path to the server is broken", as opposed to a git problem.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ABORT_ERR',
]);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  data?: { statusCode?: unknown };
}

/** Translate what isomorphic-git or Node threw during a fetch into one GitfuncError with a stable code. */
export function toFetchError(err: unknown, ctx: FetchErrorContext): GitfuncError {
  if (err instanceof GitfuncError) return err;
  const url = redactUrl(ctx.url);
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const detail = scrubSecrets(typeof e.message === 'string' ? e.message : String(err), ctx.secrets);

  if (ctx.timedOut) {
    return new GitfuncError('GIT_UNREACHABLE', `cannot reach ${url}: no data for ${ctx.idleTimeoutMs / 1000}s`, {
      url,
      reason: 'timeout',
    });
  }
  // isomorphic-git throws UserCanceledError when our onAuthFailure cancels after a rejected token.
  if (code === 'UserCanceledError') return authFailed(url, 401);
  if (code === 'HttpError') {
    const status = typeof e.data?.statusCode === 'number' ? e.data.statusCode : 0;
    if (status === 401 || status === 403) return authFailed(url, status);
    if (status === 404) {
      return new GitfuncError('GIT_REPO_NOT_FOUND', `no git repository at ${url} (HTTP 404)`, { url, status });
    }
    return new GitfuncError('GIT_UNREACHABLE', `cannot fetch from ${url}: HTTP ${status}`, { url, status });
  }
  // During a fetch, NotFoundError comes from resolving the ref against the server's advertised refs.
  if (code === 'NotFoundError') return refNotFound(ctx.url, ctx.ref);
  if (code === 'SmartHttpError') {
    return new GitfuncError('GIT_UNREACHABLE', `${url} did not answer as a git smart-HTTP server`, {
      url,
      reason: 'not-git',
    });
  }
  if (code === 'UnknownTransportError' || code === 'UrlParseError') {
    return new GitfuncError('GIT_URL_UNSUPPORTED', `only http(s) git URLs are supported: ${url}`, { url });
  }
  if (NETWORK_CODES.has(code) || /CERT|TLS|SSL|SIGNATURE/.test(code)) {
    return new GitfuncError('GIT_UNREACHABLE', `cannot reach ${url}: ${code}`, { url, reason: code });
  }
  return new GitfuncError('GIT_FETCH_FAILED', `fetching ${JSON.stringify(ctx.ref)} from ${url} failed: ${detail}`, {
    url,
    ref: ctx.ref,
    cause: code || 'unknown',
  });
}

function authFailed(url: string, status: number): GitfuncError {
  return new GitfuncError('GIT_AUTH_FAILED', `authentication failed for ${url}: check GITFUNC_GIT_TOKEN`, {
    url,
    status,
  });
}

/** GIT_REF_NOT_FOUND, with a hint when the ref looks like an abbreviated commit id. */
export function refNotFound(url: string, ref: string): GitfuncError {
  const hint = /^[0-9a-f]{7,39}$/i.test(ref) ? ' (abbreviated commit ids are not supported: use all 40 hex digits)' : '';
  return new GitfuncError('GIT_REF_NOT_FOUND', `ref ${JSON.stringify(ref)} not found in ${redactUrl(url)}${hint}`, {
    url: redactUrl(url),
    ref,
  });
}
