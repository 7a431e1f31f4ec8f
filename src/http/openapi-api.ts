import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import { openApiDocument } from '../openapi/openapi-document.js';
import type { RevisionHolder } from '../revision/revision-holder.js';
import type { Revision } from '../revision/revision.js';
import { acquireRevision } from './api-call.js';
import { sendBody, startScope } from './respond.js';

/**
 * `GET /api/v1/openapi.json`, open to all (CONTRACT section 14), as DFF's API list is: it shows
 * what any caller can already call (never a secret, never an `is_hidden` API). Built once per
 * revision: a reload serves a new revision, hence a new document.
 */
export function registerOpenApi(app: Polka, holder: RevisionHolder): void {
  const documents = new WeakMap<Revision, string>();
  app.get('/api/v1/openapi.json', (req: Request, res: ServerResponse) => {
    // Before a revision is loaded: 503.2 (thrown, answered by the app's error handler).
    const revision = acquireRevision(holder);
    try {
      let document = documents.get(revision);
      if (document === undefined) {
        document = JSON.stringify(openApiDocument(revision));
        documents.set(revision, document);
      }
      sendBody(res, startScope(req), 200, 'application/json; charset=utf-8', document);
    } finally {
      holder.release(revision);
    }
  });
}
