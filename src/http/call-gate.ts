/**
 * The checks an API call passes before its kwargs are read (CONTRACT section 5), in this
 * order: disabled or expired (403.21), auth (401.99), throttling (429.46). Auth runs before
 * throttling so unauthenticated callers cannot use up the quota; a body-field auth reads the
 * body first. Only APIs with access rules come here (see ApiAccess).
 */
import type { Request } from 'polka';
import type { ApiAccess } from '../access/api-access.js';
import type { ApiAuthCheck } from '../access/api-auth.js';
import type { ThrottleStore } from '../access/throttle.js';
import { ApiError, ApiErrors } from './api-error.js';
import type { ReadBody } from './call-input.js';
import type { Clock } from '../model/clock.js';

/** Server-wide state of the checks: counters outlive revisions; the clock is a fake in tests. */
export interface CallGate {
  throttle: ThrottleStore;
  clock: Clock;
}

type Query = Record<string, string | string[]>;

/** What the call reads once admitted: query and body without the auth's credential fields. */
export interface AdmittedCall {
  query: Query;
  body: ReadBody;
}

/** Runs an API's checks; throws ApiError when the call is refused. */
export async function admitCall(
  req: Request,
  apiId: string,
  access: ApiAccess,
  gate: CallGate,
  readBody: () => Promise<ReadBody>,
): Promise<AdmittedCall> {
  checkSwitches(apiId, access, gate.clock.now());
  let query = req.query as Query;
  let body: ReadBody | undefined;
  const auth = access.auth;
  if (auth !== undefined) {
    if (auth.needsBody) body = await readBody();
    if (!auth.verify({ headers: req.headers, query, bodyFields: bodyFields(body) })) throw authFailed(auth);
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
  body ??= await readBody();
  return { query, body: auth === undefined ? body : bodyWithout(body, auth.bodyNames) };
}

const PER = { bySecond: 'per second', byMinute: 'per minute', byHour: 'per hour', byDay: 'per day' } as const;

function checkSwitches(apiId: string, access: ApiAccess, nowMs: number): void {
  if (access.disabled) throw new ApiError(ApiErrors.apiDisabled, `API '${apiId}' is disabled`);
  if (access.expiresAt !== undefined && nowMs >= access.expiresAt) {
    throw new ApiError(ApiErrors.apiDisabled, `API '${apiId}' expired at ${new Date(access.expiresAt).toISOString()}`, {
      expireTime: access.expiresAt / 1000,
    });
  }
}

function authFailed(auth: ApiAuthCheck): ApiError {
  // Basic tells a browser to ask for credentials; the realm is fixed so it reveals nothing.
  const headers: Record<string, string> = auth.type === 'httpBasic' ? { 'WWW-Authenticate': 'Basic realm="gitfunc"' } : {};
  return new ApiError(ApiErrors.authFailed, 'Authentication failed: missing or wrong credentials for this API', {}, headers);
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
