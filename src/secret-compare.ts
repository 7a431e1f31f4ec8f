/**
 * The one way gitfunc compares a secret (token, password, GitLab webhook token) with a guess:
 * both are reduced to SHA-256 digests, then compared with crypto.timingSafeEqual. Equal-length
 * digests let timingSafeEqual run at all, and the time taken says nothing about where the guess
 * differs nor how long it is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest a secret is kept as; compute it once, when the secret is configured. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * True when `given` is the secret whose digest is `expected`. A missing or non-text guess is
 * still hashed and compared (as the empty string), so the time does not tell it apart.
 */
export function matchesSecret(given: unknown, expected: Buffer): boolean {
  const matches = timingSafeEqual(secretDigest(typeof given === 'string' ? given : ''), expected);
  return matches && typeof given === 'string';
}
