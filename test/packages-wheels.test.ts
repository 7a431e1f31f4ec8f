// Wheels, read as the installer reads them: tags that run in Pyodide, index pages, zip entries
// that would escape the installed folder, and installs that leave nothing half done.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { installPackages } from '../src/packages/index.js';
import { canonicalVersion } from '../src/packages/resolve-wheel.js';
import { parseIndexPage } from '../src/packages/simple-index.js';
import { bundledPyodidePlatform, parseWheelName, wheelFit } from '../src/packages/wheel-tags.js';
import { buildWheel } from './helpers/wheels.js';
import { zipFile } from './helpers/zip-file.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-packages-wheels-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

t.test("which wheels run in the bundled Pyodide", async (t) => {
  const platform = bundledPyodidePlatform();
  t.equal(platform.python, 'cp314', "the bundled Pyodide's Python");
  t.ok(platform.platforms.includes('pyemscripten_2026_0_wasm32'), JSON.stringify(platform));
  const fit = (name: string): number => wheelFit(parseWheelName(name)!, platform);
  t.equal(fit('six-1.16.0-py2.py3-none-any.whl'), 1);
  t.equal(fit('attrs-25.1.0-py3-none-any.whl'), 1);
  t.equal(fit('foo-1.0-py311-none-any.whl'), 1);
  t.equal(fit('aiohttp-3.13.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl'), 2);
  t.equal(fit('foo-1.0-cp314-abi3-pyemscripten_2026_0_wasm32.whl'), 2);
  t.equal(fit('foo-1.0-cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'), 0);
  t.equal(fit('foo-1.0-cp313-cp313-pyemscripten_2026_0_wasm32.whl'), 0);
  t.equal(fit('foo-1.0-py2-none-any.whl'), 0);
  t.equal(fit('foo-1.0-cp314-cp314-win_amd64.whl'), 0);
  t.equal(parseWheelName('foo-1.0.tar.gz'), undefined);
  t.same(parseWheelName('Charset_Normalizer-3.0.1-1-py3-none-any.whl'), { name: 'charset-normalizer', version: '3.0.1', tags: ['py3-none-any'] });
});

t.test('versions compare as PEP 440 says for pins', async (t) => {
  t.equal(canonicalVersion('1.0'), canonicalVersion('1'));
  t.equal(canonicalVersion('2.0.0'), canonicalVersion('2'));
  t.equal(canonicalVersion('V1.01'), canonicalVersion('1.1'));
  t.not(canonicalVersion('1.0.1'), canonicalVersion('1.1'));
  t.not(canonicalVersion('2.10'), canonicalVersion('2.1'));
});

t.test('a simple index page: relative links, entities, sha256 fragments', async (t) => {
  const html = `<html><body>
    <a href="../../files/a-1.0-py3-none-any.whl#sha256=${'A'.repeat(64)}" data-requires-python="&gt;=3.8">a-1.0-py3-none-any.whl</a><br/>
    <a href='https://files.example/x/a-1.0.tar.gz?x=1&amp;y=2#md5=00'>a-1.0.tar.gz</a>
    <a href="/b/a-0.9-py3-none-any.whl"></a>
  </body></html>`;
  t.same(parseIndexPage(html, 'http://127.0.0.1:1/simple/a/'), [
    { fileName: 'a-1.0-py3-none-any.whl', url: 'http://127.0.0.1:1/files/a-1.0-py3-none-any.whl', sha256: 'a'.repeat(64) },
    { fileName: 'a-1.0.tar.gz', url: 'https://files.example/x/a-1.0.tar.gz?x=1&y=2' },
    { fileName: 'a-0.9-py3-none-any.whl', url: 'http://127.0.0.1:1/b/a-0.9-py3-none-any.whl' },
  ]);
});

const pin = (name: string, version = '1.0') => ({ name, version, hashes: [], file: 'gitfunc.yaml', line: 4, col: 5 });

t.test('zip entries that would leave the installed folder are refused (zip-slip)', async (t) => {
  const repo = path.join(scratch, 'slip');
  const wheels = path.join(repo, 'wheels');
  buildWheel(wheels, 'fine', '1.0', { 'fine.py': '' });
  for (const [name, entry] of [['dots', '../escaped.py'], ['absolute', '/tmp/gitfunc-escaped.py'], ['nested', 'pkg/../../escaped.py']]) {
    writeFileSync(path.join(wheels, `${name}-1.0-py3-none-any.whl`), zipFile([[`${name}/__init__.py`, ''], [entry!, 'print("escaped")']]));
  }
  const packagesDir = path.join(scratch, 'slip-packages');
  for (const name of ['dots', 'absolute', 'nested']) {
    const result = await installPackages([pin('fine'), pin(name)], repo, { packagesDir, wheelhouse: [] });
    t.equal(result.siteDir, undefined, `${name}: nothing installed`);
    t.match(result.problems, [{ file: 'gitfunc.yaml', line: 4, severity: 'error', message: new RegExp(`^${name}-1\\.0-py3-none-any\\.whl \\(${name}==1\\.0\\) cannot be installed: `) }]);
  }
  t.notOk(existsSync(path.join(packagesDir, 'sites', 'escaped.py')) || existsSync(path.join(packagesDir, 'escaped.py')) || existsSync('/tmp/gitfunc-escaped.py'), 'nothing written outside');
  t.same(readdirSync(path.join(packagesDir, 'sites')), [], 'no half-installed folder is left');
});

t.test("a wheel's .data/purelib goes to the top, scripts and headers are left out", async (t) => {
  const repo = path.join(scratch, 'data');
  buildWheel(path.join(repo, 'wheels'), 'layered', '1.0', {
    'layered/__init__.py': 'A = 1\n',
    'layered-1.0.data/purelib/layered_extra.py': 'B = 2\n',
    'layered-1.0.data/scripts/layered-cli': '#!/bin/sh\n',
  });
  const result = await installPackages([pin('layered')], repo, { packagesDir: path.join(scratch, 'data-packages'), wheelhouse: [] });
  t.same(result.problems, []);
  const site = result.siteDir!;
  t.equal(readFileSync(path.join(site, 'layered_extra.py'), 'utf8'), 'B = 2\n');
  t.ok(existsSync(path.join(site, 'layered', '__init__.py')));
  t.ok(existsSync(path.join(site, 'layered-1.0.dist-info', 'METADATA')), 'the dist-info is installed (importlib.metadata reads it)');
  t.notOk(existsSync(path.join(site, 'layered-1.0.data')), 'no .data folder');
  t.notOk(readdirSync(site, { recursive: true }).some((f) => String(f).includes('layered-cli')), 'no script');
});

t.test('a wheel that is not a zip fails its pin', async (t) => {
  const repo = path.join(scratch, 'notzip');
  buildWheel(path.join(repo, 'wheels'), 'ok', '1.0', { 'ok.py': '' });
  writeFileSync(path.join(repo, 'wheels', 'broken-1.0-py3-none-any.whl'), 'not a zip at all');
  const result = await installPackages([pin('broken')], repo, { packagesDir: path.join(scratch, 'notzip-packages'), wheelhouse: [] });
  t.match(result.problems, [{ line: 4, message: /^broken-1\.0-py3-none-any\.whl \(broken==1\.0\) cannot be installed: not a readable zip/ }]);
});
