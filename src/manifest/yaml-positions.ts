/**
 * Finds where a value (or a key) of a parsed YAML document was written, so that every problem
 * can carry a line and column. Paths are those of the JS value (`['syncAPIs', 0, 'timeout']`).
 */
import { isMap, isNode, isPair, isScalar, type Document, type LineCounter } from 'yaml';
import type { Position } from './types.js';

export type PathSegment = string | number;

const START: Position = { line: 1, col: 1 };

/** Locates values and keys of one parsed document. */
export class YamlLocator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Position of a byte offset in the source. */
  offset(offset: number): Position {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, col };
  }

  /** Where the value at `path` starts; the nearest written ancestor when it is absent. */
  value(path: readonly PathSegment[]): Position {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return this.offset(node.range[0]);
    }
    return START;
  }

  /** Where the key `key` of the mapping at `path` was written; the mapping itself otherwise. */
  key(path: readonly PathSegment[], key: string): Position {
    const map = this.doc.getIn(path, true);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
          return this.offset(pair.key.range[0]);
        }
      }
    }
    return this.value(path);
  }
}

/**
 * Turns an ajv `instancePath` (JSON pointer) into path segments, using the data to tell array
 * indexes (numbers) from mapping keys that merely look numeric (strings).
 */
export function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current) && /^\d+$/.test(key)) {
      path.push(Number(key));
      current = current[Number(key)];
    } else {
      path.push(key);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}

/** `syncAPIs[0].timeout`, `env["odd.key"]`; the empty path is the manifest itself. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? 'the manifest' : text;
}
