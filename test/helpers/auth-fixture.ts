// The secrets and environment test/fixtures/auth and auth-schemes need to load, and a fake clock.
import path from 'node:path';
import { ADMIN_TOKEN } from './admin-client.js';
import { FIXTURES } from './start-gitfunc.js';
import type { Clock } from '../../src/model/clock.js';

export const AUTH_REPO = path.join(FIXTURES, 'auth');
/** fixedField any-of, httpDigest and function auths; the same secrets. */
export const AUTH_SCHEMES_REPO = path.join(FIXTURES, 'auth-schemes');

export const SECRETS = {
  HEADER_TOKEN: 'hdr-7f3a91c2e5',
  QUERY_TOKEN: 'qry-b81d4e0a66',
  BODY_TOKEN: 'bdy-29c7f05e13',
  OPS_PASSWORD: 'ops-pw-5d0e8b7a',
  DEV_PASSWORD: 'dev-pw-c4a19f62',
} as const;

/** The server environment: every secret set and allowed, plus the admin token. */
export const AUTH_ENV: Record<string, string> = {
  ...SECRETS,
  GITFUNC_ENV_ALLOW: Object.keys(SECRETS).join(','),
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
};

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
