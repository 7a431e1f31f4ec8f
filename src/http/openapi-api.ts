import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import { openApiDocument } from '../openapi/openapi-document.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { ApiError, ApiErrors } from './api-error.js';
import { sendApiError, sendBody, startScope } from './respond.js';

/**
 * `GET /api/v1/openapi.json`, open to all (CONTRACT section 14), as DFF's API list is: it shows
 * what any caller can already call (never a secret, never an `is_hidden` API). Built once per
 * revision: a reload serves a new revision, hence a new document.
 */
export function registerOpenApi(app: Polka, holder: RevisionHolder): void {
  const documents = new WeakMap<Revision, string>();
  app.get('/api/v1/openapi.json', (req: Request, res: ServerResponse) => {
    const scope = startScope(req);
    const revision = holder.current;
    if (revision === undefined) {
      sendApiError(res, scope, new ApiError(ApiErrors.notReady, 'No revision is loaded yet; retry shortly', {}, { 'Retry-After': '1' }));
      return;
    }
    let document = documents.get(revision);
    if (document === undefined) {
      document = JSON.stringify(openApiDocument(revision));
      documents.set(revision, document);
    }
    sendBody(res, scope, 200, 'application/json; charset=utf-8', document);
  });
}
