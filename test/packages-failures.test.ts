// A revision whose packages cannot be installed is never served: a pin no source has, a
// wheel whose sha256 differs from the index's or the pin's --hash, a wheel built for another
// platform, a pin that is not exact. Each is an error at the pin's line (in gitfunc.yaml or
// the requirements file) and the last good revision keeps serving; a good reload switches
// package versions.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { postReload } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';
import { buildWheel, startPackageIndex } from './helpers/wheels.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-packages-failures-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const repo = path.join(scratch, 'repo');
const tinyver = ['1.0', '2.0'].map((version) =>
  buildWheel(path.join(repo, 'wheels'), 'tinyver', version, { 'tinyver/__init__.py': `VERSION = ${JSON.stringify(version)}\n` }),
);
const wheelhouse = path.join(scratch, 'wheelhouse');
buildWheel(wheelhouse, 'fastlib', '1.0', { 'fastlib/__init__.py': '' }, 'cp314-cp314-manylinux_2_17_x86_64');
const badhash = buildWheel(path.join(scratch, 'index'), 'badhash', '1.0', { 'badhash.py': '' });
const index = await startPackageIndex([badhash], { listedSha256: { [badhash.fileName]: 'ab'.repeat(32) } });
t.teardown(() => index.close());

mkdirSync(path.join(repo, 'demo'), { recursive: true });
writeFileSync(
  path.join(repo, 'demo', 'v.py'),
  "import tinyver\n\n\n@DFF.API('Version')\ndef version():\n    return tinyver.VERSION\n",
);
/** Writes the manifest with `packages` as given (YAML text after `packages:`). */
function writeManifest(packages: string): void {
  writeFileSync(path.join(repo, 'gitfunc.yaml'), `version: 1\nsyncAPIs:\n  - id: version\n    func: demo__v.version\npackages:${packages}\n`);
}
writeManifest('\n  - tinyver==1.0');

const gitfunc = await startGitfunc(['--repo', repo, '--poll-seconds', '0'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_PACKAGE_INDEX: index.url,
  GITFUNC_WHEELHOUSE: wheelhouse,
});
t.teardown(() => gitfunc.close());

async function served(): Promise<string> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/version`);
  return `${res.status} ${await res.text()}`;
}

/** Reloads and expects the revision to fail with `errors`, the served version unchanged. */
async function expectFailed(t: Test, errors: object[], stillServed: string): Promise<void> {
  const { data } = await postReload(gitfunc.url, true);
  t.match(data, { result: 'failed', errors }, JSON.stringify(data));
  t.equal(data.errors.length, errors.length, 'no other error');
  t.match((await adminGet(gitfunc.url, '/api/v1/status')).reload.lastFailed, { errors });
  t.equal(await served(), stillServed, 'the last good revision keeps serving');
}

t.test('a reload switches the package version', async (t) => {
  t.equal(await served(), '200 1.0');
  writeManifest('\n  - tinyver==2.0');
  t.match((await postReload(gitfunc.url, true)).data, { result: 'served' });
  t.equal(await served(), '200 2.0', 'the worker that served 1.0 serves 2.0');
});

t.test('a pinned package no source has fails its revision at its line', async (t) => {
  writeManifest('\n  - tinyver==2.0\n  - nosuchpkg==1.0');
  await expectFailed(
    t,
    [{ file: 'gitfunc.yaml', line: 7, col: 5, message: /^nosuchpkg==1\.0: no wheel in any package source \(looked in wheels\/ in the repository, the wheelhouse .*, the package index http:\/\/127\.0\.0\.1:\d+\/simple\/\)$/ }],
    '200 2.0',
  );
});

t.test('another version of a pinned package is named in the error', async (t) => {
  writeManifest('\n  - tinyver==3.0');
  await expectFailed(t, [{ file: 'gitfunc.yaml', line: 6, message: /^tinyver==3\.0: no wheel .*; versions found: 1\.0, 2\.0$/ }], '200 2.0');
});

t.test('a wheel whose sha256 differs from the index is refused', async (t) => {
  writeManifest('\n  - tinyver==2.0\n  - badhash==1.0');
  await expectFailed(
    t,
    [{ file: 'gitfunc.yaml', line: 7, message: new RegExp(`^badhash==1\\.0: badhash-1\\.0-py3-none-any\\.whl from the package index .* has sha256 ${badhash.sha256}, but the source lists ${'ab'.repeat(32)}: refused$`) }],
    '200 2.0',
  );
});

t.test("a wheel for another platform is refused by name, saying what would work", async (t) => {
  writeManifest('\n  - tinyver==2.0\n  - fastlib==1.0');
  await expectFailed(
    t,
    [
      {
        file: 'gitfunc.yaml',
        line: 7,
        message:
          /^fastlib==1\.0: found only fastlib-1\.0-cp314-cp314-manylinux_2_17_x86_64\.whl \(the wheelhouse .*\), which cannot run in Pyodide; gitfunc needs a pure-Python wheel \(py3-none-any\) or one built for the bundled Pyodide \(cp314-cp314-pyemscripten_\w+_wasm32\)$/,
      },
    ],
    '200 2.0',
  );
});

t.test('a pin that is not exact is an error at its line', async (t) => {
  writeManifest('\n  - tinyver==2.0\n  - requests>=2');
  await expectFailed(t, [{ file: 'gitfunc.yaml', line: 7, col: 5, message: /^packages\[1\]: 'requests>=2' is not an exact pin: write name==version/ }], '200 2.0');
});

const pipCompiled = (hashes: string[]): string =>
  [
    '#',
    '# This file is autogenerated by pip-compile with Python 3.14',
    '#    pip-compile --generate-hashes requirements.in',
    '#',
    '--index-url https://pypi.org/simple',
    '',
    'tinyver==1.0 \\',
    ...hashes.map((h, i) => `    --hash=sha256:${h}${i < hashes.length - 1 ? ' \\' : ''}`),
    '    # via -r requirements.in',
    '',
  ].join('\n');

t.test('a requirements file whose --hash matches no wheel fails at its line', async (t) => {
  writeFileSync(path.join(repo, 'requirements.txt'), pipCompiled(['cd'.repeat(32), 'ef'.repeat(32)]));
  writeManifest(' requirements.txt');
  await expectFailed(
    t,
    [{ file: 'requirements.txt', line: 7, col: 1, message: /^tinyver==1\.0: tinyver-1\.0-py3-none-any\.whl from wheels\/ in the repository has sha256 \w+, which matches no --hash of the pin: refused$/ }],
    '200 2.0',
  );
});

t.test('a requirements file as pip-compile writes it, --hash honoured', async (t) => {
  writeFileSync(path.join(repo, 'requirements.txt'), pipCompiled(['cd'.repeat(32), tinyver[0]!.sha256]));
  const { data } = await postReload(gitfunc.url, true);
  t.match(data, { result: 'served' }, JSON.stringify(data));
  t.equal(await served(), '200 1.0');
  const status = await adminGet(gitfunc.url, '/api/v1/status');
  t.match(JSON.stringify(status), /--index-url https:\/\/pypi\.org\/simple' is ignored/, 'the index option is a warning');
});
