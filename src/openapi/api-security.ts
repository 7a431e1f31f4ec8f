/**
 * The OpenAPI security schemes of the manifest's API auths. A fixedField auth admits a call
 * when any one of its fields matches (an OR of schemes); a body field and a `func` auth have no
 * OpenAPI scheme, so they are described in words. Values (secrets) are never shown.
 */
import type { ApiAuthCheck } from '../access/api-auth.js';
import type { Schema } from './kwargs-schema.js';

/** What an operation with this auth carries: schemes to declare, its requirement, a note for people. */
export interface AuthDoc {
  /** The auth's id and type, shown on each operation as `x-gitfunc-auth`. */
  id: string;
  type: ApiAuthCheck['type'];
  schemes: Record<string, Schema>;
  /** Alternatives (any one admits); empty when OpenAPI cannot express the auth. */
  security: Record<string, string[]>[];
  note: string;
}

/** A components key: OpenAPI allows letters, digits, `.`, `-` and `_`. */
function schemeKey(...parts: string[]): string {
  return parts.join('.').replace(/[^A-Za-z0-9._-]/g, '_');
}

function fixedFieldDoc(auth: ApiAuthCheck): AuthDoc {
  const schemes: Record<string, Schema> = {};
  const places: string[] = [];
  for (const [location, names] of [
    ['header', auth.headerNames],
    ['query', auth.queryNames],
  ] as const) {
    for (const name of names) {
      schemes[schemeKey(auth.id, location, name)] = { type: 'apiKey', in: location, name, description: `API auth '${auth.id}' (fixedField)` };
      places.push(`${location} \`${name}\``);
    }
  }
  for (const name of auth.bodyNames) places.push(`body field \`${name}\``);
  return {
    id: auth.id,
    type: auth.type,
    schemes,
    security: Object.keys(schemes).map((key) => ({ [key]: [] })),
    note: `API auth \`${auth.id}\` (fixedField): the expected value in any one of: ${places.join(', ')}.`,
  };
}

/** The OpenAPI description of one compiled API auth. */
export function authDoc(auth: ApiAuthCheck): AuthDoc {
  switch (auth.type) {
    case 'fixedField':
      return fixedFieldDoc(auth);
    case 'httpBasic':
    case 'httpDigest': {
      const scheme = auth.type === 'httpBasic' ? 'basic' : 'digest';
      const key = schemeKey(auth.id);
      return {
        id: auth.id,
        type: auth.type,
        schemes: { [key]: { type: 'http', scheme, description: `API auth '${auth.id}' (${auth.type})` } },
        security: [{ [key]: [] }],
        note: `API auth \`${auth.id}\` (${auth.type}): HTTP ${scheme === 'basic' ? 'Basic' : 'Digest'} authentication.`,
      };
    }
    case 'func':
      return {
        id: auth.id,
        type: auth.type,
        schemes: {},
        security: [],
        note: `API auth \`${auth.id}\` (func): a function of the repository reads the request and admits or refuses the call.`,
      };
  }
}
