// The cron scheduler on real timers (toad-scheduler) and a real SQLite ledger: one run per
// scheduled second across reloads, once across two schedulers sharing a ledger (replicas),
// catch-up after downtime only for `misfire: runOnce`, and delayed runs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { createLogger } from '../src/log.js';
import { type CronFire, CronScheduler } from '../src/schedule/cron-scheduler.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import type { CronJobSpec } from '../src/model/cron-job.js';
import { type Clock, systemClock } from '../src/model/clock.js';

const logger = createLogger('silent');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function storage(t: { teardown(fn: () => Promise<void>): void }): ReturnType<typeof openSqliteStorage> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-cron-'));
  const opened = openSqliteStorage(dir);
  t.teardown(async () => {
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return opened;
}

function job(fields: Partial<CronJobSpec> = {}): CronJobSpec {
  return {
    id: 'every-second',
    funcId: 'demo__basic.f',
    expression: '* * * * * *',
    timezone: 'UTC',
    kwargs: {},
    misfire: 'skip',
    delaysSeconds: [],
    timeoutSeconds: 10,
    ...fields,
  };
}

/** Asserts `times` are consecutive whole seconds, each once. */
function assertEverySecondOnce(t: Test, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  t.same(times, sorted, 'in order');
  t.ok(sorted.every((time) => time % 1000 === 0), 'on whole seconds');
  for (let i = 1; i < sorted.length; i++) t.equal(sorted[i]! - sorted[i - 1]!, 1000, `no gap or repeat at ${new Date(sorted[i]!).toISOString()}`);
}

t.test('a 1-second job across five reloads runs once per second, none missed', async (t) => {
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job()]);
  for (let reload = 0; reload < 5; reload++) {
    await sleep(900 + reload * 70); // lands at varied points of the second
    // Odd reloads land just after a second began, before the old timer for it could run
    // (the event loop is held here): the new schedule must still run that second.
    if (reload % 2 === 1) while (Date.now() % 1000 > 20 || Date.now() % 1000 < 5);
    scheduler.replace([job({ kwargs: { reload } })]);
  }
  await sleep(1100);
  scheduler.stop();
  const seconds = fires.map((fire) => fire.scheduledAt);
  t.ok(seconds.length >= 5, `${seconds.length} fires`);
  assertEverySecondOnce(t, seconds);
  t.same(new Set(fires.map((fire) => fire.taskId)).size, fires.length, 'each run has its own task id');
});

t.test('seconds a stalled event loop held back still run, each once, in order', async (t) => {
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job()]);
  await sleep(1500 - (Date.now() % 1000)); // the middle of a second, after one fire
  const stallEnds = Date.now() + 2600;
  while (Date.now() < stallEnds); // holds the loop across the timers of two or three seconds
  await sleep(1200);
  scheduler.stop();
  const seconds = fires.map((fire) => fire.scheduledAt);
  t.ok(seconds.length >= 5, `${seconds.length} fires`);
  assertEverySecondOnce(t, seconds);
});

t.test('late fires run only within a minute, and only for a job that kept its schedule', async (t) => {
  const { cronLedger } = storage(t);
  let now = Date.UTC(2026, 10, 25, 10, 0, 0, 500);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: { now: () => now }, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job(), job({ id: 'rescheduled' })]);
  t.same(fires, [], 'a new job owes nothing before it was scheduled');
  now += 90_000; // its timers held back for 90 s
  scheduler.replace([job(), job({ id: 'rescheduled', expression: '*/2 * * * * *' })]);
  const seconds = fires.map((fire) => [fire.job.id, new Date(fire.scheduledAt).toISOString()]);
  t.equal(seconds.length, 60, 'the last 60 s of the unchanged job; nothing for the rescheduled one');
  t.same(seconds[0], ['every-second', '2026-11-25T10:00:31.000Z']);
  t.same(seconds.at(-1), ['every-second', '2026-11-25T10:01:30.000Z']);
});

t.test('two schedulers sharing one ledger (two replicas) run each fire once', async (t) => {
  const { cronLedger } = storage(t);
  const fires: [string, number][] = [];
  const schedulers = ['a', 'b'].map(
    (name) => new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push([name, fire.scheduledAt]) }),
  );
  for (const scheduler of schedulers) {
    t.teardown(() => scheduler.stop());
    scheduler.replace([job()]);
  }
  await sleep(3200);
  for (const scheduler of schedulers) scheduler.stop();
  t.ok(fires.length >= 3);
  assertEverySecondOnce(t, fires.map(([, at]) => at));
});

t.test('fires missed while down: skipped, unless the job says misfire: runOnce', async (t) => {
  const { cronLedger } = storage(t);
  const hour = 3_600_000;
  const now = Date.UTC(2026, 10, 25, 10, 20, 0);
  const clock: Clock = { now: () => now };
  // Both jobs last fired at 06:00; 07:00, 08:00, 09:00 and 10:00 were missed.
  cronLedger.claim('hourly-skip', now - 20 * 60_000 - 4 * hour, 'task-old-1');
  cronLedger.claim('hourly-catch-up', now - 20 * 60_000 - 4 * hour, 'task-old-2');
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([
    job({ id: 'hourly-skip', expression: '0 * * * *' }),
    job({ id: 'hourly-catch-up', expression: '0 * * * *', misfire: 'runOnce' }),
    job({ id: 'never-ran', expression: '0 * * * *', misfire: 'runOnce' }),
  ]);
  scheduler.catchUp();
  t.same(
    fires.map((fire) => [fire.job.id, new Date(fire.scheduledAt).toISOString()]),
    [['hourly-catch-up', '2026-11-25T10:00:00.000Z']],
    'one catch-up run, for the latest missed fire',
  );
  scheduler.catchUp();
  t.equal(fires.length, 1, 'a second catch-up finds the fire claimed');
  t.equal(scheduler.nextFires().get('hourly-skip'), Date.UTC(2026, 10, 25, 11, 0, 0));
});

t.test('delayed_cron_job runs again after each fire, claimed under its own key', async (t) => {
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job({ id: 'with-delay', expression: '*/2 * * * * *', delaysSeconds: [0, 1] })]);
  await sleep(4300);
  scheduler.stop();
  const first = fires.find((fire) => fire.delaySeconds === undefined)!;
  const runs = fires.filter((fire) => fire.scheduledAt === first.scheduledAt);
  t.same(runs.map((fire) => fire.delaySeconds), [undefined, 0, 1], 'the fire, then its runs delayed 0 s and 1 s');
  t.ok(fires.filter((fire) => fire.delaySeconds === undefined).length >= 2);
});
