// gitfunc as a process through its life: probes while it loads, kill -9 with async tasks
// queued and a restart that runs them, a graceful SIGTERM, and a second signal.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, ended, waitForTask } from './helpers/admin-client.js';
import { spawnGitfunc, waitReady } from './helpers/spawn-gitfunc.js';
import { FIXTURES } from './helpers/start-gitfunc.js';

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A functions repository (a local directory) that starts as the `tasks` fixture. */
function functionsDir(): string {
  const dir = tempDir('gitfunc-lifecycle-repo-');
  cpSync(path.join(FIXTURES, 'tasks'), dir, { recursive: true });
  return dir;
}

/** Submits an async call; `kwargs` go in the body (a POST's query carries none). */
async function submit(url: string, pathAndQuery: string, kwargs?: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}${pathAndQuery}`, {
    method: 'POST',
    ...(kwargs === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(kwargs) }),
  });
  const body = (await res.json()) as { data: { id: string } };
  if (res.status !== 200) throw new Error(`${pathAndQuery}: ${res.status} ${JSON.stringify(body)}`);
  return body.data.id;
}

t.test('kill -9 with async tasks queued: the restarted server runs every one', async (t) => {
  const repo = functionsDir();
  const manifest = path.join(repo, 'gitfunc.yaml');
  writeFileSync(path.join(repo, 'jobs', 'extra.py'), "@DFF.API('Gone soon')\ndef gone():\n    return 'still here'\n");
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}  - id: gone\n    func: jobs__extra.gone\n`);
  const dataDir = tempDir('gitfunc-lifecycle-data-');
  const env = { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN };
  const flags = ['--repo', repo, '--data-dir', dataDir, '--workers', '1'];

  const first = await spawnGitfunc(flags, env);
  t.teardown(() => first.child.kill('SIGKILL'));
  await waitReady(first.url);
  // Re-run first after the restart, the nap leaves the restarted server time to fetch and
  // serve the head (its import check worker starts for the head, after the last good commit)
  // before the task of the removed function runs.
  const napping = await submit(first.url, '/api/v1/async/nap/s', { seconds: 10 });
  await waitForTask(first.url, napping, (r) => r.status === 'running');
  const waiting = await submit(first.url, '/api/v1/async/context');
  const removed = await submit(first.url, '/api/v1/async/gone');
  first.child.kill('SIGKILL');
  t.equal(await first.exited, 'SIGKILL');

  // The next commit removes the function of the third task.
  rmSync(path.join(repo, 'jobs', 'extra.py'));
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/ {2}- id: gone\n.*\n/, ''));
  const second = await spawnGitfunc(flags, env);
  t.teardown(() => second.child.kill('SIGKILL'));
  await waitReady(second.url);

  t.match(await waitForTask(second.url, napping, ended), { status: 'success', attempt: 2, returnValue: { attempt: 2 } }, 'the interrupted task ran again, attempt 2');
  t.match(await waitForTask(second.url, waiting, ended), { status: 'success', attempt: 1, returnValue: { taskId: waiting, attempt: 1 } });
  const gone = await waitForTask(second.url, removed, ended);
  t.match(gone, { status: 'failure', exceptionType: 'FunctionNotFound', exceptionText: /jobs__extra\.gone is not in commit .* any more/ });
  t.ok(second.logs.some((l) => l.msg === 'async tasks of an earlier run re-queued' && l.tasks === 1), 'the one claimed task was re-queued');
  second.child.kill('SIGTERM');
  t.equal(await second.exited, 0);
});

