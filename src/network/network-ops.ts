/**
 * The bridge ops behind the script's `socket` and `ssl` (runtime/python/gitfunc_socket.py,
 * gitfunc_ssl.py): name resolution, TCP connects checked against the egress rules, reads and
 * writes, TLS done by Node on the script's connection, and the end of a call closing what it
 * left open. CONTRACT section 10.
 */
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { BridgePeer, BridgeRefusal, type BridgeServer } from '../runtime/bridge/bridge-server.js';
import { CallSockets } from './call-sockets.js';
import type { EgressPolicy } from './egress-rules.js';
import { HostConnection } from './host-connection.js';
import { firstEvent } from './first-event.js';
import { type Failed, failed, socketFailure } from './script-error.js';
import type { ClientCertificate, TlsTrust } from './tls-trust.js';
import { upgradeToTls } from './tls-upgrade.js';

export interface NetworkOptions {
  policy: EgressPolicy;
  trust: TlsTrust;
  /** limits.socketsPerCall */
  socketsPerCall: number;
}

/** A read of at most this many bytes per request: the answer travels as base64 in JSON. */
const READ_MAX_BYTES = 256 * 1024;
/** A socket timeout the script gave, or NO_TIMEOUT (only the call's deadline stops it). */
const NO_TIMEOUT = -1;

type Args = Record<string, unknown>;

function objectArgs(args: unknown): Args {
  if (typeof args !== 'object' || args === null) throw new BridgeRefusal('arguments must be an object');
  return args as Args;
}

function text(args: Args, key: string): string {
  const value = args[key];
  if (typeof value !== 'string') throw new BridgeRefusal(`${key} must be a string`);
  return value;
}

