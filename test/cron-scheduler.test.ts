// The cron scheduler (toad-scheduler's CronJob on croner) with a real SQLite ledger, on fake
// timers and a fake Date (@sinonjs/fake-timers), so seconds pass at once and a held event loop
// is reproducible: one run per scheduled second across reloads, once across two schedulers
// sharing a ledger (replicas), catch-up after downtime only for `misfire: runOnce`, and delayed
// runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import FakeTimers, { type Clock as FakeClock } from '@sinonjs/fake-timers';
import t, { type Test } from 'tap';
import { createLogger } from '../src/log.js';
import { type CronFire, CronScheduler } from '../src/schedule/cron-scheduler.js';
import { openSqliteStorage } from '../src/tasks/sqlite/index.js';
import type { CronJobSpec } from '../src/model/cron-job.js';
import { type Clock, systemClock } from '../src/model/clock.js';

const logger = createLogger('silent');

/**
 * Fakes the timers croner, toad-scheduler and the scheduler use, and Date (croner reads
 * `new Date()`, systemClock `Date.now()`), for one test, from a fixed instant 300 ms into a
 * second unless told. `tickAsync` lets time pass; `jump` holds the event loop (overdue timers run once, late).
 */
function fakeTime(t: Test, now = Date.UTC(2026, 10, 25, 10, 0, 0, 300)): FakeClock {
  const clock = FakeTimers.install({
    now,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  t.teardown(() => clock.uninstall());
  return clock;
}

/**
 * Moves Date on to `at` without running any timer, as when the event loop is held: a timer that
 * was due in between runs later (sinon shifts pending timers by the same amount).
 */
function holdLoopUntil(clock: FakeClock, at: number): void {
  clock.setSystemTime(at);
}

/** Lets the fires' ledger claims (promises, not timers) settle, so the claimed fires have run. */
const claimsSettled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const isoSeconds = (fires: CronFire[]): string[] => fires.map((fire) => new Date(fire.scheduledAt).toISOString());

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
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job()]);
  const heldSeconds: number[] = [];
  for (let reload = 0; reload < 5; reload++) {
    await clock.tickAsync(900 + reload * 70); // lands at varied points of the second
    // Odd reloads land just after a second began, before the timer for it could run (the event
    // loop is held here): the second must still run, once, and on the new spec.
    if (reload % 2 === 1) {
      const second = Math.ceil(Date.now() / 1000) * 1000;
      holdLoopUntil(clock, second + 10);
      heldSeconds.push(second);
    }
    scheduler.replace([job({ kwargs: { reload } })]);
  }
  await clock.tickAsync(1100);
  scheduler.stop();
  t.same(isoSeconds(fires), [1, 2, 3, 4, 5, 6, 7, 8].map((second) => new Date(Date.UTC(2026, 10, 25, 10, 0, second)).toISOString()));
  assertEverySecondOnce(t, fires.map((fire) => fire.scheduledAt));
  t.same(new Set(fires.map((fire) => fire.taskId)).size, fires.length, 'each run has its own task id');
  for (const [i, second] of heldSeconds.entries()) {
    t.same(fires.find((fire) => fire.scheduledAt === second)?.job.kwargs, { reload: 2 * i + 1 }, `${new Date(second).toISOString()} ran on the reloaded spec`);
  }
});

t.test('seconds a stalled event loop held back still run, each once, in order', async (t) => {
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job()]);
  await clock.tickAsync(1200); // the middle of a second, after one fire
  t.same(isoSeconds(fires), ['2026-11-25T10:00:01.000Z']);
  clock.jump(2600); // holds the loop across the timers of three seconds: croner's runs once, late
  await claimsSettled();
  t.same(isoSeconds(fires).slice(1), ['2026-11-25T10:00:02.000Z', '2026-11-25T10:00:03.000Z', '2026-11-25T10:00:04.000Z'], 'the held-back seconds, when the late timer runs');
  await clock.tickAsync(1200);
  scheduler.stop();
  t.equal(fires.length, 5, 'and the next second on time');
  assertEverySecondOnce(t, fires.map((fire) => fire.scheduledAt));
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
  await claimsSettled();
  const seconds = fires.map((fire) => [fire.job.id, new Date(fire.scheduledAt).toISOString()]);
  t.equal(seconds.length, 60, 'the last 60 s of the unchanged job; nothing for the rescheduled one');
  t.same(seconds[0], ['every-second', '2026-11-25T10:00:31.000Z']);
  t.same(seconds.at(-1), ['every-second', '2026-11-25T10:01:30.000Z']);
});

