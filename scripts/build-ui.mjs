// Builds the /ui/ dashboard (ui/) into dist/ui/: one bundled, minified script and one style
// sheet, each named by a hash of its content (served as immutable), and index.html naming them
// (served as no-cache). Everything the page loads is in this folder: no CDN, no web font.
//
// Each file is written beside its place and renamed into it, and only files this build did not
// write are removed afterwards: a server reading dist/ui/ while a build runs (test files run
// `npm run build` beside running servers) sees the old file or the new one, never half of one.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const outDir = 'dist/ui';
mkdirSync(outDir, { recursive: true });

const result = await build({
  entryPoints: { app: 'ui/src/main.tsx', style: 'ui/style.css' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: outDir,
  write: false,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

/** The hashed file name esbuild gave an entry point. */
function outputOf(entryPoint) {
  const [file] = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === entryPoint) ?? [];
  if (file === undefined) throw new Error(`esbuild built nothing for ${entryPoint}`);
  return path.basename(file);
}

const files = new Map(result.outputFiles.map((file) => [path.basename(file.path), file.contents]));
const html = readFileSync('ui/index.html', 'utf8')
  .replace('%APP_JS%', outputOf('ui/src/main.tsx'))
  .replace('%APP_CSS%', outputOf('ui/style.css'));
files.set('index.html', html);
files.set('favicon.svg', readFileSync('ui/favicon.svg'));

for (const [name, contents] of files) {
  const temporary = path.join(outDir, `.${name}.${process.pid}.tmp`);
  writeFileSync(temporary, contents);
  renameSync(temporary, path.join(outDir, name));
}
for (const name of readdirSync(outDir)) {
  if (!files.has(name) && !name.endsWith('.tmp')) rmSync(path.join(outDir, name), { force: true });
}
