import type { Clock } from '../model/clock.js';

interface Entry<V> {
  value: V;
  /** Epoch ms, or undefined: never expires. */
  expiresAt: number | undefined;
  size: number;
}

/** Bounds of a TtlMap: beyond either, the least recently written entries go first. */
export interface TtlMapLimits {
  maxEntries: number;
  /** Sum of the sizes given to `set`. */
  maxSize: number;
}

/**
 * An in-memory map whose entries may expire, bounded in count and total size. Expired
 * entries are dropped when read, or when the bounds evict them (oldest write first: a Map
 * keeps insertion order, and a write re-inserts its key).
 */
export class TtlMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private size = 0;

  constructor(
    private readonly limits: TtlMapLimits,
    private readonly clock: Clock,
  ) {}

  get(key: string): V | undefined {
    return this.entry(key)?.value;
  }

  /** Epoch ms when `key` expires; undefined if it never does or is absent. */
  expiresAt(key: string): number | undefined {
    return this.entry(key)?.expiresAt;
  }

  set(key: string, value: V, expiresAt: number | undefined, size: number): void {
    this.delete(key);
    this.entries.set(key, { value, expiresAt, size });
    this.size += size;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.size <= this.limits.maxSize) break;
      this.entries.delete(oldest);
      this.size -= entry.size;
    }
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.size -= entry.size;
    return true;
  }

  private entry(key: string): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.clock.now()) {
      this.delete(key);
      return undefined;
    }
    return entry;
  }
}
