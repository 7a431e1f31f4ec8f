// Whatever a call does to its worker, the caller gets a DFF error and the next call is served:
// a Python loop or a time.sleep is interrupted in place at the deadline (599.2), a dead
// interpreter is replaced (599.99), and a full call queue answers 503.1 at once. (A call stuck
// in C having its worker terminated is in timeouts.test.ts.)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import t from 'tap';
import path from 'node:path';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const configFile = path.join(os.tmpdir(), `gitfunc-timeouts-${process.pid}.yaml`);
writeFileSync(configFile, 'callTimeoutGraceMs: 300\n');
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'callables'), '--config', configFile]);
t.teardown(() => gitfunc.close());

async function timed(url: string): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${gitfunc.url}${url}`);
  const text = await res.text();
  const body = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
  return { status: res.status, body, ms: performance.now() - started };
}

t.test('a Python loop is interrupted at the deadline and its worker keeps serving', async (t) => {
  const res = await timed('/api/v1/al/spin');
  t.equal(res.status, 599);
  t.equal(res.body.error, 599.2);
  t.ok(res.ms >= 950 && res.ms < 2000, `answered after ${Math.round(res.ms)} ms`);
  const next = await timed('/api/v1/al/hello/s?message=after');
  t.same(next.body, { message: 'after' });
  // Interrupted in place: no worker was replaced, so no multi-second Pyodide reload.
  t.ok(next.ms < 1000, `next call took ${Math.round(next.ms)} ms`);
  t.notOk(gitfunc.logs.some((l) => /terminating its worker/.test(String(l.msg))), 'no worker terminated');
});

// time.sleep used to spin in C and ignore the interrupt, which cost its worker.
t.test('a call in time.sleep is interrupted at the deadline and its worker keeps serving', async (t) => {
  const res = await timed('/api/v1/al/nap/s?seconds=60');
  t.equal(res.body.error, 599.2);
  t.ok(res.ms >= 950 && res.ms < 2000, `answered after ${Math.round(res.ms)} ms`);
  const next = await timed('/api/v1/al/hello/s?message=after-nap');
  t.same(next.body, { message: 'after-nap' });
  t.ok(next.ms < 1000, `next call took ${Math.round(next.ms)} ms`);
  t.notOk(gitfunc.logs.some((l) => /terminating its worker/.test(String(l.msg))), 'no worker terminated');
});

t.test("a function's own @DFF.API(timeout=...) applies when the manifest sets none", async (t) => {
  const res = await timed('/api/v1/al/spin-own-timeout');
  t.equal(res.body.error, 599.2);
  t.equal(res.body.detail.timeout, 1);
  t.ok(res.ms >= 950 && res.ms < 2000, `answered after ${Math.round(res.ms)} ms`);
});

t.test('options.timeout shortens a call, never lengthens it', async (t) => {
  const options = encodeURIComponent('{"timeout":1}');
  const kwargs = encodeURIComponent('{"seconds":0.2}');
  const ok = await timed(`/api/v1/al/slow-default?kwargs=${kwargs}&options=${options}`);
  t.equal(ok.body, 'rested');
  const tooLong = await timed(`/api/v1/al/slow-default?options=${encodeURIComponent('{"timeout":36}')}`);
  t.equal(tooLong.body.error, 400.43);
});

t.test('a call that kills its interpreter answers 599.99 and the worker is replaced', async (t) => {
  const res = await timed('/api/v1/al/hard-exit');
  t.equal(res.status, 599);
  t.equal(res.body.error, 599.99);
  const next = await timed('/api/v1/al/hello/s?message=alive');
  t.same(next.body, { message: 'alive' });
});

t.test('a full call queue answers 503.1 with Retry-After instead of piling up', async (t) => {
  // One worker takes 2 calls and queues 64 more: 90 concurrent 50 ms calls overflow it.
  const responses = await Promise.all(
    Array.from({ length: 90 }, () => fetch(`${gitfunc.url}/api/v1/al/nap/s?seconds=0.05`)),
  );
  const busy = responses.filter((r) => r.status === 503);
  t.ok(busy.length > 0, `${busy.length} calls refused`);
  t.equal(busy[0]?.headers.get('retry-after'), '1');
  t.equal(((await busy[0]!.json()) as { error: number }).error, 503.1);
  t.ok(responses.every((r) => [200, 503, 599].includes(r.status)), 'no other status');
  await Promise.all(responses.filter((r) => !r.bodyUsed).map((r) => r.arrayBuffer()));
});
