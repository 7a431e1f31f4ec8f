/**
 * The checks an API call passes before its kwargs are read (CONTRACT sections 5 and 12), in
 * this order: disabled or expired (403.21), auth (401.99), throttling (429.46). Auth runs
 * before throttling so unauthenticated callers cannot use up the quota; a body-field or
 * function auth reads the body first. Only APIs with access rules come here (see ApiAccess).
 */
import type { Request } from 'polka';
import type { ApiAccess } from '../access/api-access.js';
import type { ApiAuthCheck, AuthContext } from '../access/api-auth.js';
import type { DigestNonces } from '../access/digest-nonces.js';
import type { ThrottleStore } from '../access/throttle.js';
import type { FuncAuthCalls } from '../invocation/func-auth-calls.js';
import type { ScriptHttpRequest } from '../model/invocation.js';
import type { Revision } from '../revision/revision.js';
import { ApiError, ApiErrors } from './api-error.js';
import type { ReadBody } from './call-input.js';
import type { Clock } from '../model/clock.js';

/** Server-wide state of the checks: counters and nonces outlive revisions; the clock is a fake in tests. */
export interface CallGate {
  throttle: ThrottleStore;
  clock: Clock;
  /** Digest nonces this server issued, and the (nonce, nc) pairs already used. */
  nonces: DigestNonces;
  /** Runs function auths on the worker pool. */
  funcAuth: FuncAuthCalls;
}

type Query = Record<string, string | string[]>;

/** What the call reads once admitted: query and body without the auth's credential fields. */
export interface AdmittedCall {
  query: Query;
  body: ReadBody;
}

/** A call to check: its request, the API's rules, and how to read its body. */
export interface CallToAdmit {
  req: Request;
  apiId: string;
  access: ApiAccess;
  /** The revision serving the call (acquired by the caller): a function auth runs on it. */
  revision: Revision;
  readBody: () => Promise<ReadBody>;
  /** The request as a function auth sees it: `_DFF_HTTP_REQUEST`, credentials included. */
  authRequest: (query: Query, body: ReadBody) => ScriptHttpRequest;
}

/** Runs an API's checks; throws ApiError when the call is refused. */
export async function admitCall(call: CallToAdmit, gate: CallGate): Promise<AdmittedCall> {
  const { req, apiId, access } = call;
  checkSwitches(apiId, access, gate.clock.now());
  let query = req.query as Query;
  let body: ReadBody | undefined;
  const auth = access.auth;
  if (auth !== undefined) {
    if (auth.needsBody) body = await call.readBody();
    await checkAuth(call, auth, gate, query, body);
    query = without(query, auth.queryNames);
  }
  if (access.throttle !== undefined) {
    const refusal = await gate.throttle.take(access.throttle.key, access.throttle.limits, gate.clock.now());
    if (refusal !== undefined) {
      const retryAfter = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
      throw new ApiError(
        ApiErrors.throttled,
        `API '${apiId}' is over its limit of ${refusal.limit.max} calls ${PER[refusal.limit.name]}; retry in ${retryAfter} s`,
        { limit: refusal.limit.name, max: refusal.limit.max, retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
  }
  body ??= await call.readBody();
  return { query, body: auth === undefined ? body : bodyWithout(body, auth.bodyNames) };
}

/** Throws ApiError unless `auth` admits the call. */
async function checkAuth(call: CallToAdmit, auth: ApiAuthCheck, gate: CallGate, query: Query, body: ReadBody | undefined): Promise<void> {
  const { req } = call;
  if (auth.type === 'func') {
    const outcome = await gate.funcAuth.check(call.revision, auth, call.authRequest(query, body ?? NO_BODY), req.socket);
    switch (outcome.kind) {
      case 'admitted':
        return;
      case 'refused':
        throw authFailed([], 'Authentication failed: the auth function refused the call');
      // The auth could not answer: the server's trouble, not the caller's credentials (as DFF).
      case 'timeout':
        throw new ApiError(ApiErrors.funcTimeout, `The auth function did not finish within ${auth.timeoutSeconds} s`, {
          timeout: auth.timeoutSeconds,
        });
      case 'busy':
        throw new ApiError(ApiErrors.busy, 'Every worker is busy and the call queue is full; retry shortly', {}, { 'Retry-After': '1' });
      case 'crashed':
        throw new ApiError(ApiErrors.workerFailed, 'The worker running the auth function failed', {});
    }
  }
  const context: AuthContext = { nowMs: gate.clock.now(), nonces: gate.nonces };
  const input = {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '',
    headers: req.headers,
    query,
    bodyFields: bodyFields(body),
  };
  const verdict = auth.verify(input, context);
  if (!verdict.admitted) throw authFailed(verdict.challenges, 'Authentication failed: missing or wrong credentials for this API');
}

const NO_BODY: ReadBody = { kind: 'none' };

const PER = { bySecond: 'per second', byMinute: 'per minute', byHour: 'per hour', byDay: 'per day' } as const;

function checkSwitches(apiId: string, access: ApiAccess, nowMs: number): void {
  if (access.disabled) throw new ApiError(ApiErrors.apiDisabled, `API '${apiId}' is disabled`);
  if (access.expiresAt !== undefined && nowMs >= access.expiresAt) {
    throw new ApiError(ApiErrors.apiDisabled, `API '${apiId}' expired at ${new Date(access.expiresAt).toISOString()}`, {
      expireTime: access.expiresAt / 1000,
    });
  }
}

/** 401.99; Basic and Digest challenges tell a client (a browser, curl) to ask for credentials. */
function authFailed(challenges: readonly string[], message: string): ApiError {
  const headers: Record<string, string[]> = challenges.length === 0 ? {} : { 'WWW-Authenticate': [...challenges] };
  return new ApiError(ApiErrors.authFailed, message, {}, headers);
}

function bodyFields(body: ReadBody | undefined): Readonly<Record<string, unknown>> | undefined {
  if (body?.kind === 'form') return body.value;
  if (body?.kind === 'json' && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value)) {
    return body.value as Record<string, unknown>;
  }
  return undefined;
}

function without<T extends Record<string, unknown>>(fields: T, names: readonly string[]): T {
  if (names.length === 0) return fields;
  const rest = { ...fields };
  for (const name of names) delete rest[name];
  return rest;
}

function bodyWithout(body: ReadBody, names: readonly string[]): ReadBody {
  if (names.length === 0) return body;
  if (body.kind === 'form') return { kind: 'form', value: without(body.value, names) };
  const fields = bodyFields(body);
  return fields === undefined ? body : { kind: 'json', value: without(fields, names) };
}
