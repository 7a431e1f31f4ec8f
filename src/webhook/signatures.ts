/**
 * Webhook signature checks, one per provider. Each works on the raw body bytes (before any
 * parsing) and compares through secret-compare.ts, so neither the content nor the length of a
 * guess changes how long the comparison takes.
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { matchesSecret, secretDigest } from '../secret-compare.js';

/** One header's value; a repeated header counts as missing (a sender signs once). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** True when `givenHex` is the HMAC-SHA256 of `raw` under `secret`. */
function hmacSha256Matches(raw: Buffer, secret: string, givenHex: string | undefined): boolean {
  const expectedHex = createHmac('sha256', secret).update(raw).digest('hex');
  return matchesSecret(givenHex?.toLowerCase(), secretDigest(expectedHex));
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

/** GitLab signs nothing: `X-Gitlab-Token` carries the secret itself. */
export function verifyGitlabToken(_raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  return matchesSecret(headerValue(headers, 'x-gitlab-token'), secretDigest(secret));
}