function integer(args: Args, key: string, min: number, max: number): number {
  const value = args[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new BridgeRefusal(`${key} must be an integer from ${min} to ${max}`);
  return value;
}

function timeoutOf(args: Args): number {
  return integer(args, 'timeoutMs', NO_TIMEOUT, 2 ** 31 - 1);
}

function familyOf(args: Args): 0 | 4 | 6 {
  const family = integer(args, 'family', 0, 6);
  if (family !== 0 && family !== 4 && family !== 6) throw new BridgeRefusal('family must be 0, 4 or 6');
  return family;
}

/** Resolves `host` on the server (an IP address resolves to itself). */
async function resolve(host: string, family: 0 | 4 | 6): Promise<{ family: 4 | 6; address: string }[] | Failed> {
  const literal = isIP(host);
  if (literal !== 0) return family === 0 || family === literal ? [{ family: literal as 4 | 6, address: host }] : failed('gaierror', 'Address family for hostname not supported', 'EAI_ADDRFAMILY');
  try {
    const found = await lookup(host, { all: true, family });
    return found.map((entry) => ({ family: entry.family as 4 | 6, address: entry.address }));
  } catch (error) {
    return socketFailure(error as NodeJS.ErrnoException);
  }
}

function isFailed(value: unknown): value is Failed {
  return typeof value === 'object' && value !== null && 'error' in value;
}

/** Opens a TCP connection, or fails as the script should see it. */
async function openTcp(address: string, port: number, timeoutMs: number): Promise<Socket | Failed> {
  // Half-open as POSIX sockets are: the peer's FIN does not end the script's writes.
  const socket = tcpConnect({ host: address, port, noDelay: true, allowHalfOpen: true });
  const outcome = await firstEvent(socket, 'connect', timeoutMs);
  if ('happened' in outcome) return socket;
  socket.destroy();
  return 'error' in outcome ? socketFailure(outcome.error) : failed('TimeoutError', 'timed out');
}

function endpointOf(address: string | undefined, port: number | undefined): [string, number] {
  return [address ?? '', port ?? 0];
}

export function registerNetworkOps(bridge: BridgeServer, options: NetworkOptions): void {
  const calls = new WeakMap<BridgePeer, CallSockets>();
  const callOf = (peer: BridgePeer): CallSockets => {
    let sockets = calls.get(peer);
    if (sockets === undefined) {
      const created = new CallSockets(options.socketsPerCall);
      sockets = created;
      calls.set(peer, created);
      peer.onClose(() => created.endCall());
    }
    return sockets;
  };
  const connectionOf = (peer: BridgePeer, args: Args): HostConnection | Failed => {
    const connection = callOf(peer).get(integer(args, 'id', 1, Number.MAX_SAFE_INTEGER));
    return connection ?? failed('OSError', 'Bad file descriptor', 'EBADF');
  };

  bridge.register('net.resolve', async (raw, peer) => {
    const args = objectArgs(raw);
    const host = text(args, 'host');
    const found = await resolve(host, familyOf(args));
    if (isFailed(found)) return found;
    const sockets = callOf(peer);
    if (isIP(host) === 0) for (const entry of found) sockets.rememberName(entry.address, host);
    return { addresses: found.map((entry) => [entry.family, entry.address]) };
  });

  bridge.register('net.connect', async (raw, peer) => {
    const args = objectArgs(raw);
    const host = text(args, 'host');
    const port = integer(args, 'port', 0, 65535);
    const timeoutMs = timeoutOf(args);
    const sockets = callOf(peer);
    if (!sockets.hasRoom) return failed('OSError', `Too many open sockets: a call holds at most ${options.socketsPerCall} (limits.socketsPerCall)`, 'EMFILE');
    const addresses = await resolve(host, familyOf(args));
    if (isFailed(addresses)) return addresses;
    let refusal: string | undefined;
    let lastFailure: Failed | undefined;
    for (const { address } of addresses) {
      const name = isIP(host) === 0 ? host : sockets.nameOf(address);
      const verdict = options.policy.check({ address, port, ...(name === undefined ? {} : { name }) });
      if (!verdict.allowed) {
        refusal ??= `connection to ${address} port ${port} refused: ${verdict.reason}`;
        continue;
      }
      const opened = await openTcp(address, port, timeoutMs);
      if (isFailed(opened)) {
        lastFailure = opened;
        continue;
      }
      const id = sockets.add(new HostConnection(opened));
      return { id, peer: endpointOf(opened.remoteAddress, opened.remotePort), local: endpointOf(opened.localAddress, opened.localPort) };
    }
    return lastFailure ?? failed('PermissionError', refusal ?? `no address for ${host}`, 'EACCES');
  });

  bridge.register('net.send', async (raw, peer) => {
    const args = objectArgs(raw);
    const connection = connectionOf(peer, args);
    if (isFailed(connection)) return connection;
    const data = Buffer.from(text(args, 'data'), 'base64');
    const error = await connection.write(data);
    return error === undefined ? { sent: data.length } : socketFailure(error);
  });

  bridge.register('net.recv', async (raw, peer) => {
    const args = objectArgs(raw);
    const connection = connectionOf(peer, args);
    if (isFailed(connection)) return connection;
    const result = await connection.read(Math.min(integer(args, 'max', 1, 2 ** 31 - 1), READ_MAX_BYTES), timeoutOf(args));
    if ('data' in result) return { data: result.data.toString('base64'), ...(result.endsStream ? { eof: true } : {}) };
    if ('eof' in result) return { data: '' };
    if ('timedOut' in result) return failed('TimeoutError', 'timed out');
    return socketFailure(result.failure);
  });

  bridge.register('net.poll', async (raw, peer) => {
    const args = objectArgs(raw);
    const ids = args.ids;
    if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) throw new BridgeRefusal('ids must be a list of socket ids');
    const sockets = callOf(peer);
    const connections = (ids as number[]).map((id) => [id, sockets.get(id)] as const);
    const readable = (): number[] => connections.filter(([, c]) => c === undefined || c.readable).map(([id]) => id);
    if (readable().length === 0 && connections.length > 0) {
      // Wakes at the first connection with data, or at the timeout; the other waits end with it.
      const timeoutMs = timeoutOf(args);
      const firstDone = new AbortController();
      await Promise.race(connections.map(([, c]) => c!.waitReadable(timeoutMs, firstDone.signal)));
      firstDone.abort();
    }
    return { readable: readable() };
  });

  bridge.register('net.shutdown', (raw, peer) => {
    const connection = connectionOf(peer, objectArgs(raw));
    if (isFailed(connection)) return connection;
    connection.endWrites();
    return {};
  });

  bridge.register('net.close', (raw, peer) => {
    callOf(peer).close(integer(objectArgs(raw), 'id', 1, Number.MAX_SAFE_INTEGER));
    return {};
  });

  bridge.register('net.endCall', (_raw, peer) => {
    calls.get(peer)?.endCall();
    return {};
  });

  bridge.register('net.startTls', async (raw, peer) => {
    const args = objectArgs(raw);
    const connection = connectionOf(peer, args);
    if (isFailed(connection)) return connection;
    const trustHashes = args.trust;
    if (!Array.isArray(trustHashes) || !trustHashes.every((hash) => typeof hash === 'string')) throw new BridgeRefusal('trust must be a list of hashes');
    const pems = args.pems;
    if (typeof pems === 'object' && pems !== null) for (const pem of Object.values(pems)) if (typeof pem === 'string') options.trust.learn(pem);
    const unknown = options.trust.unknown(trustHashes as string[]);
    if (unknown.length > 0) return { unknownTrust: unknown };
    const client = clientCertificateOf(args);
    return upgradeToTls(connection, {
      ...(typeof args.serverHostname === 'string' ? { serverHostname: args.serverHostname } : {}),
      verify: args.verify === true,
      checkHostname: args.checkHostname === true,
      alpn: Array.isArray(args.alpn) ? (args.alpn as unknown[]).filter((p): p is string => typeof p === 'string') : [],
      timeoutMs: timeoutOf(args),
      secureContext: () => options.trust.contextFor(trustHashes as string[], client),
    });
  });
}

function clientCertificateOf(args: Args): ClientCertificate | undefined {
  const client = args.client;
  if (typeof client !== 'object' || client === null) return undefined;
  const { cert, key, passphrase } = client as Record<string, unknown>;
  if (typeof cert !== 'string' || typeof key !== 'string') throw new BridgeRefusal('client needs cert and key');
  return { cert, key, ...(typeof passphrase === 'string' ? { passphrase } : {}) };
}
