// GET /metrics and GET /api/v1/stats after known calls: exact counts and labels, the route label
// a template, admin only.
import t from 'tap';
import { ADMIN_TOKEN, adminGet, ended, waitForTask } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { postReload, waitUntil } from './helpers/reload-repo.js';
import { startGitfunc } from './helpers/start-gitfunc.js';

function repo(answer: string): Record<string, string> {
  return {
    'gitfunc.yaml': [
      'version: 1',
      'syncAPIs:',
      '  - id: ok',
      '    func: demo__m.ok',
      '  - id: boom',
      '    func: demo__m.boom',
      'asyncAPIs:',
      '  - id: later',
      '    func: demo__m.ok',
      'cronJobs:',
      '  - id: nightly',
      '    func: demo__m.ok',
      '    cron: "30 2 * * *"',
      '',
    ].join('\n'),
    'demo/m.py': [
      "@DFF.API('Ok')",
      'def ok():',
      `    return ${JSON.stringify(answer)}`,
      '',
      "@DFF.API('Boom')",
      'def boom():',
      "    raise ValueError('boom')",
      '',
    ].join('\n'),
  };
}

const git = await startGitServer();
t.teardown(() => git.close());
const work = await createWorkRepo(repo('v1'));
await git.publish('funcs', work.dir);
const gitfunc = await startGitfunc(['--repo', git.url('funcs'), '--ref', 'main', '--poll-seconds', '0'], { GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN });
t.teardown(() => gitfunc.close());
const base = gitfunc.url;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!/^text\/plain; version=0\.0\.4/.test(type)) throw new Error(`GET /metrics: Content-Type ${type}`);
  return parseExposition(await res.text());
}

/** The samples named `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The value of the one sample named `name` with exactly `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const exact = find(samples, name, labels).filter((sample) => Object.keys(sample.labels).length === Object.keys(labels).length);
  if (exact.length > 1) throw new Error(`${exact.length} samples ${name} ${JSON.stringify(labels)}`);
  return exact[0]?.value;
}

const SUCCESSES = 3;
const FAILURES = 2;
const v1 = await work.head();
let v2 = '';

/** GETs `path` and returns its status (the body read, so the connection is reused). */
async function statusOf(path: string): Promise<number> {
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return res.status;
}

