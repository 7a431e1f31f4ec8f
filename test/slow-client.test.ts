// Slow clients cannot hold a connection: a client trickling its headers or its body gets 408
// and a closed connection once limits.headersTimeoutSeconds / bodyReadSeconds pass.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AUTH_ENV, AUTH_REPO } from './helpers/auth-fixture.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

const HEADERS_SECONDS = 0.5;
const BODY_SECONDS = 0.5;
const configFile = path.join(os.tmpdir(), `gitfunc-slow-client-${process.pid}.yaml`);
writeFileSync(configFile, `limits:\n  headersTimeoutSeconds: ${HEADERS_SECONDS}\n  bodyReadSeconds: ${BODY_SECONDS}\n`);
const gitfunc = await startGitfunc(['--repo', AUTH_REPO, '--config', configFile], AUTH_ENV);
t.teardown(() => gitfunc.close());
const { hostname, port } = new URL(gitfunc.url);

/**
 * Sends `head` at once, then one byte of `trickle` every 100 ms until the server closes the
 * connection (or `giveUpMs` passes). Resolves with what the server sent and when it closed.
 */
function trickle(head: string, trickleBytes: string, giveUpMs = 10_000): Promise<{ answer: string; closedAfterMs: number; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < trickleBytes.length && socket.writable) socket.write(trickleBytes[sent++]!);
    }, 100);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => undefined); // a reset after the 408 is a close too
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ answer, closedAfterMs: performance.now() - started, sentBytes: sent });
    });
    socket.write(head);
  });
}

t.test('trickled headers: 408 and closed after headersTimeoutSeconds', async (t) => {
  const result = await trickle('GET /api/v1/al/open/s HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'a'.repeat(200));
  t.match(result.answer, /^HTTP\/1\.1 408 /);
  t.ok(result.closedAfterMs >= HEADERS_SECONDS * 1000, `closed after ${Math.round(result.closedAfterMs)} ms`);
  t.ok(result.closedAfterMs < HEADERS_SECONDS * 1000 + 2000, 'not much later');
});

t.test('a trickled body: 408 and closed after bodyReadSeconds', async (t) => {
  const head = 'POST /api/v1/al/open/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';
  const result = await trickle(head, `{"x":"${'a'.repeat(190)}"}`);
  t.match(result.answer, /^HTTP\/1\.1 408 /);
  t.ok(result.sentBytes < 200, 'cut before the body was complete');
  const limitMs = (HEADERS_SECONDS + BODY_SECONDS) * 1000;
  t.ok(result.closedAfterMs >= limitMs && result.closedAfterMs < limitMs + 2000, `closed after ${Math.round(result.closedAfterMs)} ms`);
  t.notOk(
    gitfunc.logs.some((line) => line.msg === 'unhandled error in a route'),
    'the cut body is an answered call, not an internal error',
  );
});

t.test('the server keeps serving, and a body sent in pieces within the limit is read', async (t) => {
  const result = await trickle('POST /api/v1/al/open/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"x":', '1}');
  t.match(result.answer, /^HTTP\/1\.1 200 /);
  t.match(result.answer, /"kwargs":\{"x":1\}/);
  t.equal((await fetch(`${gitfunc.url}/api/v1/al/open/s?x=1`)).status, 200);
});

t.test('the limits bound reading the request, not the call: a call longer than both is answered', async (t) => {
  const seconds = (HEADERS_SECONDS + BODY_SECONDS) * 2;
  const started = performance.now();
  const get = await fetch(`${gitfunc.url}/api/v1/al/nap/s?seconds=${seconds}`);
  t.same([get.status, await get.json()], [200, { slept: seconds }]);
  t.ok(performance.now() - started >= seconds * 1000, 'it really ran that long');
  const post = await fetch(`${gitfunc.url}/api/v1/al/nap/s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seconds }),
  });
  t.same([post.status, await post.json()], [200, { slept: seconds }], 'a call with a body too');
});
