// Back-pressure on the sync path: a full call queue answers 503.1 with Retry-After at once, and
// a call whose client hung up while it waited for a worker is dropped, never run.
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

// One worker: a slow call holds it, so every other call waits in the queue, of 2 calls here
// (64 by default) so that a few calls fill it.
const QUEUE = 2;
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'runtime')], { GITFUNC_SYNC_QUEUE_PER_WORKER: String(QUEUE) });
t.teardown(() => gitfunc.close());
const { port } = new URL(gitfunc.url);

async function get(pathAndQuery: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${gitfunc.url}${pathAndQuery}`);
  const text = await res.text();
  const body: unknown = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  return { status: res.status, body, headers: res.headers };
}

/** Sends a GET over a raw socket and returns the socket, request sent, answer unread. */
async function sendRaw(pathAndQuery: string): Promise<net.Socket> {
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  return socket;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a call whose client hung up before it started does not run', async (t) => {
  const slow = get('/api/v1/al/slow/s?seconds=2');
  await sleep(300);
  // Both wait behind the slow call; one client hangs up, the other stays.
  const gone = await sendRaw('/api/v1/al/counted/s?key=gone');
  const kept = await sendRaw('/api/v1/al/counted/s?key=kept');
  const keptAnswer = new Promise<string>((resolve) => {
    let text = '';
    kept.on('data', (chunk: Buffer) => (text += chunk.toString()));
    kept.on('close', () => resolve(text));
  });
  await sleep(300);
  gone.destroy();
  t.equal((await slow).body, 'done');
  t.match(await keptAnswer, /^HTTP\/1\.1 200/, 'the caller who stayed got its answer');
  t.equal((await get('/api/v1/al/runs/s?key=kept')).body, '1', 'the call of the caller who stayed ran');
  t.equal((await get('/api/v1/al/runs/s?key=gone')).body, null, 'the call of the caller who left never ran');
  const line = gitfunc.logs.find((l) => l.msg === 'sync call' && l.status === 499);
  t.ok(line, 'logged as 499 (client closed request)');
});

t.test('a full queue refuses at once with 503.1 and Retry-After', async (t) => {
  let held = true;
  const hold = get('/api/v1/al/slow/s?seconds=2').then((res) => {
    held = false;
    return res;
  });
  while (gitfunc.server.pool.stats().busyWorkers === 0) await sleep(10);
  // The worker is busy: QUEUE calls wait for it, the others are refused.
  const calls = await Promise.all(
    Array.from({ length: QUEUE + 6 }, async () => {
      const res = await get('/api/v1/al/slow/s?seconds=0.1');
      return { ...res, whileHeld: held };
    }),
  );
  const refused = calls.filter((c) => c.status === 503);
  t.equal(refused.length, 6, 'every call past the queue refused');
  t.ok(refused.every((c) => c.body.error === 503.1 && c.headers.get('retry-after') === '1'), '503.1 with Retry-After: 1');
  t.ok(refused.every((c) => c.whileHeld), 'refused at once: while the worker was still busy with the first call');
  t.same(
    calls.filter((c) => c.status !== 503).map((c) => [c.status, c.body]),
    Array.from({ length: QUEUE }, () => [200, 'done']),
    'the queued calls ran once the worker was free',
  );
  t.equal((await hold).body, 'done');
});
