// Scripts reach the network through the server (CONTRACT section 10): socket, http.client,
// urllib.request and ssl against real servers on 127.0.0.1; egress rules, socket limits,
// timeouts, deadlines during recv, and sockets closed when their call ends.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { listenOnLoopback, portOf } from './helpers/loopback.js';
import { ADMIN_TOKEN } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { postReload } from './helpers/reload-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';
import { makeTestCa } from './helpers/test-ca.js';

const http = await listenOnLoopback(t, 
  createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/moved') {
        res.writeHead(302, { Location: '/moved-here' }).end();
      } else if (req.method === 'POST') {
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ got: JSON.parse(body) }));
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`hello from ${req.url}`);
      }
    });
  }),
);
http.keepAliveTimeout = 100;
const echo = await listenOnLoopback(t, createTcpServer((socket) => socket.pipe(socket)));

/** Accepts connections and never writes; remembers when each is closed by the other side. */
const silentSockets = new Set<Socket>();
let silentClosed = 0;
const silent = await listenOnLoopback(t, 
  createTcpServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => {
      silentClosed++;
      silentSockets.delete(socket);
    });
    socket.on('error', () => undefined); // a reset by gitfunc is what some tests wait for
  }),
);
t.teardown(() => {
  for (const socket of silentSockets) socket.destroy();
});

const trusted = makeTestCa('trusted');
const other = makeTestCa('other');
t.teardown(() => {
  trusted.remove();
  other.remove();
});
const httpsHandler = (_req: unknown, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end('secret hello');
};
const https = await listenOnLoopback(t, createHttpsServer({ cert: trusted.cert, key: trusted.key }, httpsHandler));
const httpsOtherCa = await listenOnLoopback(t, createHttpsServer({ cert: other.cert, key: other.key }, httpsHandler));

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(readTree(path.join(FIXTURES, 'network')));
await git.publish('network', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('network'), '--ref', 'main', '--poll-seconds', '0'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_CA_FILE: trusted.caFile,
  GITFUNC_NETWORK_DENY: '169.254.0.0/16,127.0.0.2',
  GITFUNC_SOCKETS_PER_CALL: '4',
});
t.teardown(() => gitfunc.close());

async function call(api: string, kwargs: Record<string, unknown>): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kwargs }),
  });
  return { status: res.status, body: await res.json(), ms: Date.now() - started };
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

t.test('urllib.request GETs and POSTs over HTTP', async (t) => {
  const get = await call('http-get', { url: `http://127.0.0.1:${portOf(http)}/path?q=1` });
  t.equal(get.status, 200, JSON.stringify(get.body));
  t.same(get.body, { status: 200, contentType: 'text/plain; charset=utf-8', body: 'hello from /path?q=1' });
  const byName = await call('http-get', { url: `http://localhost:${portOf(http)}/named` });
  t.equal(byName.body.body, 'hello from /named', 'a name is resolved by the server host');
  const redirected = await call('http-get', { url: `http://127.0.0.1:${portOf(http)}/moved` });
  t.equal(redirected.body.body, 'hello from /moved-here', 'a redirect is followed');
  const post = await call('http-post', { url: `http://127.0.0.1:${portOf(http)}/`, data: { a: [1, 2] } });
  t.same(post.body, { status: 201, body: '{"got":{"a":[1,2]}}' });
});

t.test('a raw socket sends and receives a megabyte intact', async (t) => {
  const res = await call('echo', { host: '127.0.0.1', port: portOf(echo), text: '0123456789abcdef', repeat: 65536 });
  t.same(res.body, { length: 1048576, same: true });
});

t.test('connection failures raise what CPython raises', async (t) => {
  // Nothing listens on port 1 of these machines.
  const refused = await call('connect-error', { host: '127.0.0.1', port: 1 });
  t.match(refused.body, { type: 'ConnectionRefusedError', message: /Connection refused/ });
  t.type(refused.body.errno, 'number');
  const unknownName = await call('resolve', { host: 'no-such-host.invalid' });
  t.match(unknownName.body, { type: 'gaierror' });
  const resolved = await call('resolve', { host: 'localhost' });
  t.equal(resolved.body.v4, '127.0.0.1');
});

t.test('egress rules: a denied address is refused with PermissionError naming the rule; 127.0.0.1 stays allowed', async (t) => {
  const denied = await call('connect-error', { host: '127.0.0.2', port: portOf(echo) });
  t.match(denied.body, { type: 'PermissionError', message: /127\.0\.0\.2.*denied by network rule '127\.0\.0\.2'/ });
  const metadata = await call('connect-error', { host: '169.254.169.254', port: 80, timeout: 1 });
  t.match(metadata.body, { type: 'PermissionError', message: /'169\.254\.0\.0\/16'/ }, 'the cloud metadata range is denied by default');
  const allowed = await call('echo', { host: '127.0.0.1', port: portOf(echo), text: 'ok' });
  t.same(allowed.body, { length: 2, same: true });
});

