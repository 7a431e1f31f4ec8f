// The async task queue shared by replicas on BullMQ (issue 17), two or three queue instances
// standing for replicas on one Redis: the bound across them, claims never handed out twice,
// completion, a killed replica's task run again elsewhere with attempt 2, a restarted replica
// taking nothing from live ones, too many attempts ending as a failure, uploads moving with a task.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import t from 'tap';
import { createLogger } from '../src/log.js';
import { ASYNC_QUEUE_NAME, BullmqAsyncQueue } from '../src/redis/bullmq-async-queue.js';
import { RedisTaskRecords } from '../src/redis/redis-task-records.js';
import type { AsyncCall, QueuedTask } from '../src/tasks/ports.js';
import type { TaskRecord } from '../src/model/task-record.js';
import { REDIS_URL, testRedis } from './helpers/redis-test-keys.js';

/** Short locks, so a dead replica's task comes back within a few seconds. */
const LOCK_MS = 1000;
const STALLED_INTERVAL_MS = 500;
const CALL: AsyncCall = { returnType: 'raw', timeoutSeconds: 60 };

const { redis, prefix: filePrefix } = testRedis(t, 'redis-queue');
const uploadsDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-redis-queue-'));
t.teardown(() => rmSync(uploadsDir, { recursive: true, force: true }));
let queues = 0;

/** A fresh queue (its own prefix) and a way to start replicas on it. */
function sharedQueue(t: { teardown(fn: () => Promise<void>): void }) {
  const keyPrefix = `${filePrefix}${++queues}:`;
  const records = new RedisTaskRecords(redis, keyPrefix);
  t.teardown(async () => {
    const queue = new Queue(ASYNC_QUEUE_NAME, { connection: redis, prefix: `${keyPrefix}bull` });
    await queue.obliterate({ force: true });
    await queue.close();
  });
  let replicas = 0;
  const replica = (): { queue: BullmqAsyncQueue; uploadRoot: string } => {
    const uploadRoot = path.join(uploadsDir, `q${queues}-r${++replicas}`);
    const queue = new BullmqAsyncQueue({ redisUrl: REDIS_URL, keyPrefix, records, logger: createLogger('silent'), uploadRoot, lockMs: LOCK_MS, stalledIntervalMs: STALLED_INTERVAL_MS });
    t.teardown(() => queue.close());
    return { queue, uploadRoot };
  };
  return { keyPrefix, records, replica };
}

let counter = 0;
function task(fields: Partial<TaskRecord> = {}): QueuedTask {
  counter++;
  const record: TaskRecord = {
    id: `task-q${counter}-${process.pid}`,
    funcId: 'jobs__work.echo',
    origin: 'asyncAPI',
    originId: 'echo',
    kwargs: { n: counter },
    commit: 'c'.repeat(40),
    triggerTime: Date.now(),
    attempt: 1,
    status: 'queued',
    ...fields,
  };
  return { record, call: CALL };
}

