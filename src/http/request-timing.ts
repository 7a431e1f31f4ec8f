import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Polka } from 'polka';

/** Where each answered request's duration goes (GitfuncMetrics.requestEnded). */
export interface RequestDurations {
  requestEnded(method: string, route: string, statusCode: number, seconds: number): void;
}

/** The route label of a request no route matched: one label for every unknown path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** A request as timed here: when it arrived, and the template of the route that took it. */
interface TimedRequest extends IncomingMessage {
  gitfuncStartedAt?: number;
  gitfuncRoute?: string;
}

const ROUTE_METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'all'] as const;

/**
 * Makes every route registered on `app` from now on name its template on the request it
 * handles (`/api/v1/al/:id`, never the path itself), for the request-duration label. Polka
 * keeps no template of a match, so each route's first handler is wrapped as it is registered.
 */
export function labelRoutes(app: Polka): void {
  for (const method of ROUTE_METHODS) {
    const register = app[method].bind(app) as (route: string, ...handlers: Function[]) => Polka;
    (app as unknown as Record<string, unknown>)[method] = (route: string, first: Function, ...rest: Function[]) =>
      register(route, function (this: unknown, req: TimedRequest, ...args: unknown[]) {
        req.gitfuncRoute = route;
        return first.call(this, req, ...args);
      }, ...rest);
  }
}

/**
 * Times each request until its answer is written (a request whose connection closed first is
 * not counted); `durations` gets its method, route template and status.
 */
export function requestTimer(durations: RequestDurations): (req: IncomingMessage, res: ServerResponse) => void {
  // One listener for every request (`this` is the response): nothing is allocated per request.
  function onFinish(this: ServerResponse): void {
    const req = this.req as TimedRequest;
    const seconds = (performance.now() - req.gitfuncStartedAt!) / 1000;
    durations.requestEnded(req.method ?? 'GET', req.gitfuncRoute ?? UNMATCHED_ROUTE, this.statusCode, seconds);
  }
  return (req, res) => {
    (req as TimedRequest).gitfuncStartedAt = performance.now();
    res.once('finish', onFinish);
  };
}
