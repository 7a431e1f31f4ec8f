// Escape probes: Python functions that try to reach the host from inside Pyodide (the server's
// environment, a shell, its files, the network, JavaScript). Each must fail or return a
// harmless value, no host secret may appear in any answer, and the server keeps serving.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const HOST_SECRET = `host-secret-${process.pid}-${Date.now()}`;
const ADMIN_TOKEN = `admin-token-${process.pid}-${Date.now()}`;
// In the server's own process environment, as a deployment would have it.
process.env.HOST_SECRET = HOST_SECRET;
t.teardown(() => delete process.env.HOST_SECRET);

const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-sandbox-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const marker = path.join(scratch, 'escaped');

// A TCP port on the host a socket probe aims at: scripts have sockets (CONTRACT section 10),
// but this server's egress rules deny loopback, so it must see no connection at all.
let connections = 0;
const listener = net.createServer((socket) => {
  connections++;
  socket.end('pong');
});
await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
t.teardown(() => listener.close());
const port = (listener.address() as net.AddressInfo).port;

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'sandbox')));
await git.publish('sandbox', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('sandbox'), '--ref', 'main'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_NETWORK_DENY: '127.0.0.0/8',
  HOST_SECRET,
});
t.teardown(() => gitfunc.close());

async function call(api: string, kwargs: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}/s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(kwargs),
  });
  return { status: res.status, text: await res.text() };
}

/**
 * How a probe may end: refused inside Python (200 with `refused`), or the call failed as a
 * whole (the interpreter gave up and its worker was replaced): never `reached`.
 */
const PROBES: { api: string; kwargs?: Record<string, string>; refusal: RegExp }[] = [
  { api: 'js-process-env', refusal: /ModuleNotFoundError: module 'js' is not available/ },
  { api: 'js-child-process', refusal: /ModuleNotFoundError: module 'js' is not available/ },
  { api: 'js-eval', refusal: /ModuleNotFoundError: module 'js' is not available/ },
  { api: 'importlib-js', refusal: /ModuleNotFoundError: module 'js' is not available/ },
  { api: 'run-js', refusal: /PermissionError: pyodide.code.run_js is not available/ },
  { api: 'mount-node-fs', refusal: /ModuleNotFoundError: module 'pyodide_js' is not available/ },
  { api: 'to-js-function', refusal: /EvalError: Code generation from strings disallowed/ },
  { api: 'bridge-function', refusal: /EvalError: Code generation from strings disallowed/ },
  { api: 'process-kill', refusal: /EvalError: Code generation from strings disallowed/ },
  { api: 'ctypes-run-script', refusal: /Code generation from strings disallowed/ },
  { api: 'os-system', kwargs: { marker }, refusal: /PermissionError: os.system is not available/ },
  { api: 'ctypes-system', kwargs: { marker }, refusal: /child_process is not available/ },
  { api: 'socket-connect', kwargs: { port: String(port) }, refusal: /PermissionError: .*denied by network rule '127\.0\.0\.0\/8'/ },
  { api: 'proc-environ', refusal: /FileNotFoundError/ },
];

for (const probe of PROBES) {
  t.test(`probe ${probe.api}: the host stays out of reach`, async (t) => {
    const res = await call(probe.api, probe.kwargs);
    t.notMatch(res.text, HOST_SECRET, 'no host secret in the answer');
    t.notMatch(res.text, ADMIN_TOKEN, 'no admin token in the answer');
    if (res.status === 200) {
      const body = JSON.parse(res.text) as { refused?: string; reached?: string };
      t.equal(body.reached, undefined, `not reached: ${body.reached}`);
      t.match(body.refused, probe.refusal);
    } else {
      // The interpreter failed as a whole: its worker is replaced and the call answers as a
      // dead worker (CONTRACT 599.99), never with the probe's value.
      t.equal(res.status, 599, res.text);
      t.match(JSON.parse(res.text), { error: 599.99, reason: 'EWorkerFailed' });
      t.notMatch(res.text, /reached/);
    }
    const alive = await call('alive');
    t.same([alive.status, JSON.parse(alive.text)], [200, { alive: true }], 'the server still serves');
  });
}

t.test('no shell command ran and no socket reached the host', async (t) => {
  t.notOk(existsSync(marker), 'os.system and libc system wrote nothing');
  t.equal(connections, 0, 'the socket probe opened no connection (egress denied)');
});

t.test('os.environ holds no host variable; the manifest env is granted through DFF.ENV', async (t) => {
  const res = await call('os-environ');
  t.equal(res.status, 200);
  t.notMatch(res.text, HOST_SECRET);
  t.notMatch(res.text, ADMIN_TOKEN);
  const body = JSON.parse(res.text) as { environ: Record<string, string>; granted: string };
  t.equal(body.granted, 'granted-by-manifest');
  t.notOk('HOST_SECRET' in body.environ);
  t.notOk('GITFUNC_ADMIN_TOKEN' in body.environ);
  t.equal(body.environ.HOME, '/home/pyodide', "Pyodide's own defaults only");
  t.notSame(body.environ.PATH, process.env.PATH);
});

t.test('no Python object leads to the Pyodide API or to process', async (t) => {
  const res = await call('heap-walk');
  t.same([res.status, JSON.parse(res.text)], [200, { found: [] }]);
});
