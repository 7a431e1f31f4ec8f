/**
 * What a compiled API auth is (see api-auth.ts): a check of the request's credentials, or a
 * function of the repository that the HTTP layer runs on the worker pool.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { DigestNonces } from './digest-nonces.js';

/** The parts of a request an auth may read. */
export interface AuthInput {
  method: string;
  /** The request target as sent (path and query): a digest response covers it. */
  url: string;
  headers: IncomingHttpHeaders;
  query: Readonly<Record<string, unknown>>;
  /** Top-level fields of a JSON object or form body; undefined for any other body. */
  bodyFields: Readonly<Record<string, unknown>> | undefined;
}

/** Server-wide state of the checks: the time, and the digest nonces this server issued. */
export interface AuthContext {
  nowMs: number;
  nonces: DigestNonces;
}

/** Admitted, or refused with the `WWW-Authenticate` values to send (none for fixedField). */
export type AuthVerdict = { admitted: true } | { admitted: false; challenges: readonly string[] };

interface AuthFields {
  id: string;
  /** The body is read before the check: a body field is compared, or a function gets it. */
  needsBody: boolean;
  /** Header names (lower case) carrying credentials: never shown to scripts. */
  headerNames: readonly string[];
  /** Query and body fields carrying credentials: removed from the kwargs and from scripts' view. */
  queryNames: readonly string[];
  bodyNames: readonly string[];
}

/** An auth that checks credentials of the request itself. */
export interface CredentialCheck extends AuthFields {
  type: 'fixedField' | 'httpBasic' | 'httpDigest';
  verify(input: AuthInput, context: AuthContext): AuthVerdict;
}

/** An auth answered by a function of the revision (`type: func`). */
export interface FuncAuthCheck extends AuthFields {
  type: 'func';
  funcId: string;
  /** The function's own `timeout`, or the sync default. */
  timeoutSeconds: number;
}

/** A compiled auth. */
export type ApiAuthCheck = CredentialCheck | FuncAuthCheck;