/** Claims from `queue` until it hands out a task or `ms` passed. */
async function claimWithin(queue: BullmqAsyncQueue, ms: number): Promise<QueuedTask | undefined> {
  const giveUp = Date.now() + ms;
  while (Date.now() < giveUp) {
    const [claimed] = await queue.claim(1, Date.now(), 'e'.repeat(40));
    if (claimed !== undefined) return claimed;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

t.test('the bound holds across replicas; claims hand each task out once; complete ends it', async (t) => {
  const { records, replica } = sharedQueue(t);
  const a = replica().queue;
  const b = replica().queue;
  const tasks = Array.from({ length: 7 }, () => task());
  for (const [i, queued] of tasks.slice(0, 6).entries()) t.ok(await (i % 2 === 0 ? a : b).enqueue(queued, 6), `task ${i} accepted`);
  t.notOk(await b.enqueue(tasks[6]!, 6), 'six tasks wait: the other replica refuses the seventh');
  t.equal(await records.get(tasks[6]!.record.id), undefined, 'a refused task leaves no record');
  t.equal(await a.depth(), 6);
  t.match(await records.get(tasks[0]!.record.id), { status: 'queued', attempt: 1 });
  t.ok(await a.holds(tasks[1]!.record.id), 'a waiting task is held');

  const [fromA, fromB] = await Promise.all([a.claim(4, 1234, 'd'.repeat(40)), b.claim(4, 1234, 'd'.repeat(40))]);
  const claimedIds = [...fromA, ...fromB].map((claimed) => claimed.record.id);
  t.equal(claimedIds.length, 6, 'every task claimed');
  t.same([...claimedIds].sort(), tasks.slice(0, 6).map((queued) => queued.record.id).sort(), 'each exactly once');
  t.equal(await a.depth(), 0);
  const first = fromA[0] ?? fromB[0]!;
  t.same(first.call, CALL);
  t.match(first.record, { status: 'running', startTime: 1234, commit: 'd'.repeat(40), attempt: 1 });
  t.match(await records.get(first.record.id), { status: 'running', startTime: 1234, attempt: 1 });
  t.ok(await b.holds(first.record.id), 'a running task is held');
  t.ok(await b.enqueue(tasks[6]!, 6), 'with the others running, a new task is accepted');

  const owner = fromA.includes(first) ? a : b;
  await owner.complete({ ...first.record, status: 'success', endTime: 2000, returnValueJson: '1' });
  t.match(await records.get(first.record.id), { status: 'success', endTime: 2000, returnValueJson: '1' });
  t.notOk(await a.holds(first.record.id), 'a completed task is out of the queue');
  t.notOk(await a.holds('task-never-queued'));
});

t.test('a killed replica’s task runs again on another with attempt 2; a restarted replica takes nothing from live ones', async (t) => {
  const { keyPrefix, records, replica } = sharedQueue(t);
  const survivor = replica().queue;
  await survivor.recoverClaimed(3);
  const doomed = task();
  t.ok(await survivor.enqueue(doomed, 10));

  const holder = spawn(process.execPath, ['--import=tsx', 'test/helpers/redis-queue-holder.ts', REDIS_URL, keyPrefix, path.join(uploadsDir, 'holder'), String(LOCK_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => holder.once('exit', resolve));
  t.teardown(async () => {
    holder.kill('SIGKILL');
    await exited;
  });
  const claimedByHolder = await new Promise<{ id: string; attempt: number }>((resolve) => holder.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString()))));
  t.same(claimedByHolder, { id: doomed.record.id, attempt: 1 });

  // The holder is alive and renews its lock: three lock durations later the task is still its.
  await new Promise((resolve) => setTimeout(resolve, 3 * LOCK_MS));
  t.same(await survivor.claim(1, Date.now(), 'e'.repeat(40)), [], 'a live replica keeps its task');
  const restarted = replica().queue;
  t.same(await restarted.recoverClaimed(3), { requeued: 0, abandoned: 0 }, 'a restart takes back nothing by itself');
  t.same(await restarted.claim(1, Date.now(), 'e'.repeat(40)), []);

  holder.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  const rerun = await claimWithin(survivor, LOCK_MS + 3 * STALLED_INTERVAL_MS + 2000);
  t.ok(rerun, `run again ${Date.now() - killedAt} ms after the kill`);
  t.equal(rerun?.record.id, doomed.record.id);
  t.equal(rerun?.record.attempt, 2, 'its second attempt');
  t.match(await records.get(doomed.record.id), { status: 'running', attempt: 2 });
  await survivor.complete({ ...rerun!.record, status: 'success', endTime: Date.now() });
  t.notOk(await survivor.holds(doomed.record.id));
});

t.test('a task cut on every attempt ends as a failure after the last one', async (t) => {
  const { records, replica } = sharedQueue(t);
  const poison = task();
  let current = replica().queue;
  await current.recoverClaimed(3);
  t.ok(await current.enqueue(poison, 10));
  for (let attempt = 1; attempt <= 3; attempt++) {
    const claimed = await claimWithin(current, LOCK_MS + 3 * STALLED_INTERVAL_MS + 2000);
    t.equal(claimed?.record.attempt, attempt, `attempt ${attempt} started`);
    // This replica stops without completing the task, as a crash would leave it.
    await current.close();
    current = replica().queue;
    await current.recoverClaimed(3);
  }
  const giveUp = Date.now() + LOCK_MS + 3 * STALLED_INTERVAL_MS + 2000;
  const handedOut: QueuedTask[] = [];
  while ((await records.get(poison.record.id))?.status !== 'failure' && Date.now() < giveUp) {
    handedOut.push(...(await current.claim(1, Date.now(), 'e'.repeat(40))));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.same(handedOut, [], 'never handed out a fourth time');
  t.match(await records.get(poison.record.id), { status: 'failure', attempt: 3, exceptionType: 'TooManyAttempts', exceptionText: /each of its 3 attempts/ });
  t.notOk(await current.holds(poison.record.id), 'out of the queue');
  t.equal(await current.depth(), 0);
});

t.test('an upload received by one replica is restored where another runs the task', async (t) => {
  const { records, replica } = sharedQueue(t);
  const receiving = replica();
  const running = replica();
  const queued = task();
  const receivedIn = path.join(receiving.uploadRoot, queued.record.id);
  mkdirSync(path.join(receivedIn, 'sub'), { recursive: true });
  writeFileSync(path.join(receivedIn, 'a.bin'), Buffer.from([0, 1, 2, 255]));
  writeFileSync(path.join(receivedIn, 'sub', 'b.txt'), 'héllo');
  queued.record.kwargs = { files: [{ filePath: path.join(receivedIn, 'a.bin'), originalname: 'a.bin', size: 4 }], x: 1 };
  t.ok(await receiving.queue.enqueue({ record: queued.record, call: { ...CALL, uploadDir: receivedIn } }, 10));
  t.notOk(existsSync(receivedIn), 'the receiving replica’s folder is gone: the job holds the files');

  const [claimed] = await running.queue.claim(1, Date.now(), 'e'.repeat(40));
  const restoredIn = path.join(running.uploadRoot, queued.record.id);
  t.equal(claimed?.call.uploadDir, restoredIn);
  t.same([...readFileSync(path.join(restoredIn, 'a.bin'))], [0, 1, 2, 255]);
  t.equal(readFileSync(path.join(restoredIn, 'sub', 'b.txt'), 'utf8'), 'héllo');
  t.same(claimed?.record.kwargs, { files: [{ filePath: path.join(restoredIn, 'a.bin'), originalname: 'a.bin', size: 4 }], x: 1 }, 'the kwargs name the restored files');
  await running.queue.complete({ ...claimed!.record, status: 'success', endTime: Date.now() });
  t.match(await records.get(queued.record.id), { status: 'success' });
});

t.test('cancel: a waiting task is removed and its record ends cancelled; a claimed one stays claimed', async (t) => {
  const { records, replica } = sharedQueue(t);
  const a = replica().queue;
  const b = replica().queue;
  const [waiting, running] = [task(), task()];
  t.ok(await a.enqueue(running, 10));
  t.ok(await a.enqueue(waiting, 10));
  const [claimed] = await b.claim(1, 1234, 'd'.repeat(40));
  t.equal(claimed?.record.id, running.record.id, 'the oldest is claimed first');
  const reason = { exceptionType: 'TaskCancelled', exceptionText: 'cancelled by an admin' };
  t.equal(await a.cancel(waiting.record.id, 5000, reason), 'cancelled');
  t.match(await records.get(waiting.record.id), { status: 'cancelled', endTime: 5000, ...reason });
  t.notOk(await a.holds(waiting.record.id), 'out of the queue');
  t.same(await b.claim(1, 1234, 'd'.repeat(40)), [], 'never handed out');
  t.equal(await a.cancel(running.record.id, 5000, reason), 'claimedElsewhere', 'a task another replica runs is left to it');
  t.equal(await b.cancel(running.record.id, 5000, reason), 'claimed', 'the replica running it is told so');
  t.match(await records.get(running.record.id), { status: 'running' });
  t.equal(await a.cancel('task-never-queued', 5000, reason), 'absent');
});
