/**
 * The store behind `DFF.STORE` (CONTRACT section 12): scripts' persistent key-value entries.
 * The embedded SQLite store implements it today; a Redis implementation can slot in for
 * several servers. Async so that one fits.
 */

/**
 * Entries are addressed by (scope, key), scope being a script's id unless the script names
 * another. Values are JSON texts, kept as written. An entry past its expiry is absent to every
 * operation, whenever the implementation gets round to deleting it.
 */
export interface ScriptStore {
  /** The entry's JSON text, or undefined when it is absent or expired. */
  get(scope: string, key: string): Promise<string | undefined>;
  /** The JSON texts of `keys`, in their order; undefined for each absent or expired one. */
  mget(scope: string, keys: readonly string[]): Promise<(string | undefined)[]>;
  /**
   * Writes the entry, expiring `ttlMs` from now (undefined: never), replacing any value and
   * expiry it had; with `notExists`, only when it is absent or expired. Resolves whether it wrote.
   */
  set(scope: string, key: string, valueJson: string, ttlMs: number | undefined, notExists: boolean): Promise<boolean>;
  /**
   * The scope's live keys matching `pattern`, sorted: `*` stands for any run of characters,
   * `?` for one, every other character for itself (DFF's wildcards; case-sensitive).
   */
  keys(scope: string, pattern: string): Promise<string[]>;
  /** Deletes the entry; resolves whether a live one existed. */
  delete(scope: string, key: string): Promise<boolean>;
}
