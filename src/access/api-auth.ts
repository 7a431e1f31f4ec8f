/**
 * API auth as declared in `apiAuths` (CONTRACT sections 1 and 12), compiled once per revision
 * from the resolved secrets: `fixedField` (any one of its header, query or body fields matches
 * its value, DFF's rule), `httpBasic` (`Authorization: Basic` with one of the users),
 * `httpDigest` (digest-auth.ts) and `func` (a function of the repository, run by the HTTP layer).
 * Secrets are kept as SHA-256 digests and compared by secret-compare.ts, so a check takes the
 * same time whatever the guess.
 */
import type { ApiAuth, FixedField } from '../manifest/index.js';
import { matchesSecret, secretDigest } from '../secret-compare.js';
import type { ApiAuthCheck, AuthInput, CredentialCheck } from './auth-check.js';
import { compileDigestAuth } from './digest-auth.js';

export type { ApiAuthCheck, AuthContext, AuthInput, AuthVerdict, CredentialCheck, FuncAuthCheck } from './auth-check.js';

/** What Basic sends with a refusal: the realm is fixed so it reveals nothing. */
const BASIC_CHALLENGE = ['Basic realm="gitfunc"'];

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

function compileFixedField(auth: Extract<ApiAuth, { type: 'fixedField' }>): CredentialCheck {
  const fields = auth.fields.map((field) => ({ field, expected: secretDigest(field.value) }));
  return {
    id: auth.id,
    type: auth.type,
    needsBody: fields.some(({ field }) => field.location === 'body'),
    headerNames: namesAt(auth.fields, 'header'),
    queryNames: namesAt(auth.fields, 'query'),
    bodyNames: namesAt(auth.fields, 'body'),
    verify: (input) => {
      // Every field is compared (no early exit), so the time does not tell which one matched.
      let matched = false;
      for (const { field, expected } of fields) {
        const matches = matchesSecret(fieldValue(field, input), expected);
        matched = (matches && field.value !== '') || matched;
      }
      return matched ? { admitted: true } : { admitted: false, challenges: [] };
    },
  };
}

function compileBasic(auth: Extract<ApiAuth, { type: 'httpBasic' }>): CredentialCheck {
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
      return ok ? { admitted: true } : { admitted: false, challenges: BASIC_CHALLENGE };
    },
  };
}

/**
 * Compiles one resolved auth; `timeoutOf` gives a function auth's time limit (its function's
 * own `timeout`, or the default). An unset or empty `${NAME}` fails a served revision before
 * this runs; should an empty secret reach here anyway (`gitfunc check`), that field or user
 * matches no one, so an empty credential can never match an empty secret.
 */
export function compileApiAuth(auth: ApiAuth, timeoutOf: (funcId: string) => number): ApiAuthCheck {
  switch (auth.type) {
    case 'fixedField':
      return compileFixedField(auth);
    case 'httpBasic':
      return compileBasic(auth);
    case 'httpDigest':
      return compileDigestAuth(auth);
    case 'func':
      // The function may read anything of the request, the body included; it hides nothing.
      return {
        id: auth.id,
        type: 'func',
        funcId: auth.func,
        timeoutSeconds: timeoutOf(auth.func),
        needsBody: true,
        headerNames: [],
        queryNames: [],
        bodyNames: [],
      };
  }
}