t.test('a socket timeout raises TimeoutError', async (t) => {
  const res = await call('recv-timeout', { host: '127.0.0.1', port: portOf(silent), seconds: 0.3 });
  t.match(res.body, { type: 'TimeoutError', message: 'timed out' });
});

t.test('a call stuck in recv is answered 599.2 at its deadline, and its socket is closed', async (t) => {
  const closedBefore = silentClosed;
  const res = await call('recv-forever', { host: '127.0.0.1', port: portOf(silent) });
  t.equal(res.status, 599);
  t.equal(res.body.error, 599.2);
  t.ok(res.ms < 4000, `answered in ${res.ms} ms (timeout 2 s)`);
  t.ok(await until(() => silentClosed > closedBefore, 5000), 'the stuck socket was closed');
  const after = await call('echo', { host: '127.0.0.1', port: portOf(echo), text: 'still fine' });
  t.same(after.body, { length: 10, same: true }, 'the worker serves the next call');
});

t.test("a call that swallows its interrupt has its worker terminated, and the worker's sockets are closed", async (t) => {
  const closedBefore = silentClosed;
  const res = await call('stubborn-recv', { host: '127.0.0.1', port: portOf(silent) });
  t.equal(res.body.error, 599.2);
  t.ok(await until(() => silentClosed > closedBefore, 10_000), 'closed when its worker went away');
  const after = await call('echo', { host: '127.0.0.1', port: portOf(echo), text: 'replaced' });
  t.same(after.body, { length: 8, same: true }, 'the replacement worker serves');
});

t.test('sockets a call leaves open are closed when it returns; a call holds at most socketsPerCall', async (t) => {
  const closedBefore = silentClosed;
  const res = await call('leave-open', { host: '127.0.0.1', port: portOf(silent), count: 2 });
  t.same(res.body, { opened: 2 });
  t.ok(await until(() => silentClosed >= closedBefore + 2, 5000), 'both closed after the call');
  const over = await call('leave-open', { host: '127.0.0.1', port: portOf(silent), count: 6 });
  t.match(over.body, { opened: 4, error: { type: 'OSError', message: /at most 4 \(limits.socketsPerCall\)/ } });
});

t.test('listening, UDP and Unix sockets are not offered', async (t) => {
  for (const kind of ['udp', 'listen', 'unix']) {
    const res = await call('not-offered', { kind });
    t.match(res.body, { type: 'OSError', message: /TCP client sockets only/ }, kind);
  }
});

t.test('HTTPS verified against GITFUNC_CA_FILE; another CA refused unless CERT_NONE', async (t) => {
  const ok = await call('https-get', { url: `https://localhost:${portOf(https)}/` });
  t.same(ok.body, { status: 200, body: 'secret hello' });
  const byIp = await call('https-get', { url: `https://127.0.0.1:${portOf(https)}/` });
  t.same(byIp.body, { status: 200, body: 'secret hello' }, 'an IP address is checked against the IP SAN');
  const refused = await call('https-get', { url: `https://localhost:${portOf(httpsOtherCa)}/` });
  t.match(refused.body, { type: 'SSLCertVerificationError', message: /CERTIFICATE_VERIFY_FAILED/ });
  const unverified = await call('https-get', { url: `https://localhost:${portOf(httpsOtherCa)}/`, verify: false });
  t.same(unverified.body, { status: 200, body: 'secret hello' }, 'CERT_NONE is honoured');
  const loaded = await call('https-get', { url: `https://localhost:${portOf(httpsOtherCa)}/`, cafile: '/etc/ssl/certs/ca-certificates.crt' });
  t.match(loaded.body, { type: 'SSLCertVerificationError' }, "the host's bundle, as a file, does not hold the other CA");
});

t.test('getpeercert and version report the server certificate as CPython does', async (t) => {
  const res = await call('peer-cert', { host: 'localhost', port: portOf(https) });
  t.match(res.body, {
    version: /^TLSv1\.[23]$/,
    subject: [[['commonName', 'localhost']]],
    san: [['DNS', 'localhost'], ['IP Address', '127.0.0.1']],
  });
  t.ok(res.body.der > 100, 'the DER form');
});

t.test("a reloaded commit's scripts reach the network while they are imported, as its calls do", async (t) => {
  const manifest = readTree(path.join(FIXTURES, 'network'))['gitfunc.yaml']!;
  await work.commit({
    'gitfunc.yaml': `${manifest}  - id: fetched-at-import\n    func: net__at_import.fetched\n`,
    'net/at_import.py': [
      'import urllib.request',
      '',
      `FETCHED = urllib.request.urlopen('http://127.0.0.1:${portOf(http)}/at-import', timeout=5).read().decode()`,
      '',
      "@DFF.API('What the import fetched')",
      'def fetched():',
      '    return FETCHED',
      '',
    ].join('\n'),
  });
  await git.publish('network', work.dir);
  const reload = await postReload(gitfunc.url, true);
  t.match(reload.data, { result: 'served' }, JSON.stringify(reload.data));
  const res = await fetch(`${gitfunc.url}/api/v1/al/fetched-at-import`);
  t.equal(await res.text(), 'hello from /at-import');
});
