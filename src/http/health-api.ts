import type { ServerResponse } from 'node:http';
import type { Polka, Request } from 'polka';
import { sendBody, startScope } from './respond.js';

/** What the probes report: the process answers; whether it should get traffic. */
export interface Readiness {
  /** A revision is loaded, the workers are warm, and no shutdown has begun. */
  ready(): boolean;
  /** Why not, for the 503 body. */
  phase(): string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** `GET /healthz` and `GET /readyz`, open to all (load balancers, Kubernetes probes). */
export function registerHealthApi(app: Polka, readiness: Readiness): void {
  app.get('/healthz', (req: Request, res: ServerResponse) => {
    sendBody(res, startScope(req), 200, JSON_TYPE, '{"ok":true}');
  });
  app.get('/readyz', (req: Request, res: ServerResponse) => {
    const ready = readiness.ready();
    sendBody(res, startScope(req), ready ? 200 : 503, JSON_TYPE, JSON.stringify({ ok: ready, phase: readiness.phase() }));
  });
}
