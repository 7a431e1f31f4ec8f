/**
 * Webhook signature checks, one per provider. Each works on the raw body bytes (before any
 * parsing) and compares fixed-length digests with crypto.timingSafeEqual, so neither the
 * content nor the length of a guess changes how long the comparison takes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** One header's value; a repeated header counts as missing (a sender signs once). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** True when `givenHex` is the HMAC-SHA256 of `raw` under `secret`. */
function hmacSha256Matches(raw: Buffer, secret: string, givenHex: string | undefined): boolean {
  if (givenHex === undefined || !HEX_SHA256.test(givenHex)) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(Buffer.from(givenHex, 'hex'), expected);
}

/** `sha256=<hex>` -> `<hex>`; anything else (sha1=, no prefix) -> undefined. */
function prefixedHex(header: string | undefined): string | undefined {
  return header?.startsWith('sha256=') ? header.slice('sha256='.length) : undefined;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyGithubSignature(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  return hmacSha256Matches(raw, secret, prefixedHex(headerValue(headers, 'x-hub-signature-256')));
}

/** Gitea and Forgejo: `X-Gitea-Signature` / `X-Forgejo-Signature`, bare hex. */
export function verifyGiteaSignature(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  const given = headerValue(headers, 'x-forgejo-signature') ?? headerValue(headers, 'x-gitea-signature');
  return hmacSha256Matches(raw, secret, given);
}

/** Bitbucket (Cloud and Data Center): `X-Hub-Signature: sha256=<hex>`. */
export function verifyBitbucketSignature(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  return hmacSha256Matches(raw, secret, prefixedHex(headerValue(headers, 'x-hub-signature')));
}

/** Any other sender (a CI job, a script): `X-Gitfunc-Signature: sha256=<hex>`. */
export function verifyGenericSignature(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  return hmacSha256Matches(raw, secret, prefixedHex(headerValue(headers, 'x-gitfunc-signature')));
}

/** GitLab signs nothing: `X-Gitlab-Token` carries the secret itself. Digests make the lengths equal. */
export function verifyGitlabToken(_raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  const given = headerValue(headers, 'x-gitlab-token');
  if (given === undefined) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}
