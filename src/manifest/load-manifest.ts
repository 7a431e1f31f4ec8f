/**
 * Reads `gitfunc.yaml` from a revision directory: YAML syntax, then the JSON Schema, every problem
 * with its line and column. Semantic checks (ids, cron, auth references) are `checkManifest`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { Problem } from '../errors.js';
import { normalizeManifest } from './normalize.js';
import { schemaProblems } from './schema-problems.js';
import { MANIFEST_FILE, type Manifest } from './types.js';
import { manifestSchema, validateManifestSchema } from './validate-manifest.js';
import { YamlLocator } from './yaml-positions.js';

/** The outcome of reading a manifest. */
export interface LoadedManifest {
  /**
   * Present when the file is structurally valid (YAML and schema); then run `checkManifest`
   * on it. `problems` may still hold errors: a revision with any error must not be served.
   */
  manifest?: Manifest;
  problems: Problem[];
}

/** Reads and validates `<revisionDir>/gitfunc.yaml` (YAML syntax and JSON Schema). */
export async function loadManifest(revisionDir: string): Promise<LoadedManifest> {
  let source: string;
  try {
    source = await readFile(path.join(revisionDir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `${MANIFEST_FILE} not found: every functions repository needs one (starting with 'version: 1')`
        : `${MANIFEST_FILE} cannot be read (${code ?? String(err)})`;
    return { problems: [{ file: MANIFEST_FILE, line: 1, col: 1, severity: 'error', message }] };
  }
  return parseManifest(source);
}

/** Validates manifest text (what loadManifest does after reading the file). */
export function parseManifest(source: string): LoadedManifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const locator = new YamlLocator(doc, lineCounter);
  const yamlProblem = (e: YAMLError, severity: Problem['severity']): Problem => ({
    file: MANIFEST_FILE,
    ...locator.offset(e.pos[0]),
    severity,
    message: yamlMessage(e, source),
  });
  const problems = [...doc.errors.map((e) => yamlProblem(e, 'error')), ...doc.warnings.map((w) => yamlProblem(w, 'warning'))];
  if (doc.errors.length > 0) return { problems };

  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    problems.push({ file: MANIFEST_FILE, line: 1, col: 1, severity: 'error', message: `${MANIFEST_FILE} is empty: it needs at least 'version: 1'` });
    return { problems };
  }
  if (!validateManifestSchema(data)) {
    problems.push(...schemaProblems(validateManifestSchema.errors ?? [], data, locator, manifestSchema));
    return { problems };
  }
  const normalized = normalizeManifest(data, locator);
  problems.push(...normalized.problems);
  return { manifest: normalized.manifest, problems: problems.sort((a, b) => a.line - b.line || a.col - b.col) };
}

/** yaml's messages, minus its jargon where a plainer phrase exists. */
function yamlMessage(error: YAMLError, source: string): string {
  if (error.code === 'DUPLICATE_KEY') {
    const match = /^(?:"([^"]*)"|'([^']*)'|([^\s:,{}[\]]+))/.exec(source.slice(error.pos[0]));
    const key = match?.[1] ?? match?.[2] ?? match?.[3];
    return key === undefined ? 'duplicate key' : `duplicate key '${key}'`;
  }
  return `YAML syntax error: ${error.message}`;
}
