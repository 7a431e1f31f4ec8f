// Cron jobs of a served repository, end to end: fires recorded once per scheduled second,
// overlaps recorded as skip, the script's cron context, run-now, delayed runs, and sync
// calls still served while cron work keeps the background workers busy.
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

// Three workers: two take background work (the slow job holds one), one stays for sync calls.
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'cron'), '--workers', '3'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The `overlap` job's run sleeps this long on a background worker (fixtures/cron/gitfunc.yaml). */
const SLOW_RUN_MS = 1600;

async function records(originId: string, origin = 'cronJob'): Promise<any[]> {
  return (await adminGet(base, `/api/v1/task-records?origin=${origin}&originId=${originId}&limit=500`)).records;
}

/**
 * The job's records (newest first) once `enough` holds for them, polled as the fires come (a
 * few seconds), or as they are after 30 s, for the assertions to show what is missing.
 */
async function recordsWhen(originId: string, enough: (records: any[]) => boolean): Promise<any[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await records(originId);
    if (enough(found) || Date.now() > deadline) return found;
    await sleep(200);
  }
}

const withStatus = (status: string) => (record: { status: string }) => record.status === status;

t.test('a 1-second job (fixed_cron_expr) is recorded once per second with its cron context', async (t) => {
  // Every fire leaves one record, whether it ran, is still running or was skipped.
  const fires = (await recordsWhen('tick', (found) => found.length >= 3 && found.filter(withStatus('success')).length >= 2)).reverse();
  t.ok(fires.length >= 3, `${fires.length} fires`);
  const seconds = fires.map((r) => r.triggerTime);
  t.ok(seconds.every((s) => s % 1000 === 0), 'trigger time is the scheduled second');
  for (let i = 1; i < seconds.length; i++) t.equal(seconds[i] - seconds[i - 1], 1000, 'one record per second');
  const ticks = fires.filter((r) => r.status === 'success');
  t.ok(ticks.length >= 2, `${ticks.length} ran`);
  t.match(ticks[0], {
    status: 'success',
    funcId: 'jobs__clock.tick',
    kwargs: { label: 'every-second' },
    returnValue: { label: 'every-second', origin: 'cronJob', originId: 'tick', cronExpr: '* * * * * *' },
    printLogs: /\] tick every-second\n$/,
  });
});

t.test('a fire while the previous run still goes is recorded as skip', async (t) => {
  const runs = await recordsWhen('overlap', (found) => found.some(withStatus('skip')) && found.some(withStatus('success')));
  const skipped = runs.filter((r) => r.status === 'skip');
  const succeeded = runs.filter((r) => r.status === 'success');
  t.ok(skipped.length >= 1, `${skipped.length} skipped`);
  t.ok(succeeded.length >= 1, `${succeeded.length} ran`);
  t.match(skipped[0], { exceptionText: /previous run of this job was still running/, funcId: 'jobs__clock.slow' });
  const lines = gitfunc.logs.filter((l) => l.jobId === 'overlap' && l.msg === 'call ended');
  t.match(lines.find((l) => l.taskId === skipped[0].id), { level: 30, origin: 'cronJob', funcId: 'jobs__clock.slow', status: 'skip' }, 'a skip is logged');
  const ran = lines.find((l) => l.taskId === succeeded[0].id);
  t.match(ran, { level: 30, status: 'success' }, 'a run is logged once it ended');
  t.ok((ran?.ms as number) >= SLOW_RUN_MS - 100, `its duration: ${String(ran?.ms)} ms`);
  const triggers = runs.map((r) => r.triggerTime);
  t.equal(new Set(triggers).size, triggers.length, 'each scheduled second has one record');
});

t.test('delayed_cron_job adds a run after each fire', async (t) => {
  const isFire = (record: { triggerTime: number }): boolean => record.triggerTime % 3000 === 0;
  const runs = (await recordsWhen('delayed', (found) => found.filter(ended).some(isFire) && found.filter(ended).some((r) => !isFire(r)))).filter(ended);
  const fires = runs.filter(isFire);
  const delayed = runs.filter((r) => r.triggerTime % 3000 === 1000);
  t.ok(fires.length >= 1 && delayed.length >= 1, `${fires.length} fires, ${delayed.length} delayed runs`);
  t.ok(fires.length + delayed.length === runs.length, 'only fires and their delayed runs');
  t.match(delayed[0], { status: 'success', returnValue: '*/3 * * * * *' });
});

t.test('status lists enabled jobs with their next fire time in their time zone', async (t) => {
  const status = await adminGet(base, '/api/v1/status');
  const jobs = Object.fromEntries(status.cronJobs.map((job: { id: string }) => [job.id, job]));
  t.same(Object.keys(jobs).sort(), ['delayed', 'nightly', 'overlap', 'tick'], 'a disabled job is not scheduled');
  t.match(jobs.tick, { expression: '* * * * * *', timezone: 'Asia/Tokyo' });
  // 02:30 in Tokyo (UTC+9, no DST) is 17:30 UTC.
  t.match(jobs.nightly, { expression: '30 2 * * *', timezone: 'Asia/Tokyo', nextFireAt: /T17:30:00\.000Z$/ });
  t.ok(Date.parse(jobs.tick.nextFireAt) - Date.now() <= 1000);
  t.equal(status.pool.backgroundSlots, 2);
  t.equal((await records('off')).length, 0);
});

t.test('POST /api/v1/cron/:id runs a job now, as a manual run', async (t) => {
  const res = await fetch(`${base}/api/v1/cron/nightly`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(res.status, 200);
  const { data } = (await res.json()) as { data: { id: string } };
  t.match(await waitForTask(base, data.id, ended), { status: 'success', origin: 'manual', originId: 'nightly', returnValue: 'night' });
  const unknown = await fetch(`${base}/api/v1/cron/nope`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.match([unknown.status, await unknown.json()], [404, { error: 404.41 }]);
  const anonymous = await fetch(`${base}/api/v1/cron/nightly`, { method: 'POST' });
  t.equal(anonymous.status, 401);
});

t.test('sync calls are served at once while cron work runs', async (t) => {
  for (let i = 0; i < 5; i++) {
    // Send each call while a cron run holds a background worker.
    let status = await adminGet(base, '/api/v1/status');
    for (let polls = 0; status.pool.runningBackground === 0 && polls < 50; polls++) {
      await sleep(20);
      status = await adminGet(base, '/api/v1/status');
    }
    t.ok(status.pool.runningBackground >= 1, `cron work running (${status.pool.runningBackground} background calls)`);
    const began = Date.now();
    const res = await fetch(`${base}/api/v1/al/echo/s?i=${i}`);
    t.same([res.status, await res.json()], [200, { i: String(i) }]);
    // A call that had to wait for a background worker would wait out the slow job's sleep.
    t.ok(Date.now() - began < SLOW_RUN_MS, `answered in ${Date.now() - began} ms`);
    await sleep(150);
  }
});