t.test('a reload stops the timers of removed jobs and moves rescheduled ones', async (t) => {
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const fires: string[] = [];
  const run = (fire: CronFire): void => void fires.push(`${fire.job.id} ${new Date(fire.scheduledAt).toISOString().slice(17, 19)}`);
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job({ id: 'stays' }), job({ id: 'goes' }), job({ id: 'moves' })]);
  await clock.tickAsync(1000);
  t.same(fires.splice(0), ['stays 01', 'goes 01', 'moves 01']);
  scheduler.replace([job({ id: 'stays' }), job({ id: 'moves', expression: '*/2 * * * * *' })]);
  await clock.tickAsync(3000);
  t.same(fires.sort(), ['moves 02', 'moves 04', 'stays 02', 'stays 03', 'stays 04']);
  t.same([...scheduler.nextFires().keys()], ['stays', 'moves']);
});

t.test('a revision with a bad cron expression leaves the running schedule as it was', async (t) => {
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job()]);
  const timers = clock.countTimers();
  t.throws(() => scheduler.replace([job({ id: 'other' }), job({ id: 'bad', expression: '61 * * * *' })]));
  t.equal(clock.countTimers(), timers, 'no timer started or stopped');
  await clock.tickAsync(2000);
  t.same(isoSeconds(fires), ['2026-11-25T10:00:01.000Z', '2026-11-25T10:00:02.000Z']);
  t.same([...scheduler.nextFires().keys()], ['every-second']);
});

t.test('two schedulers sharing one ledger (two replicas) run each fire once', async (t) => {
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const fires: [string, number][] = [];
  const schedulers = ['a', 'b'].map(
    (name) => new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run: (fire) => fires.push([name, fire.scheduledAt]) }),
  );
  for (const scheduler of schedulers) {
    t.teardown(() => scheduler.stop());
    scheduler.replace([job()]);
  }
  await clock.tickAsync(3200);
  for (const scheduler of schedulers) scheduler.stop();
  t.equal(fires.length, 3);
  assertEverySecondOnce(t, fires.map(([, at]) => at));
});

t.test('fires missed while down: skipped, unless the job says misfire: runOnce', async (t) => {
  const { cronLedger } = storage(t);
  const hour = 3_600_000;
  const now = Date.UTC(2026, 10, 25, 10, 20, 0);
  const clock: Clock = { now: () => now };
  // Both jobs last fired at 06:00; 07:00, 08:00, 09:00 and 10:00 were missed.
  await cronLedger.claim('hourly-skip', now - 20 * 60_000 - 4 * hour, 'task-old-1');
  await cronLedger.claim('hourly-catch-up', now - 20 * 60_000 - 4 * hour, 'task-old-2');
  const fires: CronFire[] = [];
  const scheduler = new CronScheduler({ ledger: cronLedger, clock, logger, run: (fire) => fires.push(fire) });
  t.teardown(() => scheduler.stop());
  scheduler.replace([
    job({ id: 'hourly-skip', expression: '0 * * * *' }),
    job({ id: 'hourly-catch-up', expression: '0 * * * *', misfire: 'runOnce' }),
    job({ id: 'never-ran', expression: '0 * * * *', misfire: 'runOnce' }),
  ]);
  await scheduler.catchUp();
  t.same(
    fires.map((fire) => [fire.job.id, new Date(fire.scheduledAt).toISOString()]),
    [['hourly-catch-up', '2026-11-25T10:00:00.000Z']],
    'one catch-up run, for the latest missed fire',
  );
  await scheduler.catchUp();
  t.equal(fires.length, 1, 'a second catch-up finds the fire claimed');
  t.equal(scheduler.nextFires().get('hourly-skip'), Date.UTC(2026, 10, 25, 11, 0, 0));
});

