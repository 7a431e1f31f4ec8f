// Replicas while their Redis is out of reach (CONTRACT section 13): sync calls that need no
// Redis are still served, async calls are refused with 503.4 and Retry-After rather than lost,
// /readyz says why it is not ready; once Redis is back every server reconnects by itself, says
// so in its log, and every task accepted before ends.
import t from 'tap';
import { ended, waitForTask } from './helpers/admin-client.js';
import { startPrivateRedis } from './helpers/private-redis.js';
import { waitUntil } from './helpers/reload-repo.js';
import { acceptTask, callSync, replicaRepo, startReplicas } from './helpers/replicas.js';

t.test('Redis stopped and started again under two replicas', async (t) => {
  const redis = await startPrivateRedis(t);
  const replicas = await startReplicas(t, { label: 'replicas-outage', files: replicaRepo('v1'), redisUrl: redis.url, count: 2 });
  const urls = replicas.urls();

  const accepted = await Promise.all(Array.from({ length: 6 }, (_, index) => acceptTask(urls[index % 2]!, 'hold', { seconds: '1' })));
  await redis.stop();

  for (const url of urls) {
    const sync = await callSync(url, 'version', {});
    t.equal(sync.status, 200, 'a sync call needing no Redis is served');
    t.equal(await sync.text(), 'v1');
  }
  const refused = await fetch(`${urls[0]}/api/v1/bat/hold`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kwargs":{}}' });
  t.equal(refused.status, 503, 'an async call is refused');
  t.equal(refused.headers.get('retry-after'), '5');
  t.match(await refused.json(), { ok: false, error: 503.4, reason: 'ESharedStoreUnavailable' });
  const throttled = await callSync(urls[1]!, 'limited', {});
  t.equal(throttled.status, 503, 'a sync API with throttling needs Redis: refused too');
  t.match(await throttled.json(), { error: 503.4 });
  await waitUntil('not ready', async () => (await fetch(`${urls[1]}/readyz`)).status === 503, 10_000);
  t.match(await (await fetch(`${urls[1]}/readyz`)).json(), { ok: false, phase: 'redis-unreachable' });
  t.ok(replicas.procs.every((proc) => proc.logs.some((line) => line.msg === 'redis connection lost' && line.level === 40)), 'each logged the outage');

  await redis.start();
  for (const url of urls) await waitUntil(`${url} ready again`, async () => (await fetch(`${url}/readyz`)).status === 200, 20_000);
  await waitUntil('each logged the reconnection', async () => replicas.procs.every((proc) => proc.logs.some((line) => line.msg === 'redis reconnected')), 10_000);
  t.pass('each logged the reconnection');
  const outageLogs = replicas.procs[0]!.logs.filter((line) => line.msg === 'redis connection lost' && line.role === 'stores');
  t.equal(outageLogs.length, 1, 'the outage logged once per client, not at every retry');

  const records = await Promise.all(accepted.map((id, index) => waitForTask(urls[(index + 1) % 2]!, id, ended, 60_000)));
  t.ok(records.every((record) => record.status === 'success'), 'every task accepted before the outage ran');
  const after = await acceptTask(urls[1]!, 'hold', { seconds: '0' });
  t.match(await waitForTask(urls[0]!, after, ended), { status: 'success' }, 'async calls are accepted again');
});
