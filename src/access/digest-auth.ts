/**
 * `httpDigest` auth (RFC 7616, as DFF offers it, with SHA-256 beside MD5): a refused call is
 * challenged for both algorithms with a fresh nonce (see digest-nonces.ts); an `Authorization:
 * Digest` answer passes when it uses `qop=auth`, names this request's target as `uri`, carries a
 * nonce issued here for this auth and still in time, a (nonce, nc) pair never used before, and a
 * `response` computed from one user's password. The stored per-user hashes (HA1) are compared
 * through secret-compare.ts, in constant time.
 */
import { createHash } from 'node:crypto';
import type { BasicUser, HttpDigestAuth } from '../manifest/index.js';
import { matchesSecret, secretDigest } from '../secret-compare.js';
import type { AuthContext, AuthInput, AuthVerdict, CredentialCheck } from './auth-check.js';

/** The protection space; fixed, like Basic's, so it reveals nothing. */
export const DIGEST_REALM = 'gitfunc';

/**
 * RFC 7616 names -> node:crypto names, in the order of the challenges: MD5 first, as DFF offers
 * it, because clients that read only the first challenge (Python's urllib, curl) would refuse
 * or skip SHA-256; clients that choose may take SHA-256.
 */
const ALGORITHMS = [
  ['MD5', 'md5'],
  ['SHA-256', 'sha256'],
] as const;

type HashName = (typeof ALGORITHMS)[number][1];

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response', 'qop', 'nc', 'cnonce'] as const;

/** One `name=value` or `name="quoted value"` of an auth header, then a comma or the end. */
const PARAM = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s",]+))\s*(?:,|$)/y;

/** The parameters of an `Authorization: Digest ...` header (names lower case), or undefined. */
export function digestParams(header: string | undefined): Map<string, string> | undefined {
  const scheme = header === undefined ? null : /^Digest\s+/i.exec(header);
  if (header === undefined || scheme === null) return undefined;
  const params = new Map<string, string>();
  PARAM.lastIndex = scheme[0].length;
  while (PARAM.lastIndex < header.length) {
    const match = PARAM.exec(header);
    if (match === null) return undefined;
    const name = match[1]!.toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!);
  }
  return params;
}

function hash(algorithm: HashName, text: string): string {
  return createHash(algorithm).update(text).digest('hex');
}

/** The `WWW-Authenticate` values of a refusal: one per algorithm, sharing one new nonce. */
export function digestChallenges(authId: string, context: AuthContext, stale: boolean): string[] {
  const nonce = context.nonces.issue(authId, context.nowMs);
  const tail = `nonce="${nonce}", opaque="${context.nonces.opaque}"${stale ? ', stale=true' : ''}`;
  return ALGORITHMS.map(([name]) => `Digest realm="${DIGEST_REALM}", qop="auth", algorithm=${name}, ${tail}`);
}

interface DigestUser {
  username: string;
  /** HA1 = H(username:realm:password) per algorithm, as the digest of secret-compare.ts. */
  ha1: Record<HashName, string>;
}

function digestUser(user: BasicUser): DigestUser {
  const ha1 = {} as Record<HashName, string>;
  for (const [, algorithm] of ALGORITHMS) ha1[algorithm] = hash(algorithm, `${user.username}:${DIGEST_REALM}:${user.password}`);
  return { username: user.username, ha1 };
}

/** True when `params.response` is right for one of `users`; every user of that name is tried. */
function responseMatches(params: Map<string, string>, algorithm: HashName, input: AuthInput, users: readonly DigestUser[]): boolean {
  const ha2 = hash(algorithm, `${input.method}:${params.get('uri')!}`);
  const tail = `${params.get('nonce')!}:${params.get('nc')!}:${params.get('cnonce')!}:auth:${ha2}`;
  const given = params.get('response')!.toLowerCase();
  let ok = false;
  for (const user of users) {
    if (user.username !== params.get('username')) continue;
    ok = matchesSecret(given, secretDigest(hash(algorithm, `${user.ha1[algorithm]}:${tail}`))) || ok;
  }
  return ok;
}

/** Compiles one resolved httpDigest auth. Users with an empty password never pass. */
export function compileDigestAuth(auth: HttpDigestAuth): CredentialCheck {
  const users = auth.users.filter((user) => user.password !== '').map(digestUser);
  const verify = (input: AuthInput, context: AuthContext): AuthVerdict => {
    const refuse = (stale = false): AuthVerdict => ({ admitted: false, challenges: digestChallenges(auth.id, context, stale) });
    const params = digestParams(input.headers.authorization);
    if (params === undefined || REQUIRED.some((name) => !params.has(name))) return refuse();
    const algorithmName = (params.get('algorithm') ?? 'MD5').toUpperCase();
    const algorithm = ALGORITHMS.find(([name]) => name === algorithmName)?.[1];
    const nc = params.get('nc')!;
    if (
      algorithm === undefined ||
      params.get('realm') !== DIGEST_REALM ||
      params.get('qop') !== 'auth' ||
      params.get('userhash')?.toLowerCase() === 'true' ||
      !/^[0-9a-f]{8}$/i.test(nc) ||
      params.get('uri') !== input.url
    ) {
      return refuse();
    }
    const nonce = context.nonces.check(params.get('nonce')!, auth.id, context.nowMs);
    if (nonce.kind === 'invalid' || !responseMatches(params, algorithm, input, users)) return refuse();
    // RFC 7616: stale=true only for a response that was right but for its old nonce.
    if (nonce.kind === 'stale') return refuse(true);
    if (!context.nonces.use(params.get('nonce')!, Number.parseInt(nc, 16), nonce.issuedAt, context.nowMs)) return refuse();
    return { admitted: true };
  };
  return { id: auth.id, type: auth.type, needsBody: false, headerNames: ['authorization'], queryNames: [], bodyNames: [], verify };
}
