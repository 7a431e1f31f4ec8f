/**
 * API auth as declared in `apiAuths` (CONTRACT section 1), compiled once per revision from the
 * resolved secrets: `fixedField` (every header, query or body field matches its value) and
 * `httpBasic` (`Authorization: Basic` with one of the users). Secrets are kept as SHA-256
 * digests and compared by secret-compare.ts, so a check takes the same time whatever the guess.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiAuth, FixedField } from '../manifest/index.js';
import { matchesSecret, secretDigest } from '../secret-compare.js';

/** The parts of a request an auth may read. */
export interface AuthInput {
  headers: IncomingHttpHeaders;
  query: Readonly<Record<string, unknown>>;
  /** Top-level fields of a JSON object or form body; undefined for any other body. */
  bodyFields: Readonly<Record<string, unknown>> | undefined;
}

/** A compiled auth: what it reads, and the check. */
export interface ApiAuthCheck {
  id: string;
  type: ApiAuth['type'];
  /** A body field is compared: the body must be read before the check. */
  needsBody: boolean;
  /** Header names (lower case) carrying credentials: never shown to scripts. */
  headerNames: readonly string[];
  /** Query and body fields carrying credentials: removed from the kwargs and from scripts' view. */
  queryNames: readonly string[];
  bodyNames: readonly string[];
  /** True when the request carries valid credentials. */
  verify(input: AuthInput): boolean;
}

function fieldValue(field: FixedField, input: AuthInput): unknown {
  switch (field.location) {
    case 'header':
      return input.headers[field.name.toLowerCase()];
    case 'query':
      return input.query[field.name];
    case 'body':
      return input.bodyFields?.[field.name];
  }
}

function namesAt(fields: readonly FixedField[], location: FixedField['location']): string[] {
  return fields.filter((f) => f.location === location).map((f) => (location === 'header' ? f.name.toLowerCase() : f.name));
}

/** `user:password` of an `Authorization: Basic` header, or undefined. */
export function basicCredentials(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  return match === null ? undefined : Buffer.from(match[1]!, 'base64').toString('utf8');
}

/**
 * Compiles one resolved auth. An unset or empty `${NAME}` fails a served revision before this
 * runs; should an empty secret reach here anyway (`gitfunc check`), the auth refuses everyone,
 * so an empty credential can never match an empty secret.
 */
export function compileApiAuth(auth: ApiAuth): ApiAuthCheck {
  if (auth.type === 'fixedField') {
    const fields = auth.fields.map((field) => ({ field, expected: secretDigest(field.value) }));
    const usable = auth.fields.every((field) => field.value !== '');
    return {
      id: auth.id,
      type: auth.type,
      needsBody: fields.some(({ field }) => field.location === 'body'),
      headerNames: namesAt(auth.fields, 'header'),
      queryNames: namesAt(auth.fields, 'query'),
      bodyNames: namesAt(auth.fields, 'body'),
      verify: (input) => {
        let ok = true;
        for (const { field, expected } of fields) ok = matchesSecret(fieldValue(field, input), expected) && ok;
        return ok && usable;
      },
    };
  }
  const users = auth.users.filter((user) => user.password !== '').map((user) => secretDigest(`${user.username}:${user.password}`));
  return {
    id: auth.id,
    type: auth.type,
    needsBody: false,
    headerNames: ['authorization'],
    queryNames: [],
    bodyNames: [],
    verify: (input) => {
      const given = basicCredentials(input.headers.authorization);
      let ok = false;
      for (const expected of users) ok = matchesSecret(given, expected) || ok;
      return ok;
    },
  };
}
