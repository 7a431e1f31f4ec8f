// Three gitfunc servers on one Redis share their async queue, records, DFF.CACHE and throttling,
// reload together, and list each other (CONTRACT section 13).
import t from 'tap';
import { adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { servedVersion, waitUntil } from './helpers/reload-repo.js';
import { acceptTask, callSync, githubPush, liveReplicas, replicaRepo, startReplicas } from './helpers/replicas.js';

t.test('three replicas on one Redis', async (t) => {
  // The 300 calls below come at once, 100 to each replica's one worker: past the default 64
  // waiting calls a worker refuses the rest (503.1) whenever it drains slower than they arrive,
  // as on a loaded machine (259 of 300 counted in a CI run). The queue bound is not under test here.
  const replicas = await startReplicas(t, { label: 'replicas-shared', files: replicaRepo('v1'), env: { GITFUNC_SYNC_QUEUE_PER_WORKER: '128' } });
  const urls = replicas.urls();

  t.test('an async task accepted by one runs, and its record reads the same on every replica', async (t) => {
    const ids = await Promise.all(urls.map((url, index) => acceptTask(url, 'hold', { seconds: String(index / 10) })));
    for (const [index, id] of ids.entries()) {
      const record = await waitForTask(urls[(index + 1) % 3]!, id, ended);
      t.match(record, { id, status: 'success', attempt: 1, returnValue: { attempt: 1, version: 'v1' } }, `task accepted by replica ${index}`);
      const everywhere = await Promise.all(urls.map((url) => adminGet(url, `/api/v1/tasks/${id}`)));
      t.same(everywhere[1], everywhere[0]);
      t.same(everywhere[2], everywhere[0], 'the same record on the three');
    }
    const listed = await adminGet(urls[2]!, '/api/v1/task-records?funcId=shared__calls.hold&origin=asyncAPI');
    t.same(listed.records.map((record: { id: string }) => record.id).sort(), [...ids].sort(), 'listed by any replica');
  });

  t.test('300 DFF.CACHE.incr spread over the three read 300', async (t) => {
    const calls = Array.from({ length: 300 }, (_, index) => callSync(urls[index % 3]!, 'incr', { key: 'spread' }).then((res) => res.status));
    const statuses = await Promise.all(calls);
    t.same(statuses.filter((status) => status !== 200), [], 'every call answered 200');
    for (const url of urls) t.equal(await (await callSync(url, 'read', { key: 'spread' })).text(), '300', `${url} reads 300`);
  });

  t.test('a per-second throttle holds across the replicas', async (t) => {
    // Start just after a second boundary so the burst falls in one window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, index) => fetch(`${urls[index % 3]}/api/v1/al/limited`).then((res) => res.status)));
    t.equal(statuses.filter((status) => status === 200).length, 5, '5 calls in the second, wherever they landed');
    t.equal(statuses.filter((status) => status === 429).length, 7, 'the rest refused');
  });

  t.test('status on any replica lists the three, each with its commit and workers', async (t) => {
    for (const url of urls) {
      const listed = await liveReplicas(url);
      t.same(listed.map((replica) => replica.url).sort(), [...urls].sort(), `${url} lists the three`);
    }
    // An entry is rewritten every 2 s: one written as its replica started, before it served, may
    // still say no commit when the replicas start fast.
    await waitUntil('listing every replica with its commit', async () => (await liveReplicas(urls[0]!)).every((replica) => replica.commit !== null), 5000);
    const [first] = await liveReplicas(urls[0]!);
    t.match(first, { id: /^127\.0\.0\.1:\d+:\d+$/, commit: /^[0-9a-f]{40}$/, workers: { count: 1 }, lastReload: { lastFetchError: null } });
  });

  t.test('a webhook to one replica reloads all three', async (t) => {
    const commit = await replicas.publish(replicaRepo('v2'));
    const res = await githubPush(urls[1]!, commit);
    t.equal(res.status, 202);
    await waitUntil('serving v2 everywhere', async () => (await Promise.all(urls.map(servedVersion))).every((version) => version === 'v2'));
    await waitUntil('each heartbeat showing the commit', async () => (await liveReplicas(urls[0]!)).every((replica) => replica.commit === commit), 10_000);
    t.pass('each replica serves the pushed commit, and says so in the status');
  });

  t.test('POST /api/v1/reload to one replica reloads all three', async (t) => {
    const commit = await replicas.publish(replicaRepo('v3'));
    const res = await fetch(`${urls[2]}/api/v1/reload`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token' } });
    t.equal(res.status, 202);
    await waitUntil('serving v3 everywhere', async () => (await Promise.all(urls.map(servedVersion))).every((version) => version === 'v3'));
    await waitUntil('each heartbeat showing the commit', async () => (await liveReplicas(urls[1]!)).every((replica) => replica.commit === commit), 10_000);
    t.pass('each replica fetched and built the commit');
  });

  t.test('a killed replica drops out of the list', async (t) => {
    await replicas.stop(2, 'SIGKILL');
    await waitUntil('two replicas listed', async () => (await liveReplicas(urls[0]!)).length === 2, 15_000);
    t.same((await liveReplicas(urls[1]!)).map((replica) => replica.url).sort(), urls.slice(0, 2).sort());
  });
});
