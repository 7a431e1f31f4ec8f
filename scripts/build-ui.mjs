// Builds the /ui/ dashboard (ui/) into dist/ui/: one bundled, minified script and one style
// sheet, each named by a hash of its content (served as immutable), and index.html naming them
// (served as no-cache). Everything the page loads is in this folder: no CDN, no web font.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const outDir = 'dist/ui';
rmSync(outDir, { recursive: true, force: true });
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
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

/** The hashed file name esbuild gave an entry point. */
function outputOf(entryPoint) {
  const [file] = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === entryPoint) ?? [];
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entryPoint}`);
  return path.basename(file);
}

const html = readFileSync('ui/index.html', 'utf8')
  .replace('%APP_JS%', outputOf('ui/src/main.tsx'))
  .replace('%APP_CSS%', outputOf('ui/style.css'));
writeFileSync(path.join(outDir, 'index.html'), html);
copyFileSync('ui/favicon.svg', path.join(outDir, 'favicon.svg'));
