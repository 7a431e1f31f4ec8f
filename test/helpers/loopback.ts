// A test's own servers on 127.0.0.1: what a script connects to through gitfunc's sockets.
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';

/** The port a listening server got. */
export function portOf(server: { address(): unknown }): number {
  return (server.address() as AddressInfo).port;
}

/** Listens on a free port of 127.0.0.1; closed when the test `t` ends. */
export async function listenOnLoopback<S extends Server>(t: { teardown(fn: () => unknown): void }, server: S): Promise<S> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}
