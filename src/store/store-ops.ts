import { BridgeRefusal, type BridgeServer } from '../runtime/bridge/bridge-server.js';
import type { ScriptStore } from '../tasks/script-store.js';

/** Longest key, and longest scope, in characters (DFF's limits). */
export const STORE_KEY_MAX_CHARS = 256;
/** Longest value, as JSON text, in characters. */
export const STORE_VALUE_MAX_CHARS = 1024 * 1024;
/** Most keys one `mget` reads. */
export const STORE_MGET_MAX_KEYS = 1000;
/** Most characters of values one `mget` answers with. */
export const STORE_MGET_MAX_CHARS = 32 * 1024 * 1024;

type Args = Record<string, unknown>;

function objectArgs(args: unknown): Args {
  if (typeof args !== 'object' || args === null) throw new BridgeRefusal('arguments must be an object');
  return args as Args;
}

/** A key or scope: a non-empty string of at most STORE_KEY_MAX_CHARS characters. */
function name(field: 'scope' | 'key', value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new BridgeRefusal(`${field} must be a non-empty string`);
  if (value.length > STORE_KEY_MAX_CHARS) throw new BridgeRefusal(`${field} is longer than ${STORE_KEY_MAX_CHARS} characters`, { length: value.length });
  return value;
}

function ttlMs(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new BridgeRefusal('expires must be a positive number of seconds');
  return value;
}

function keyList(args: Args): string[] {
  const { keys } = args;
  if (!Array.isArray(keys)) throw new BridgeRefusal('keys must be a list of keys');
  if (keys.length > STORE_MGET_MAX_KEYS) throw new BridgeRefusal(`mget reads at most ${STORE_MGET_MAX_KEYS} keys at once`, { keys: keys.length });
  return keys.map((key: unknown) => name('key', key));
}

/** Makes `DFF.STORE` get / mget / set / keys / delete (gitfunc_store.py) answer from `store`. */
export function registerStoreOps(bridge: BridgeServer, store: ScriptStore): void {
  bridge.register('store.get', async (raw) => {
    const args = objectArgs(raw);
    return (await store.get(name('scope', args.scope), name('key', args.key))) ?? null;
  });
  bridge.register('store.mget', async (raw) => {
    const args = objectArgs(raw);
    const values = await store.mget(name('scope', args.scope), keyList(args));
    const chars = values.reduce((sum, value) => sum + (value?.length ?? 0), 0);
    if (chars > STORE_MGET_MAX_CHARS) throw new BridgeRefusal(`mget would answer more than ${STORE_MGET_MAX_CHARS} characters of values: read fewer keys at once`);
    return values.map((value) => value ?? null);
  });
  bridge.register('store.set', (raw) => {
    const args = objectArgs(raw);
    const { valueJson, notExists } = args;
    if (typeof valueJson !== 'string') throw new BridgeRefusal('valueJson must be a string');
    if (valueJson.length > STORE_VALUE_MAX_CHARS) {
      throw new BridgeRefusal(`value is longer than ${STORE_VALUE_MAX_CHARS} characters as JSON`, { length: valueJson.length });
    }
    return store.set(name('scope', args.scope), name('key', args.key), valueJson, ttlMs(args.expiresMs), notExists === true);
  });
  bridge.register('store.keys', (raw) => {
    const args = objectArgs(raw);
    if (typeof args.pattern !== 'string') throw new BridgeRefusal('pattern must be a string');
    return store.keys(name('scope', args.scope), args.pattern);
  });
  bridge.register('store.delete', (raw) => {
    const args = objectArgs(raw);
    return store.delete(name('scope', args.scope), name('key', args.key));
  });
}
