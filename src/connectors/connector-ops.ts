/**
 * The bridge ops behind `DFF.CONN` (runtime/python/gitfunc_connector_bridge.py): `conn.run`,
 * one operation of a connector in the revision the calling script runs on, bounded by the
 * script's deadline; and `conn.endCall`, posted as each call that used a connector ends.
 */
import { BridgeRefusal, type BridgeServer } from '../runtime/bridge/bridge-server.js';
import type { ConnectorRegistry } from './connector-registry.js';

/** An operation asked for outside any call (a script's module-level code) has this long. */
const NO_DEADLINE_TIMEOUT_MS = 30_000;

function field(args: Record<string, unknown>, key: string): string {
  const value = args[key];
  if (typeof value !== 'string' || value === '') throw new BridgeRefusal(`${key} must be a non-empty string`);
  return value;
}

/** Milliseconds left before `deadlineMs` (epoch ms), never below 0. */
function timeLeft(deadlineMs: unknown): number {
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs)) return NO_DEADLINE_TIMEOUT_MS;
  return Math.max(0, deadlineMs - Date.now());
}

export function registerConnectorOps(bridge: BridgeServer, registry: ConnectorRegistry): void {
  bridge.register('conn.run', (raw, peer) => {
    if (typeof raw !== 'object' || raw === null) throw new BridgeRefusal('arguments must be an object');
    const args = raw as Record<string, unknown>;
    const operationArgs = args.args;
    if (!Array.isArray(operationArgs)) throw new BridgeRefusal('args must be a list');
    return registry.run(field(args, 'revision'), field(args, 'id'), {
      op: field(args, 'op'),
      args: operationArgs,
      timeoutMs: timeLeft(args.deadlineMs),
      peer,
    });
  });
  bridge.register('conn.endCall', (_raw, peer) => registry.endCall(peer));
}
