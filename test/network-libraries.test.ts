// The real libraries scripts use reach real servers on 127.0.0.1 through gitfunc's sockets
// (CONTRACT section 10), installed unchanged from Debian's wheels on a package index (section
// 11): requests and urllib3 1.26 over HTTP and HTTPS, pymysql against MariaDB, redis against
// Redis, pg8000 against PostgreSQL and smtplib against a small SMTP server written here.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { listenOnLoopback, portOf } from './helpers/loopback.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';
import { makeTestCa } from './helpers/test-ca.js';
import { buildDebianWheels, buildWheel, pinsOf, startPackageIndex } from './helpers/wheels.js';

// --- HTTP and HTTPS: what the request looked like, as JSON; redirects --------------------------
/** Client ports of the connections the HTTP servers saw closed. */
const closedClientPorts = new Set<number>();
const openSockets = new Set<Socket>();
function trackConnections(server: Server): void {
  server.on('connection', (socket: Socket) => {
    const port = socket.remotePort!;
    openSockets.add(socket);
    socket.on('close', () => {
      closedClientPorts.add(port);
      openSockets.delete(socket);
    });
  });
}
t.teardown(() => {
  for (const socket of openSockets) socket.destroy();
});

/** A 2 MB body, gzip-compressed and sent in chunks. */
const LARGE = Buffer.from('0123456789abcdef'.repeat(128 * 1024));
const LARGE_GZIP = gzipSync(LARGE);

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/large') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' });
    for (let at = 0; at < LARGE_GZIP.length; at += 1000) res.write(LARGE_GZIP.subarray(at, at + 1000));
    res.end();
    return;
  }
  if (req.url === '/slow') {
    setTimeout(() => res.writeHead(200).end('{}'), 2000);
    return;
  }
  const hop = /^\/hop\/(\d+)$/.exec(req.url ?? '');
  if (hop !== null) {
    const left = Number(hop[1]);
    res.writeHead(left > 1 ? 301 : 302, { Location: left > 1 ? `/hop/${left - 1}` : '/json?redirected=yes' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const answer = {
      method: req.method,
      path: req.url,
      source: req.headers['x-source'] ?? null,
      contentType: req.headers['content-type'] ?? null,
      clientPort: req.socket.remotePort,
      bodyBytes: body.length,
      body: req.headers['content-type'] === 'application/json' ? JSON.parse(body.toString()) : null,
    };
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
  });
}

const trusted = makeTestCa('trusted');
const other = makeTestCa('other');
// Trusted too (its CA joins GITFUNC_CA_FILE), for another name: urllib3 1.26 matches the host
// name itself, on the dict getpeercert() returns.
const elsewhere = makeTestCa('elsewhere', 'DNS:elsewhere.test');
t.teardown(() => {
  trusted.remove();
  other.remove();
  elsewhere.remove();
});
const http = await listenOnLoopback(t, createHttpServer(handler));
const https = await listenOnLoopback(t, createHttpsServer({ cert: trusted.cert, key: trusted.key }, handler));
const httpsOtherCa = await listenOnLoopback(t, createHttpsServer({ cert: other.cert, key: other.key }, handler));
const httpsElsewhere = await listenOnLoopback(t, createHttpsServer({ cert: elsewhere.cert, key: elsewhere.key }, handler));
for (const server of [http, https]) trackConnections(server);
/** The HTTPS server behind a link whose answers take 50 ms: a handshake that is not instant. */
const slowLink = await listenOnLoopback(t, 
  createTcpServer((client) => {
    const upstream = connect(portOf(https), '127.0.0.1');
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => setTimeout(() => client.write(chunk), 50));
    upstream.on('end', () => setTimeout(() => client.end(), 60));
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
  }),
);