t.test('SIGTERM: not ready at once, drains, finishes in-flight work, keeps the queue, exits 0', async (t) => {
  const repo = functionsDir();
  // Keeps the revision loading a second after the server listens, so the probes below meet it
  // loading however soon a worker is up (one restored before the server listened served within ms).
  writeFileSync(path.join(repo, 'jobs', 'slow_import.py'), 'import time\n\ntime.sleep(1)\n');
  const dataDir = tempDir('gitfunc-lifecycle-data-');
  const flags = ['--repo', repo, '--data-dir', dataDir, '--workers', '2'];
  const env = { GITFUNC_SHUTDOWN_DRAIN_SECONDS: '1', GITFUNC_SHUTDOWN_GRACE_SECONDS: '20' };
  const server = await spawnGitfunc(flags, env);
  t.teardown(() => server.child.kill('SIGKILL'));

  const early = await fetch(`${server.url}/readyz`);
  t.equal(early.status, 503, '/readyz is 503 while the revision loads');
  t.match(await early.json(), { ok: false, phase: 'loading' });
  t.equal((await fetch(`${server.url}/healthz`)).status, 200, '/healthz answers while loading');
  const notYet = await fetch(`${server.url}/api/v1/al/echo/s`);
  t.match([notYet.status, await notYet.json()], [503, { error: 503.2 }], 'calls before the load answer 503.2');
  await waitReady(server.url);

  const status = await fetch(`${server.url}/api/v1/status`, { headers: { authorization: 'Bearer anything' } });
  t.match([status.status, await status.json()], [403, { error: 403.1 }], 'no admin token configured: admin routes refuse everyone');

  // One worker takes background work: a running async task, and one queued behind it.
  const runningTask = await submit(server.url, '/api/v1/async/nap/s', { seconds: 2 });
  const queuedTask = await submit(server.url, '/api/v1/async/context');
  const inFlight = fetch(`${server.url}/api/v1/al/nap/s?seconds=1.5`).then(async (res) => [res.status, await res.json()]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const draining = await fetch(`${server.url}/readyz`);
  t.match([draining.status, await draining.json()], [503, { phase: 'draining' }], '/readyz turns 503 at once');
  const during = await fetch(`${server.url}/api/v1/al/echo/s?during=drain`);
  t.match([during.status, await during.json()], [200, { during: 'drain' }], 'calls are still served during the drain delay');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await t.rejects(fetch(`${server.url}/healthz`), 'no new connection after the drain delay');
  t.same(await inFlight, [200, { slept: '1.5', attempt: 1 }], 'the call in flight finished');
  t.equal(await server.exited, 0);

  // The queued task was left in the durable queue; the running one finished before the exit.
  const restartedAt = Date.now();
  // A long drain delay, so "at once" below stays far from it even on a loaded machine.
  const restarted = await spawnGitfunc(flags, { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN, GITFUNC_SHUTDOWN_DRAIN_SECONDS: '60' });
  t.teardown(() => restarted.child.kill('SIGKILL'));
  await waitReady(restarted.url);
  const finished = await waitForTask(restarted.url, runningTask, ended);
  t.match(finished, { status: 'success', attempt: 1 });
  t.ok(finished.endTime < restartedAt, 'the running task finished before the exit');
  const leftQueued = await waitForTask(restarted.url, queuedTask, ended);
  t.match(leftQueued, { status: 'success', attempt: 1 });
  t.ok(leftQueued.startTime > restartedAt, 'the queued task waited for the next start');
  t.notOk(restarted.logs.some((l) => l.msg === 'async tasks of an earlier run re-queued'), 'nothing was left claimed');

  // A second signal stops at once, whatever the drain delay.
  restarted.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  restarted.child.kill('SIGTERM');
  t.equal(await restarted.exited, 1);
  t.ok(Date.now() - started < 10_000, 'exited at once, not after the 60 s drain delay');
});

t.test('SIGTERM while the revision still loads exits 0 at once', async (t) => {
  const server = await spawnGitfunc(['--repo', functionsDir(), '--data-dir', tempDir('gitfunc-lifecycle-data-'), '--workers', '1']);
  t.teardown(() => server.child.kill('SIGKILL'));
  t.equal((await fetch(`${server.url}/readyz`)).status, 503, 'still loading');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});
