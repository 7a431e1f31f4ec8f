/**
 * The nonces of HTTP Digest auth (RFC 7616). A nonce carries its issue time and an HMAC of it
 * under a key only this process knows, so checking one needs no stored state; it goes stale
 * after `lifetimeMs` (DFF's `_HTTP_AUTH_NONCE_MAX_AGE`, 300 s). Each (nonce, nc) pair is
 * accepted once: the pairs seen are kept in a bounded record, and when the record is full the
 * oldest pair leaves it and every nonce issued up to that pair's nonce becomes stale, so no pair
 * can be replayed after it was forgotten.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a nonce is accepted, in ms. */
export const DIGEST_NONCE_LIFETIME_MS = 300_000;
/** The (nonce, nc) pairs remembered at most. */
const MAX_SEEN_PAIRS = 100_000;

const TIME_BYTES = 6;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;

/** `fresh`: issued here and in time. `stale`: issued here, too old. `invalid`: not ours. */
export type NonceState = { kind: 'fresh'; issuedAt: number } | { kind: 'stale' } | { kind: 'invalid' };

export interface DigestNonceOptions {
  lifetimeMs?: number;
  maxSeenPairs?: number;
}

/** Issues and checks digest nonces; one per server (nonces outlive revisions). */
export class DigestNonces {
  private readonly key = randomBytes(32);
  /** Sent with every challenge; clients echo it, it carries nothing. */
  readonly opaque = randomBytes(12).toString('base64url');
  private readonly lifetimeMs: number;
  private readonly maxSeenPairs: number;
  /** `nonce nc` -> the nonce's issue time, in the order the pairs were first used. */
  private readonly seen = new Map<string, number>();
  /** Nonces issued at or before this time are stale: pairs of theirs may have left `seen`. */
  private floorMs = Number.NEGATIVE_INFINITY;

  constructor(options: DigestNonceOptions = {}) {
    this.lifetimeMs = options.lifetimeMs ?? DIGEST_NONCE_LIFETIME_MS;
    this.maxSeenPairs = options.maxSeenPairs ?? MAX_SEEN_PAIRS;
  }

  /** A new nonce for `scope` (the auth's id: a nonce is good for that auth only). */
  issue(scope: string, nowMs: number): string {
    const body = Buffer.alloc(TIME_BYTES + RANDOM_BYTES);
    body.writeUIntBE(Math.max(0, Math.floor(nowMs)), 0, TIME_BYTES);
    randomBytes(RANDOM_BYTES).copy(body, TIME_BYTES);
    return Buffer.concat([body, this.mac(scope, body)]).toString('base64url');
  }

  /** Whether `nonce` was issued here for `scope`, and is still in time. */
  check(nonce: string, scope: string, nowMs: number): NonceState {
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return { kind: 'invalid' };
    const body = bytes.subarray(0, TIME_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(bytes.subarray(TIME_BYTES + RANDOM_BYTES), this.mac(scope, body))) return { kind: 'invalid' };
    const issuedAt = bytes.readUIntBE(0, TIME_BYTES);
    if (issuedAt <= this.floorMs || nowMs - issuedAt > this.lifetimeMs) return { kind: 'stale' };
    return { kind: 'fresh', issuedAt };
  }

  /** Records the pair as used; false when it was used before (a replay). */
  use(nonce: string, nc: number, issuedAt: number, nowMs: number): boolean {
    const pair = `${nonce} ${nc}`;
    if (this.seen.has(pair)) return false;
    this.forgetExpired(nowMs);
    this.seen.set(pair, issuedAt);
    while (this.seen.size > this.maxSeenPairs) {
      const [oldest, oldestIssuedAt] = this.seen.entries().next().value!;
      this.seen.delete(oldest);
      this.floorMs = Math.max(this.floorMs, oldestIssuedAt);
    }
    return true;
  }

  /** Pairs of expired nonces: their nonce is refused anyway. Oldest used first, so stop at a live one. */
  private forgetExpired(nowMs: number): void {
    for (const [pair, issuedAt] of this.seen) {
      if (nowMs - issuedAt <= this.lifetimeMs) return;
      this.seen.delete(pair);
    }
  }

  private mac(scope: string, body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(scope).update('\0').update(body).digest().subarray(0, MAC_BYTES);
  }
}
