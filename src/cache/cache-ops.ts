import { BridgeRefusal, type BridgeServer } from '../runtime/bridge/bridge-server.js';
import { type CacheStore, CacheValueError } from './cache-store.js';

/** Longest scope + key, in characters. */
export const CACHE_KEY_MAX_CHARS = 1024;
/** Longest value, in characters. */
export const CACHE_VALUE_MAX_CHARS = 1024 * 1024;

interface KeyArgs {
  scope: string;
  key: string;
}

function record(args: unknown): Record<string, unknown> {
  if (typeof args !== 'object' || args === null) throw new BridgeRefusal('arguments must be an object');
  return args as Record<string, unknown>;
}

/** The store key of a scoped key; the scope's length first, so no two pairs collide. */
function storeKey(args: unknown): string {
  const { scope, key } = record(args) as Partial<KeyArgs>;
  if (typeof scope !== 'string' || typeof key !== 'string' || key === '') throw new BridgeRefusal('key must be a non-empty string');
  if (scope.length + key.length > CACHE_KEY_MAX_CHARS) throw new BridgeRefusal(`scope and key are longer than ${CACHE_KEY_MAX_CHARS} characters`);
  return `${scope.length}:${scope}:${key}`;
}

function expiresMs(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new BridgeRefusal('expires must be a positive number of seconds');
  return value;
}

/** Store errors a script should see as its own (a non-integer value for incr). */
async function refusing<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof CacheValueError) throw new BridgeRefusal(error.message, { cause: error.code });
    throw error;
  }
}

/** Makes `DFF.CACHE` get / set / incr / delete (gitfunc_cache.py) answer from `store`. */
export function registerCacheOps(bridge: BridgeServer, store: CacheStore): void {
  bridge.register('cache.get', async (args) => (await store.get(storeKey(args))) ?? null);
  bridge.register('cache.set', (args) => {
    const { value, notExists } = record(args);
    if (typeof value !== 'string') throw new BridgeRefusal('value must be a string');
    if (value.length > CACHE_VALUE_MAX_CHARS) throw new BridgeRefusal(`value is longer than ${CACHE_VALUE_MAX_CHARS} characters`);
    return store.set(storeKey(args), value, expiresMs(record(args).expiresMs), notExists === true);
  });
  bridge.register('cache.incr', (args) => {
    const { step } = record(args);
    if (typeof step !== 'number' || !Number.isSafeInteger(step)) throw new BridgeRefusal('step must be an integer');
    return refusing(store.incr(storeKey(args), step, expiresMs(record(args).expiresMs)));
  });
  bridge.register('cache.delete', async (args) => ((await store.delete(storeKey(args))) ? 1 : 0));
}
