// urllib3 2.x over gitfunc's sockets (CONTRACT section 10): on Emscripten it would swap its
// socket transport for the browser's fetch (through the `js` module scripts do not have); gitfunc
// keeps its socket transport. Debian 12 ships only urllib3 1.26: the 2.x wheel comes from this
// machine's local PyPI mirror when there is one, and the test says it is skipped otherwise.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { listenOnLoopback, portOf } from './helpers/loopback.js';
import { ADMIN_TOKEN } from './helpers/admin-client.js';
import { postReload } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';
import { makeTestCa } from './helpers/test-ca.js';
import { buildWheel } from './helpers/wheels.js';

const MIRROR = '/opt/pypi/files';
const wheel = existsSync(MIRROR) ? readdirSync(MIRROR).find((name) => /^urllib3-2\.\d+\.\d+-py3-none-any\.whl$/.test(name)) : undefined;
if (wheel === undefined) {
  t.comment(`no urllib3 2.x wheel in ${MIRROR}: skipped`);
  t.pass('skipped: no urllib3 2.x wheel on this machine');
} else {
  const version = /^urllib3-([^-]+)-/.exec(wheel)![1]!;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-urllib3-v2-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const repo = path.join(scratch, 'repo');
  mkdirSync(path.join(repo, 'wheels'), { recursive: true });
  mkdirSync(path.join(repo, 'v2'));
  copyFileSync(path.join(MIRROR, wheel), path.join(repo, 'wheels', wheel));
  const manifest = (pins: string[]): string =>
    ['version: 1', 'packages:', ...pins.map((pin) => `  - ${pin}`), 'syncAPIs:', '  - id: get', '    func: v2__pool.get', ''].join('\n');
  writeFileSync(path.join(repo, 'gitfunc.yaml'), manifest([`urllib3==${version}`]));
  writeFileSync(
    path.join(repo, 'v2', 'pool.py'),
    [
      'import urllib3',
      '',
      "@DFF.API('GET with urllib3 2.x')",
      'def get(url):',
      '    response = urllib3.request("GET", url, timeout=5, retries=False)',
      '    return {"version": urllib3.__version__, "status": response.status, "body": response.data.decode()}',
      '',
    ].join('\n'),
  );

  const ca = makeTestCa('urllib3 v2');
  t.teardown(() => ca.remove());
  const answer = (_req: unknown, res: import('node:http').ServerResponse): void => void res.end('v2 says hi');
  const httpPort = portOf(await listenOnLoopback(t, createHttpServer(answer)));
  const httpsPort = portOf(await listenOnLoopback(t, createHttpsServer({ cert: ca.cert, key: ca.key }, answer)));
  const gitfunc = await startGitfunc(['--repo', repo, '--poll-seconds', '0'], { GITFUNC_CA_FILE: ca.caFile, GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
  t.teardown(() => gitfunc.close());
  const get = async (url: string): Promise<unknown> => (await fetch(`${gitfunc.url}/api/v1/al/get/s?url=${encodeURIComponent(url)}`)).json();

  t.test(`urllib3 ${version} GETs over HTTP and HTTPS through gitfunc's sockets`, async (t) => {
    t.same(await get(`http://127.0.0.1:${httpPort}/`), { version, status: 200, body: 'v2 says hi' });
    t.same(await get(`https://localhost:${httpsPort}/`), { version, status: 200, body: 'v2 says hi' }, 'verified against GITFUNC_CA_FILE, host name checked');
  });

  t.test("a reloaded revision's own urllib3 2.x (another installed folder) keeps the socket transport too", async (t) => {
    // One more pin: the revision gets another installed folder, and the worker switches to it.
    const extra = buildWheel(path.join(repo, 'wheels'), 'gitfunc-extra', '1.0', { 'gitfunc_extra.py': 'X = 1\n' });
    writeFileSync(path.join(repo, 'gitfunc.yaml'), manifest([`urllib3==${version}`, `gitfunc-extra==${extra.version}`]));
    t.match((await postReload(gitfunc.url, true)).data, { result: 'served' });
    t.same(await get(`http://127.0.0.1:${httpPort}/`), { version, status: 200, body: 'v2 says hi' });
  });
}
