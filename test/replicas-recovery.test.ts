// Three gitfunc servers on one Redis through restarts and a crash (CONTRACT section 13): each
// cron fire runs once across them while one restarts, and the async tasks of a replica killed
// with -9 run again elsewhere (attempt 2) within 30 s.
import t from 'tap';
import { adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { acceptTask, replicaRepo, startReplicas } from './helpers/replicas.js';

t.test('three replicas through a restart and a crash', async (t) => {
  const replicas = await startReplicas(t, { label: 'replicas-recovery', files: replicaRepo('v1', { cron: true }) });

  t.test('a cron job every second for 20 s, one replica restarted meanwhile: each second runs exactly once', async (t) => {
    const from = Math.ceil(Date.now() / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, 7000));
    await replicas.stop(1, 'SIGTERM');
    await replicas.start(1);
    const until = Math.max(from + 20_000, Math.floor(Date.now() / 1000) * 1000);
    await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 1500));
    const url = replicas.urls()[2]!;
    const { records } = await adminGet(url, '/api/v1/task-records?funcId=shared__calls.tick&origin=cronJob&limit=500');
    const fires = (records as { triggerTime: number; status: string }[]).filter((record) => record.triggerTime >= from && record.triggerTime <= until);
    const seconds = fires.map((record) => record.triggerTime).sort((a, b) => a - b);
    const expected = Array.from({ length: (until - from) / 1000 + 1 }, (_, index) => from + index * 1000);
    t.same(seconds, expected, `every second from ${new Date(from).toISOString()} to ${new Date(until).toISOString()} once`);
    t.ok(fires.every((record) => record.status === 'success'), 'each fire succeeded');
  });

  t.test('kill -9 of a replica running async tasks: none lost, each re-run elsewhere with attempt 2 within 30 s', async (t) => {
    const urls = replicas.urls();
    // One background slot per replica: three tasks of 8 s keep every replica busy with one.
    const ids = await Promise.all([0, 1, 2].map(() => acceptTask(urls[0]!, 'hold', { seconds: '8' })));
    await Promise.all(ids.map((id) => waitForTask(urls[1]!, id, (record) => record.status === 'running')));
    const killedAt = Date.now();
    await replicas.stop(0, 'SIGKILL');
    const records = await Promise.all(ids.map((id) => waitForTask(urls[1]!, id, ended, 60_000)));
    t.ok(records.every((record) => record.status === 'success'), 'every task ended in success');
    const rerun = records.filter((record) => record.attempt === 2);
    t.equal(rerun.length, 1, "the killed replica's task ran again");
    t.match(rerun[0], { returnValue: { attempt: 2 } }, 'and saw attempt 2');
    t.ok(rerun[0].startTime - killedAt < 30_000, `re-run ${rerun[0].startTime - killedAt} ms after the kill`);
    t.ok(records.filter((record) => record.attempt === 1).length === 2, 'the others ran once');
  });
});
