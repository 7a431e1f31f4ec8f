/**
 * Writes the error tables of docs/errors.md from the error catalog (src/errors/catalog.ts), between the
 * marker comments `<!-- error-table:NAME:start -->` and `<!-- error-table:NAME:end -->`:
 * `api` (what API clients receive) and `server` (codes logged, shown by `gitfunc check` and
 * the status page).
 *
 *   npx tsx scripts/error-table.ts           rewrite the tables in docs/errors.md
 *   npx tsx scripts/error-table.ts --check   exit 1 if docs/errors.md differs from the catalog (CI)
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOG, type ErrorSpec } from '../src/errors/catalog.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ERRORS_DOC = path.join(root, 'docs', 'errors.md');

const entries = Object.entries(ERROR_CATALOG) as [string, ErrorSpec][];

const TABLES: Record<string, () => string[]> = {
  api: () => [
    '| case | error | reason | code |',
    '|---|---|---|---|',
    ...entries.filter(([, spec]) => spec.error !== undefined).map(([code, spec]) => `| ${spec.description} | ${spec.error} | ${spec.reason} | \`${code}\` |`),
  ],
  server: () => [
    '| code | when |',
    '|---|---|',
    ...entries.filter(([, spec]) => spec.error === undefined).map(([code, spec]) => `| \`${code}\` | ${spec.description} |`),
  ],
};

/** `doc` with every marked table replaced by the catalog's; throws on a missing marker. */
export function withErrorTables(doc: string): string {
  let text = doc;
  for (const [name, render] of Object.entries(TABLES)) {
    const start = `<!-- error-table:${name}:start -->`;
    const end = `<!-- error-table:${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/errors.md has no ${start} ... ${end} markers`);
    text = `${text.slice(0, from + start.length)}\n${render().join('\n')}\n${text.slice(to)}`;
  }
  return text;
}

async function main(): Promise<number> {
  const current = await readFile(ERRORS_DOC, 'utf8');
  const wanted = withErrorTables(current);
  if (current === wanted) return 0;
  if (process.argv.includes('--check')) {
    console.error('docs/errors.md error tables are out of date with src/errors/catalog.ts: run npm run errors:table');
    return 1;
  }
  await writeFile(ERRORS_DOC, wanted);
  console.log('wrote the error tables of docs/errors.md');
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