// --- SMTP: just enough of RFC 5321 for smtplib, STARTTLS (RFC 3207) included ----------------------
interface Mail {
  from: string;
  to: string[];
  data: string;
  secure: boolean;
}
const mails: Mail[] = [];
const smtpTls = createSecureContext({ cert: trusted.cert, key: trusted.key });
function smtpSession(stream: Socket, secure: boolean): void {
  let buffer = '';
  let inData = false;
  let mail: Mail = { from: '', to: [], data: '', secure };
  const reply = (line: string): boolean => stream.write(`${line}\r\n`);
  const onData = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        mails.push({ ...mail, data: buffer.slice(0, end) });
        mail = { from: '', to: [], data: '', secure };
        buffer = buffer.slice(end + 5);
        inData = false;
        reply('250 2.0.0 queued');
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
      if (verb === 'EHLO') reply(`250-localhost\r\n250-8BITMIME\r\n${secure ? '' : '250-STARTTLS\r\n'}250 SIZE 1000000`);
      else if (verb === 'MAIL') reply(`250 2.1.0 ${(mail.from = address)} ok`);
      else if (verb === 'RCPT') reply(`250 2.1.5 ${mail.to.push(address) && address} ok`);
      else if (verb === 'DATA') reply('354 end with <CRLF>.<CRLF>'), (inData = true);
      else if (verb === 'QUIT') reply('221 2.0.0 bye'), stream.end();
      else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok');
      else if (verb === 'STAR' && !secure) {
        reply('220 2.0.0 ready to start TLS');
        stream.off('data', onData);
        const tls = new TLSSocket(stream, { isServer: true, secureContext: smtpTls });
        tls.on('error', () => undefined);
        smtpSession(tls, true);
        return;
      } else reply('502 5.5.2 not implemented');
    }
  };
  stream.on('data', onData);
}
const smtp = await listenOnLoopback(t, 
  createTcpServer((socket) => {
    socket.write('220 localhost test SMTP\r\n');
    smtpSession(socket, false);
  }),
);

// --- the functions repository, its packages from an index on 127.0.0.1 --------------------------
const scratch = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-network-libraries-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const debian = buildDebianWheels(['requests', 'urllib3', 'idna', 'certifi', 'charset-normalizer', 'six', 'pymysql', 'redis', 'packaging', 'pg8000']);
// Debian's pg8000 1.10.6 imports distutils.version, which left the standard library in Python
// 3.12; on CPython setuptools provides it. This wheel holds that module, from Debian's setuptools.
const distutils = buildWheel(path.join(scratch, 'built'), 'distutils-version', '66.1.1', {
  'distutils/__init__.py': '',
  'distutils/version.py': readFileSync('/usr/lib/python3/dist-packages/setuptools/_distutils/version.py', 'utf8'),
});
const caFile = path.join(scratch, 'ca.pem');
writeFileSync(caFile, trusted.caPem + elsewhere.caPem);
const index = await startPackageIndex([...debian, distutils]);
t.teardown(() => index.close());

const repo = path.join(scratch, 'repo');
mkdirSync(path.join(repo, 'libs'), { recursive: true });
for (const file of ['web.py', 'stores.py']) copyFileSync(path.join(FIXTURES, 'network-libs', 'libs', file), path.join(repo, 'libs', file));
const apis: [string, string][] = [
  ['get', 'libs__web.get'],
  ['post', 'libs__web.post'],
  ['session-get', 'libs__web.session_get'],
  ['get-large', 'libs__web.get_large'],
  ['post-large', 'libs__web.post_large'],
  ['pool-get', 'libs__web.pool_get'],
  ['nonblocking', 'libs__web.nonblocking'],
  ['redis-shared', 'libs__stores.redis_shared'],
  ['mysql-shared', 'libs__stores.mysql_shared'],
  ['mysql', 'libs__stores.mysql'],
  ['redis', 'libs__stores.redis_ops'],
  ['redis-ping', 'libs__stores.redis_ping'],
  ['postgres', 'libs__stores.postgres'],
  ['send-mail', 'libs__stores.send_mail'],
];
writeFileSync(
  path.join(repo, 'gitfunc.yaml'),
  [
    'version: 1',
    'packages:',
    ...[...pinsOf(debian), `${distutils.name}==${distutils.version}`].map((pin) => `  - ${pin}`),
    'syncAPIs:',
    ...apis.flatMap(([id, func]) => [`  - id: ${id}`, `    func: ${func}`]),
    '',
  ].join('\n'),
);

const gitfunc = await startGitfunc(['--repo', repo, '--poll-seconds', '0'], {
  GITFUNC_PACKAGE_INDEX: index.url,
  GITFUNC_CA_FILE: caFile,
  GITFUNC_NETWORK_DENY: '169.254.0.0/16,127.0.0.2',
});
t.teardown(() => gitfunc.close());

async function call(api: string, kwargs: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kwargs }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${api}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