t.test('delayed_cron_job runs again after each fire, claimed under its own key', async (t) => {
  const clock = fakeTime(t);
  const { cronLedger } = storage(t);
  const runs: [string, number | undefined, string][] = [];
  const at = (ms: number): string => new Date(ms).toISOString().slice(11, 23);
  const run = (fire: CronFire): void => void runs.push([at(fire.scheduledAt), fire.delaySeconds, at(Date.now())]);
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job({ id: 'with-delay', expression: '*/2 * * * * *', delaysSeconds: [0, 1] })]);
  await clock.tickAsync(4300);
  scheduler.stop();
  t.same(
    runs,
    [
      ['10:00:02.000', undefined, '10:00:02.000'],
      ['10:00:02.000', 0, '10:00:02.001'],
      ['10:00:02.000', 1, '10:00:03.000'],
      ['10:00:04.000', undefined, '10:00:04.000'],
      ['10:00:04.000', 0, '10:00:04.001'],
    ],
    '[fire, delay, ran at]: each fire, then its runs delayed 0 s (a timer of 0, which Node runs after 1 ms) and 1 s; stop() cancels the one still waiting',
  );
  t.same(await cronLedger.lastFire('with-delay+1s'), Date.UTC(2026, 10, 25, 10, 0, 2), 'claimed under job+1s');
});

t.test('across daylight-saving changes the timers wake at the fire times FireTimes gives', async (t) => {
  // croner 10 (toad-scheduler's own dependency) woke the Berlin jobs below at 01:30Z and missed
  // 01:00Z in October, while FireTimes (croner 11) owed those fires 30 and 60 min earlier: fires
  // dropped as too late. One croner makes the timers and the fire times agree.
  const clock = fakeTime(t, Date.UTC(2026, 2, 29, 0, 59, 0));
  const { cronLedger } = storage(t);
  const runs: string[] = [];
  const run = (fire: CronFire): void => void runs.push(`${fire.job.id} ${new Date(fire.scheduledAt).toISOString()} ran ${new Date().toISOString()}`);
  const scheduler = new CronScheduler({ ledger: cronLedger, clock: systemClock, logger, run });
  t.teardown(() => scheduler.stop());
  scheduler.replace([job({ id: 'nightly', expression: '30 2 * * *', timezone: 'Europe/Berlin' })]);
  await clock.tickAsync(120_000); // 02:30 does not exist on 2026-03-29: it fires at 03:00 CEST
  t.same(runs, ['nightly 2026-03-29T01:00:00.000Z ran 2026-03-29T01:00:00.000Z']);
  runs.length = 0;
  clock.setSystemTime(Date.UTC(2026, 9, 24, 23, 59, 0));
  scheduler.replace([job({ id: 'hourly', expression: '0 * * * *', timezone: 'Europe/Berlin' })]);
  await clock.tickAsync(62 * 60_000); // 02:00 happens twice on 2026-10-25 (00:00Z, 01:00Z): an hourly job fires on both
  t.same(runs, ['00', '01'].map((hour) => `hourly 2026-10-25T${hour}:00:00.000Z ran 2026-10-25T${hour}:00:00.000Z`));
});

t.test("toad-scheduler's timers and FireTimes use one croner", async (t) => {
  const resolveFrom = (from: string): string => createRequire(from).resolve('croner');
  t.equal(resolveFrom(createRequire(import.meta.url).resolve('toad-scheduler')), resolveFrom(import.meta.url), 'package.json overrides keep a single croner');
});
