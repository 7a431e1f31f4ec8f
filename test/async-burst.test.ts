// A burst of async tasks against a started gitfunc: every record stays readable for
// tasks.keepSeconds after its task ended, however many came after it; past that the count
// (tasks.keepPerApi) applies again; the byte budget (tasks.maxStoredMB) bounds it all.
// The server's clock is moved instead of waiting an hour. Admin reads first write the trims
// still pending (a task's trim is marked before its end can be seen), so they show them done.
// The later trim once keepSeconds has passed with no task coming is record-retention.test.ts's.
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const BURST = 200;
const KEEP_PER_API = 100;
const KEEP_SECONDS = 3600;

/** A clock the test moves; it starts at the real time. */
function movableClock(): { now(): number; advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

async function status(base: string, taskId: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  await res.arrayBuffer();
  return res.status;
}

async function submit(base: string, init: RequestInit & { query?: string } = {}): Promise<string> {
  const res = await fetch(`${base}/api/v1/async/echo/s${init.query ?? ''}`, init);
  const body = (await res.json()) as { data: { id: string } };
  if (res.status !== 200) throw new Error(`async call answered ${res.status}: ${JSON.stringify(body)}`);
  return body.data.id;
}

/** Submits one more task and waits until it ended (its API's records are trimmed then). */
async function oneMoreTask(base: string): Promise<string> {
  const id = await submit(base, { query: '?last=1' });
  await waitForTask(base, id, ended);
  return id;
}

t.test(`${BURST} async tasks sent at once are all readable for keepSeconds, then trimmed by count`, async (t) => {
  const clock = movableClock();
  const gitfunc = await startGitfunc(
    ['--repo', path.join(FIXTURES, 'tasks')],
    { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN, GITFUNC_TASKS_KEEP_PER_API: String(KEEP_PER_API), GITFUNC_TASKS_KEEP_SECONDS: String(KEEP_SECONDS) },
    { clock },
  );
  t.teardown(() => gitfunc.close());
  const base = gitfunc.url;

  const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => submit(base, { query: `?i=${i}` })));
  t.equal(new Set(burst).size, BURST, 'every call got its own task id');
  for (const [i, id] of burst.entries()) {
    const record = await waitForTask(base, id, ended);
    if (record.status !== 'success' || record.returnValue.i !== String(i)) t.fail(`task ${i} ended as ${record.status}`);
  }
  const afterBurst = await Promise.all(burst.map((id) => status(base, id)));
  t.same(afterBurst.filter((code) => code !== 200), [], `all ${BURST} records readable once the burst ended`);

  clock.advance((KEEP_SECONDS - 60) * 1000);
  const late = await oneMoreTask(base);
  const nearlyAnHour = await Promise.all([...burst, late].map((id) => status(base, id)));
  t.same(nearlyAnHour.filter((code) => code !== 200), [], 'all still readable a minute before keepSeconds, though over keepPerApi');

  clock.advance(120 * 1000);
  const last = await oneMoreTask(base);
  const all = [...burst, late, last];
  const codes = await Promise.all(all.map((id) => status(base, id)));
  const kept = all.filter((_, i) => codes[i] === 200);
  t.equal(kept.length, KEEP_PER_API, `past keepSeconds only ${KEEP_PER_API} are left`);
  t.ok(codes.every((code) => code === 200 || code === 404), 'the others answer 404');
  t.ok(kept.includes(late) && kept.includes(last), 'the newest are among them');
  // Which burst tasks are the newest depends on the order the concurrent calls were queued in:
  // the listing (by queue order) shows the same ones.
  const listed = await adminGet(base, `/api/v1/task-records?origin=asyncAPI&originId=echo&limit=${KEEP_PER_API + 10}`);
  t.same(listed.records.map((r: { id: string }) => r.id).sort(), kept.sort(), 'the listing shows the same ones');
});

t.test('past the byte budget the oldest records go early, with a warning, and the newest stay', async (t) => {
  const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'tasks')], {
    GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
    GITFUNC_TASKS_MAX_STORED_MB: '1',
  });
  t.teardown(() => gitfunc.close());
  const base = gitfunc.url;
  // Each record holds the kwargs and the same echoed back: ~200 KB, five fit in 1 MiB.
  const blob = 'b'.repeat(100 * 1024);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i, blob }) };
    const id = await submit(base, init);
    await waitForTask(base, id, ended);
    ids.push(id);
  }
  const codes = await Promise.all(ids.map((id) => status(base, id)));
  const kept = ids.filter((_, i) => codes[i] === 200);
  t.ok(kept.length >= 3 && kept.length <= 5, `a few records fit in 1 MiB (${kept.length} kept)`);
  t.same(kept, ids.slice(-kept.length), 'the newest ones stay');
  t.match((await adminGet(base, `/api/v1/tasks/${ids.at(-1)}`)).kwargs, { i: 11, blob }, 'whole');
  t.ok(
    gitfunc.logs.some((line) => line.level === 40 && String(line.msg).startsWith('task records deleted before tasks.keepSeconds')),
    'deleting records keepSeconds still held is logged as a warning',
  );
});
