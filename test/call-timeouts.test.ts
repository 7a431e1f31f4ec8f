// A call past its timeout answers 599.2 at the deadline: a Python loop is interrupted in
// place, a call stuck in C (time.sleep) gets its worker terminated and replaced.
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

t.test('a call stuck in time.sleep answers 599.2 and its worker is replaced', async (t) => {
  const res = await timed('/api/v1/al/nap/s?seconds=60');
  t.equal(res.body.error, 599.2);
  t.ok(res.ms < 2000, `answered after ${Math.round(res.ms)} ms`);
  const next = await timed('/api/v1/al/hello/s?message=replaced');
  t.same(next.body, { message: 'replaced' });
  t.ok(gitfunc.logs.some((l) => /terminating its worker/.test(String(l.msg))), 'worker terminated');
});

t.test('options.timeout shortens a call, never lengthens it', async (t) => {
  const options = encodeURIComponent('{"timeout":1}');
  const kwargs = encodeURIComponent('{"seconds":0.2}');
  const ok = await timed(`/api/v1/al/slow-default?kwargs=${kwargs}&options=${options}`);
  t.equal(ok.body, 'rested');
  const tooLong = await timed(`/api/v1/al/slow-default?options=${encodeURIComponent('{"timeout":36}')}`);
  t.equal(tooLong.body.error, 400.43);
});
