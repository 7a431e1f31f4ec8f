import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Polka, Request } from 'polka';
import { GitfuncError } from '../errors.js';

/** How often Node checks the header and request timeouts of open connections, at most. */
const TIMEOUT_CHECK_MS = 1000;

export interface ConnectionLimits {
  /** The request's headers must have arrived this long after its first byte. */
  headersTimeoutSeconds: number;
  /** And its body this much longer. */
  bodyReadSeconds: number;
}

/**
 * Node's HTTP server around the app. Slow clients: Node answers 408 and closes a connection
 * whose headers, or whole request, did not arrive in time. Both count from the request's first
 * byte; neither limits how long the answer takes once the request is in. `timeRequest` sees
 * every request first (request-timing.ts).
 */
export function createHttpServer(app: Polka, limits: ConnectionLimits, timeRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const headersTimeoutMs = limits.headersTimeoutSeconds * 1000;
  const server = createServer(
    { connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, headersTimeoutMs / 2) },
    // polka's handler parses the URL itself; `Request` is the same object with fields it adds.
    (req, res) => {
      timeRequest(req, res);
      void app.handler(req as Request, res, undefined as never);
    },
  );
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = headersTimeoutMs + limits.bodyReadSeconds * 1000;
  return server;
}

/**
 * Listens on `host:port` and resolves with the `http://host:port` it listens on. A port in use
 * is a PORT_IN_USE error saying how to choose another, not Node's EADDRINUSE stack.
 */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException): void => {
      if (error.code !== 'EADDRINUSE') return reject(error);
      reject(
        new GitfuncError('PORT_IN_USE', `port ${port} on ${host} is in use by another process: choose another with --port N or GITFUNC_PORT`, {
          port,
          host,
        }),
      );
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const { address, port: bound } = server.address() as AddressInfo;
      resolve(`http://${address.includes(':') ? `[${address}]` : address}:${bound}`);
    });
  });
}
