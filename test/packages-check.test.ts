// `gitfunc check` resolves and installs the pinned packages as the server does: a package no
// source has is reported at its manifest line, and one found is imported by the scripts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';
import { buildWheel } from './helpers/wheels.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-packages-check-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const repo = path.join(scratch, 'repo');
buildWheel(path.join(repo, 'wheels'), 'tinyver', '1.0', { 'tinyver/__init__.py': 'VERSION = "1.0"\n' });
mkdirSync(path.join(repo, 'demo'), { recursive: true });
writeFileSync(path.join(repo, 'demo', 'v.py'), "import tinyver\n\n\n@DFF.API('Version')\ndef version():\n    return tinyver.VERSION\n");
const manifest = (pins: string[]): string =>
  ['version: 1', 'packages:', ...pins.map((p) => `  - ${p}`), 'syncAPIs:', '  - id: version', '    func: demo__v.version', ''].join('\n');

function check(): { code: number | null; out: string } {
  const run = spawnSync(executable, [...launcher, 'check', repo], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR, GITFUNC_DATA_DIR: path.join(scratch, 'data') },
    timeout: 120_000,
  });
  return { code: run.status, out: run.stdout + run.stderr };
}

t.test('a pinned package no source has is reported at its line', async (t) => {
  writeFileSync(path.join(repo, 'gitfunc.yaml'), manifest(['tinyver==1.0', 'nosuchpkg==0.1']));
  const { code, out } = check();
  t.equal(code, 1, out);
  t.equal(
    out.trim(),
    [
      `${repo}/gitfunc.yaml:4:5 nosuchpkg==0.1: no wheel in any package source (looked in wheels/ in the repository)`,
      '1 error(s), 0 warning(s)',
    ].join('\n'),
  );
});

t.test('a package found is installed and imported by the check', async (t) => {
  writeFileSync(path.join(repo, 'gitfunc.yaml'), manifest(['tinyver==1.0']));
  const { code, out } = check();
  t.equal(code, 0, out);
  t.match(out, /^ok: .* is valid \(0 warning\(s\)\)$/m);
});