// Assertions at the top level would end tap's root test, and with it the server, early.
t.test('known calls, cron runs and reloads', async (t) => {
  for (let i = 0; i < SUCCESSES; i++) t.equal(await statusOf('/api/v1/al/ok'), 200);
  for (let i = 0; i < FAILURES; i++) t.equal(await statusOf('/api/v1/al/boom'), 599);
  const asyncRes = await fetch(`${base}/api/v1/bat/later`, { method: 'POST' });
  const asyncTask = ((await asyncRes.json()) as { data: { id: string } }).data.id;
  t.equal((await waitForTask(base, asyncTask, ended)).status, 'success');
  const cronRes = await fetch(`${base}/api/v1/cron/nightly`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const cronTask = ((await cronRes.json()) as { data: { id: string } }).data.id;
  t.equal((await waitForTask(base, cronTask, ended)).status, 'success');
  for (const path of ['/nope/1', '/nope/2']) t.equal(await statusOf(path), 404);
  await work.commit(repo('v2'), 'v2');
  await git.publish('funcs', work.dir);
  t.match((await postReload(base, true)).data, { result: 'served' });
  v2 = await work.head();
  await work.commit({ 'gitfunc.yaml': 'version: 1\nsyncAPIs:\n  - id: ok\n    func: 42\n' }, 'broken');
  await git.publish('funcs', work.dir);
  t.match((await postReload(base, true)).data, { result: 'failed' });
  t.not(v1, v2);
});

t.test('without the admin token: 401, no metrics', async (t) => {
  const res = await fetch(`${base}/metrics`);
  t.equal(res.status, 401);
  t.notMatch(await res.text(), /gitfunc_calls_total/);
  t.equal((await fetch(`${base}/api/v1/stats`)).status, 401);
});

t.test('/metrics counts exactly what happened', async (t) => {
  const samples = await scrape();
  t.same(
    find(samples, 'gitfunc_calls_total')
      .map(({ labels, value }): Record<string, unknown> => ({ ...labels, value }))
      .sort((a, b) => String(a.api).localeCompare(String(b.api))),
    [
      { api: 'boom', origin: 'syncAPI', status: 'failure', value: FAILURES },
      { api: 'later', origin: 'asyncAPI', status: 'success', value: 1 },
      { api: 'ok', origin: 'syncAPI', status: 'success', value: SUCCESSES },
    ],
  );
  t.equal(valueOf(samples, 'gitfunc_call_duration_seconds_count', { api: 'ok', origin: 'syncAPI' }), SUCCESSES);
  t.equal(valueOf(samples, 'gitfunc_call_duration_seconds_count', { api: 'boom', origin: 'syncAPI' }), FAILURES);
  t.equal(valueOf(samples, 'gitfunc_call_duration_seconds_bucket', { api: 'ok', origin: 'syncAPI', le: '+Inf' }), SUCCESSES);
  t.same(
    find(samples, 'gitfunc_cron_runs_total').map(({ labels, value }) => ({ ...labels, value })),
    [{ job: 'nightly', status: 'success', value: 1 }],
  );
  // The first revision at the start, v2; the broken commit.
  t.equal(valueOf(samples, 'gitfunc_reloads_total', { result: 'served' }), 2);
  t.equal(valueOf(samples, 'gitfunc_reloads_total', { result: 'failed' }), 1);
  t.same(find(samples, 'gitfunc_revision_info').map((sample) => [sample.labels, sample.value]), [[{ commit: v2 }, 1]]);
  t.equal(valueOf(samples, 'gitfunc_async_queue_depth', {}), 0);
  const workers = find(samples, 'gitfunc_workers');
  t.same(workers.map((sample) => sample.labels.state).sort(), ['busy', 'idle', 'retiring', 'starting']);
  t.equal(workers.reduce((sum, sample) => sum + sample.value, 0), 1, 'one worker');
  t.ok(find(samples, 'process_cpu_user_seconds_total').length === 1, 'the process defaults');
  t.ok(find(samples, 'nodejs_eventloop_lag_seconds').length === 1);
});

t.test('request durations are labelled by route template, never by path', async (t) => {
  const samples = await scrape();
  const count = (labels: Record<string, string>) => valueOf(samples, 'http_server_request_duration_seconds_count', labels);
  t.equal(count({ method: 'GET', route: '/api/v1/al/:id', status_code: '200' }), SUCCESSES);
  t.equal(count({ method: 'GET', route: '/api/v1/al/:id', status_code: '599' }), FAILURES);
  t.equal(count({ method: 'POST', route: '/api/v1/bat/:id', status_code: '200' }), 1);
  t.equal(count({ method: 'POST', route: '/api/v1/cron/:id', status_code: '200' }), 1);
  t.equal(count({ method: 'POST', route: '/api/v1/reload', status_code: '200' }), 2);
  t.equal(count({ method: 'GET', route: 'unmatched', status_code: '404' }), 2, 'unknown paths share one label');
  const routes = new Set(find(samples, 'http_server_request_duration_seconds_count').map((sample) => sample.labels.route));
  for (const route of routes) t.notMatch(route, /\/(ok|boom|later|nightly|nope)\b|task-/, `${route} is a template`);
});

t.test('/api/v1/stats matches the counts', async (t) => {
  const stats = await adminGet(base, '/api/v1/stats');
  const byId = Object.fromEntries(stats.apis.map((api: any) => [`${api.kind}:${api.id}`, api]));
  t.match(byId['sync:ok'], { calls: SUCCESSES, errors: 0, p50Ms: Number, p99Ms: Number });
  t.match(byId['sync:boom'], { calls: FAILURES, errors: FAILURES, p50Ms: Number });
  t.match(byId['async:later'], { calls: 1, errors: 0 });
  t.ok(byId['sync:ok'].p50Ms > 0 && byId['sync:ok'].p50Ms <= byId['sync:ok'].p99Ms, 'p50 <= p99');
  t.equal(stats.apis.length, 3);
  t.match(stats.cronJobs, [{ id: 'nightly', runs: 1, failures: 0, lastStatus: 'success', lastRunAt: String }]);
  t.equal(stats.queueDepth, 0);
  t.ok(Date.parse(stats.since) <= Date.now(), 'counted since the server started');
  t.equal(Object.values(stats.workers as Record<string, number>).reduce((a, b) => a + b, 0), 1);
});

t.test('a worker thread that exits unasked counts as a crash restart', async (t) => {
  const { threads } = gitfunc.server.pool.workerStatus();
  gitfunc.server.pool.terminateThread(threads[0]!.threadId);
  let samples: Sample[] = [];
  await waitUntil('counted', async () => {
    samples = await scrape();
    return find(samples, 'gitfunc_worker_restarts_total').length > 0;
  });
  t.same(find(samples, 'gitfunc_worker_restarts_total').map((sample) => [sample.labels, sample.value]), [[{ reason: 'crash' }, 1]]);
});
