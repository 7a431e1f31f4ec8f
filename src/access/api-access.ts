/**
 * What an API checks before a call (CONTRACT sections 1 and 5): its switches (`disabled`,
 * `expireTime`), its auth, its throttling. Computed once per revision; an API with none of
 * them has no access rules at all, so its calls skip every check.
 */
import type { ApiEntry } from '../manifest/index.js';
import type { ApiAuthCheck } from './api-auth.js';
import { type ThrottleLimit, throttleLimits } from './throttle.js';

/** The checks of one API, in the order they run. */
export interface ApiAccess {
  disabled: boolean;
  /** Epoch ms from which the API answers 403.21. */
  expiresAt?: number;
  auth?: ApiAuthCheck;
  /** `key` names the API's counters: sync and async APIs may share an id. */
  throttle?: { key: string; limits: readonly ThrottleLimit[] };
}

/** The access rules of one API entry, or undefined when it has none. */
export function apiAccessOf(
  entry: ApiEntry,
  kind: 'sync' | 'async',
  auths: ReadonlyMap<string, ApiAuthCheck>,
): ApiAccess | undefined {
  const auth = entry.auth === undefined ? undefined : auths.get(entry.auth);
  const limits = throttleLimits(entry.throttling);
  if (!entry.disabled && entry.expireTime === undefined && auth === undefined && limits === undefined) return undefined;
  const access: ApiAccess = { disabled: entry.disabled };
  if (entry.expireTime !== undefined) access.expiresAt = entry.expireTime * 1000;
  if (auth !== undefined) access.auth = auth;
  if (limits !== undefined) access.throttle = { key: `${kind}:${entry.id}`, limits };
  return access;
}