/** Names no other run uses; the functions drop what they create, the teardown too if a call died. */
const unique = `gitfunc_${process.pid}_${Date.now().toString(36)}`;
t.teardown(() => {
  const quiet = (command: string, args: string[]): void => {
    try {
      execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // the service is down or the name was never created
    }
  };
  quiet('mysql', ['-h127.0.0.1', '-uroot', 'test', '-e', `DROP TABLE IF EXISTS \`${unique}\``]);
  quiet('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `DROP TABLE IF EXISTS "${unique}"`]);
  quiet('redis-cli', ['-h', '127.0.0.1', 'del', ...[':shared', ':name', ':count', ':list', ':hash', ':day1', ':day2', ':both', ':either'].map((s) => unique + s)]);
});

const httpUrl = `http://127.0.0.1:${portOf(http)}`;

t.test('requests.get sends headers and parameters and follows redirects', async (t) => {
  const res = await call('get', { url: `${httpUrl}/json`, params: { q: 'a b', n: 2 }, headers: { 'X-Source': 'script' } });
  t.match(res, { status: 200, history: [], contentType: 'application/json', json: { method: 'GET', path: '/json?q=a+b&n=2', source: 'script' } });
  const redirected = await call('get', { url: `${httpUrl}/hop/3` });
  t.match(redirected, { status: 200, history: [301, 301, 302], url: `${httpUrl}/json?redirected=yes`, json: { path: '/json?redirected=yes' } });
});

t.test('requests.post sends a JSON body', async (t) => {
  const res = await call('post', { url: `${httpUrl}/json`, body: { name: 'ada', tags: ['x', 'ÿ'], n: 1.5 } });
  t.match(res, { status: 201, json: { method: 'POST', source: 'gitfunc', contentType: 'application/json', body: { name: 'ada', tags: ['x', 'ÿ'], n: 1.5 } } });
});

t.test('requests: a large gzip body streamed in chunks, a large upload, a read timeout', async (t) => {
  t.same(await call('get-large', { url: `${httpUrl}/large` }), { status: 200, encoding: 'gzip', size: LARGE.length });
  const upload = await call('post-large', { url: `${httpUrl}/upload`, size: 3_000_000 });
  t.match(upload, { status: 201, json: { bodyBytes: 3_000_000 } });
  const started = Date.now();
  const slow = await call('get', { url: `${httpUrl}/slow`, timeout: 0.3 });
  t.match(slow, { type: 'requests.exceptions.ReadTimeout', message: /timed out/ });
  t.ok(Date.now() - started < 1500, 'raised at the socket timeout');
});

for (const [scheme, url] of [
  ['HTTP', `${httpUrl}/json`],
  ['HTTPS', `https://localhost:${portOf(https)}/json`],
]) {
  t.test(`${scheme}: a module-level Session reuses its connection within a call and replaces it in the next call`, async (t) => {
    const first = await call('session-get', { url });
    t.same(first.status, [200, 200]);
    t.equal(first.ports[0], first.ports[1], 'the second GET of a call reuses the pooled connection');
    t.ok(await until(() => closedClientPorts.has(first.ports[0]), 5000), 'the pooled connection was closed when the call ended');
    const second = await call('session-get', { url });
    t.same(second.status, [200, 200], 'the closed pooled connection is detected and replaced');
    t.not(second.ports[0], first.ports[0], 'a new connection');
    t.equal(second.ports[0], second.ports[1]);
  });
}

t.test('requests over HTTPS: GITFUNC_CA_FILE trusted, another CA or another name refused with SSLError, verify=False honoured', async (t) => {
  const ok = await call('get', { url: `https://localhost:${portOf(https)}/json` });
  t.match(ok, { status: 200, json: { path: '/json' } });
  const byIp = await call('get', { url: `https://127.0.0.1:${portOf(https)}/hop/1` });
  t.match(byIp, { status: 200, history: [302], json: { path: '/json?redirected=yes' } });
  const refused = await call('get', { url: `https://localhost:${portOf(httpsOtherCa)}/json` });
  t.match(refused, { type: 'requests.exceptions.SSLError', message: /CERTIFICATE_VERIFY_FAILED/ });
  const unverified = await call('get', { url: `https://localhost:${portOf(httpsOtherCa)}/json`, verify: false });
  t.match(unverified, { status: 200, json: { path: '/json' } });
  const wrongName = await call('get', { url: `https://localhost:${portOf(httpsElsewhere)}/json` });
  t.match(wrongName, { type: 'requests.exceptions.SSLError', message: /hostname 'localhost' doesn't match 'elsewhere\.test'/ }, 'a trusted certificate for another name');
});

t.test('a urllib3 1.26 PoolManager keeps one connection per host, HTTP and HTTPS', async (t) => {
  const res = await call('pool-get', { urls: [`${httpUrl}/json?a`, `${httpUrl}/json?b`, `https://localhost:${portOf(https)}/json?c`] });
  t.match(res.version, /^1\.26\./);
  const answers = (res.answers as { status: number; body: string }[]).map((a) => ({ status: a.status, ...JSON.parse(a.body) }));
  t.match(answers, [
    { status: 200, path: '/json?a', source: 'urllib3' },
    { status: 200, path: '/json?b', source: 'urllib3' },
    { status: 200, path: '/json?c', source: 'urllib3' },
  ]);
  t.equal(answers[0].clientPort, answers[1].clientPort, 'one pooled connection for both HTTP requests');
});

t.test('a non-blocking connect, then reads that find nothing yet, over TCP and TLS', async (t) => {
  const plain = await call('nonblocking', { host: '127.0.0.1', port: portOf(http) });
  t.match(plain, { connect: /^(0|EINPROGRESS)$/, emptyRead: 'BlockingIOError', status: '200' });
  const tls = await call('nonblocking', { host: 'localhost', port: portOf(slowLink), tls: true });
  t.match(tls, { connect: /^(0|EINPROGRESS)$/, emptyRead: 'SSLWantReadError', status: '200' }, "CPython's SSLSocket raises SSLWantReadError");
});

t.test('pymysql against MariaDB: a table, parameters, a rolled back transaction', async (t) => {
  const res = await call('mysql', { table: unique });
  t.same(res.rows, [
    { name: 'ada', score: 1.5 },
    { name: 'grace', score: 2.25 },
    { name: '名前', score: null },
  ]);
  t.match(res.version, /MariaDB/);
});

t.test('redis: set/get, incr, a pipeline, BITOP and BITCOUNT', async (t) => {
  const res = await call('redis', { prefix: unique });
  t.same(res, {
    name: 'gitfunc',
    counts: [1, 6],
    pipeline: [3, ['a', 'b', 'c'], 2, { x: '1', y: '2' }],
    both: 2,
    either: 4,
    left: 0,
  });
});

t.test('module-level clients across calls: redis reconnects, pymysql reconnects on ping(reconnect=True)', async (t) => {
  const key = `${unique}:shared`;
  t.match(await call('redis-shared', { key }), { count: 1 });
  t.match(await call('redis-shared', { key }), { count: 2 }, 'the second call reconnects');
  const first = await call('mysql-shared', {});
  const second = await call('mysql-shared', {});
  t.type(second.connection, 'number');
  t.not(second.connection, first.connection, 'a new MariaDB connection replaced the closed one');
});

t.test('pg8000 against PostgreSQL: a table, parameters, a rolled back transaction', async (t) => {
  const res = await call('postgres', { table: unique });
  t.same(res, { rows: [['ada', '1.5'], ['名前', '2']], database: 'test', answer: 42 });
});

t.test('smtplib sends a message to an SMTP server', async (t) => {
  const subject = `hello ${unique}`;
  const res = await call('send-mail', { host: '127.0.0.1', port: portOf(smtp), to: 'ops@example.com', subject, text: 'the disk is full' });
  t.same(res, { ehlo: 250, refused: {} });
  const mail = mails.find((m) => m.data.includes(subject));
  t.ok(mail, 'the message arrived');
  t.match(mail, { from: 'gitfunc@example.com', to: ['ops@example.com'], data: /the disk is full/, secure: false });
  const tlsSubject = `over TLS ${unique}`;
  const secure = await call('send-mail', { host: 'localhost', port: portOf(smtp), to: 'ops@example.com', subject: tlsSubject, text: 'encrypted', starttls: true });
  t.same(secure, { ehlo: 250, refused: {} });
  t.match(
    mails.find((m) => m.data.includes(tlsSubject)),
    { secure: true, data: /encrypted/ },
    'STARTTLS upgraded the connection, verified against GITFUNC_CA_FILE',
  );
});

t.test('egress rules: a library connecting to a denied address gets an error naming the rule', async (t) => {
  const denied = await call('redis-ping', { host: '127.0.0.2' });
  t.match(denied, { type: 'redis.exceptions.ConnectionError', message: /denied by network rule '127\.0\.0\.2'/ });
  const viaRequests = await call('get', { url: `http://127.0.0.2:${portOf(http)}/json` });
  t.match(viaRequests, { type: 'requests.exceptions.ConnectionError', message: /denied by network rule '127\.0\.0\.2'/ });
  t.same(await call('redis-ping', { host: '127.0.0.1' }), { ping: true }, '127.0.0.1 stays allowed');
});
