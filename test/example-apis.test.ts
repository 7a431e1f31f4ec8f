// functions.example's APIs that reach out: fetch-url (net/fetch.py), urllib.request against a
// real HTTP server on 127.0.0.1 and an address the operator denies; and the visit counter
// (counter/visits.py) on its redis connector, against the Redis on 127.0.0.1:6379.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import t from 'tap';
import { listenOnLoopback, portOf } from './helpers/loopback.js';
import { EXAMPLE_REPO, startGitfunc } from './helpers/start-gitfunc.js';

const PAGE = 'héllo, wörld'; // 14 bytes in UTF-8, 12 characters

const http = await listenOnLoopback(t, 
  createHttpServer((req, res) => {
    if (req.url === '/page') res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(PAGE);
    else if (req.url === '/old') res.writeHead(302, { Location: '/page' }).end();
    else res.writeHead(404, { 'Content-Type': 'text/html' }).end('<p>no such page</p>');
  }),
);
http.keepAliveTimeout = 100;

// Accepts connections and never answers: a fetch from it times out.
const silentSockets = new Set<Socket>();
const silent = await listenOnLoopback(t, 
  createTcpServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
    socket.on('error', () => undefined);
  }),
);
t.teardown(() => {
  for (const socket of silentSockets) socket.destroy();
});

const gitfunc = await startGitfunc(['--repo', EXAMPLE_REPO], { GITFUNC_NETWORK_DENY: '169.254.0.0/16,127.0.0.2' });
t.teardown(() => gitfunc.close());

async function fetchUrl(query: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/fetch-url/simplified?${new URLSearchParams(query)}`);
  return { status: res.status, body: await res.json() };
}

const base = `http://127.0.0.1:${portOf(http)}`;

t.test('a page: status, content type and size in bytes', async (t) => {
  const res = await fetchUrl({ url: `${base}/page` });
  t.equal(res.status, 200, JSON.stringify(res.body));
  t.same(res.body, { url: `${base}/page`, ok: true, status: 200, contentType: 'text/plain; charset=utf-8', bytes: Buffer.byteLength(PAGE) });
});

t.test('a redirect is followed; the answer names where it ended', async (t) => {
  const res = await fetchUrl({ url: `${base}/old`, timeout: '5' });
  t.match(res.body, { url: `${base}/page`, ok: true, status: 200 });
});

t.test('an HTTP error status is a result, not an error', async (t) => {
  const res = await fetchUrl({ url: `${base}/missing` });
  t.equal(res.status, 200);
  t.same(res.body, { url: `${base}/missing`, ok: false, status: 404, contentType: 'text/html', bytes: 19 });
});

t.test('an address the egress rules deny: PermissionError naming the rule', async (t) => {
  const res = await fetchUrl({ url: `http://127.0.0.2:${portOf(http)}/page` });
  t.equal(res.status, 200);
  t.match(res.body, { ok: false, error: 'PermissionError', message: /127\.0\.0\.2 port \d+ refused: denied by network rule '127\.0\.0\.2' \(GITFUNC_NETWORK_DENY\)/ });
  t.notOk('status' in res.body, 'no HTTP status: nothing answered');
});

t.test('a server that never answers: TimeoutError after the timeout given', async (t) => {
  const started = Date.now();
  const res = await fetchUrl({ url: `http://127.0.0.1:${portOf(silent)}/`, timeout: '0.5' });
  t.match(res.body, { ok: false, error: 'TimeoutError' });
  t.ok(Date.now() - started < 10_000, 'answered long before the API timeout');
});

t.test("a URL that is not http(s) is the caller's mistake: raised, 599.1", async (t) => {
  const res = await fetchUrl({ url: 'file:///etc/passwd' });
  t.equal(res.status, 599);
  t.match(res.body, { error: 599.1, detail: { exception: /ValueError: url must start with http/ } });
});

t.test('the visit counter counts in Redis through its connector', async (t) => {
  // A page name of this run only; its key is removed afterwards.
  const page = `test-${process.pid}-${Date.now()}`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  t.teardown(async () => {
    await redis.del(`gitfunc-example:visits:${page}`);
    redis.disconnect();
  });
  const count = async (): Promise<unknown> => (await fetch(`${gitfunc.url}/api/v1/al/count-visit/simplified?page=${page}`)).json();
  t.same(await count(), { page, visits: 1 });
  t.same(await count(), { page, visits: 2 });
  t.equal(await redis.get(`gitfunc-example:visits:${page}`), '2', 'the count is in Redis itself');
  const all = (await (await fetch(`${gitfunc.url}/api/v1/al/visits/simplified`)).json()) as Record<string, number>;
  t.equal(all[page], 2);
});
