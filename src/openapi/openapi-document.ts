/**
 * The OpenAPI 3.1 document of a served revision (CONTRACT section 14): every sync and async
 * API but those whose function says `is_hidden` (and those whose script failed to import:
 * their signature is unknown and they answer 503.3), in each call form, with their kwargs,
 * auth schemes and DFF error bodies.
 */
import type { Revision } from '../revision/revision.js';
import { API_PREFIX, type ApiKind, apiPaths, ASYNC_ACCEPTED_REF } from './api-operations.js';
import { ERROR_BODY_REF, ERROR_BODY_SCHEMA } from './error-responses.js';
import type { Schema } from './kwargs-schema.js';

const ASYNC_ACCEPTED_SCHEMA: Schema = {
  type: 'object',
  required: ['ok', 'error', 'message', 'data'],
  properties: {
    ok: { const: true },
    error: { const: 200 },
    message: { type: 'string' },
    data: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^task-' } } },
  },
};

const componentName = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);

/** The document of `revision`, as a plain object. */
export function openApiDocument(revision: Revision): Schema {
  const paths: Record<string, Schema> = {};
  const securitySchemes: Record<string, Schema> = {};
  const kinds: [ApiKind, Revision['syncApis']][] = [
    ['sync', revision.syncApis],
    ['async', revision.asyncApis],
  ];
  for (const [kind, apis] of kinds) {
    for (const endpoint of apis.values()) {
      const info = revision.catalog.get(endpoint.funcId);
      if (info === undefined || info.isHidden || endpoint.scriptFailure !== undefined) continue;
      const api = apiPaths(endpoint, kind, info);
      Object.assign(paths, api.paths);
      Object.assign(securitySchemes, api.schemes);
    }
  }
  const components: Schema = {
    schemas: { [componentName(ERROR_BODY_REF)]: ERROR_BODY_SCHEMA, [componentName(ASYNC_ACCEPTED_REF)]: ASYNC_ACCEPTED_SCHEMA },
  };
  if (Object.keys(securitySchemes).length > 0) components.securitySchemes = securitySchemes;
  return {
    openapi: '3.1.0',
    info: {
      title: 'gitfunc APIs',
      version: revision.commit,
      description:
        `The APIs of commit \`${revision.commit}\`, served by gitfunc. ` +
        `Sync APIs answer with the function's return value (\`${API_PREFIX.sync}/{id}\`, also \`/api/v1/sync/{id}\`); ` +
        `async APIs queue it and answer with a task id (\`${API_PREFIX.async}/{id}\`, also \`/api/v1/async/{id}\`).`,
    },
    tags: [
      { name: 'Sync APIs', description: 'answered with the function\'s return value' },
      { name: 'Async APIs', description: 'queued; answered with a task id' },
    ],
    paths,
    components,
  };
}
