// The redis, datakit and dataway connector types (CONTRACT section 12): their clients against the
// real Redis on 127.0.0.1:6379 and a DataKit stand-in, then DFF's helper methods in a real worker,
// through its bridge to the same clients (a test `conn.run` stands in for the connector registry).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConnectorDriverError, type ConnectorClient } from '../src/connectors/connector-client.js';
import { createDatakitConnector, createDatawayConnector } from '../src/connectors/line-protocol-connector.js';
import { createRedisConnector } from '../src/connectors/redis-connector.js';
import { createLogger } from '../src/log.js';
import { BridgePeer } from '../src/runtime/bridge/bridge-server.js';
import { WorkerPool } from '../src/runtime/pool.js';
import { QUERY_ANSWER, startDatakitStandIn } from './helpers/datakit-stand-in.js';
import { listenOnLoopback, portOf } from './helpers/loopback.js';
import { callInPool } from './helpers/pool-call.js';
import { sharedSnapshot } from './helpers/shared-snapshot.js';

const PREFIX = `gitfunc-test:connkv:${process.pid}:${Date.now()}:`;
const TOKEN = 'tkn_0123456789abcdef0123456789abcdef';
const logger = createLogger('silent');

/** What the registry gives a factory: the connector's id and the server's logger. */
function context(id: string): { id: string; logger: typeof logger } {
  return { id, logger };
}

/** A port of 127.0.0.1 nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const standIn = await startDatakitStandIn(t);
const downPort = await closedPort();
const clients: Record<string, ConnectorClient> = {
  redis: createRedisConnector({ host: '127.0.0.1', port: 6379 }, context('redis')),
  redisDown: createRedisConnector({ host: '127.0.0.1', port: downPort }, context('redisDown')),
  dk: createDatakitConnector({ host: '127.0.0.1', port: standIn.port }, context('dk')),
  dw: createDatawayConnector({ host: '127.0.0.1', port: standIn.port, token: TOKEN }, context('dw')),
};
const peer = new BridgePeer();
const run = (id: string, op: string, args: unknown[], timeoutMs = 5_000): Promise<unknown> => clients[id]!.run({ op, args, timeoutMs, peer });
const redis = (...args: unknown[]): Promise<unknown> => run('redis', 'command', args);

t.teardown(async () => {
  let cursor = '0';
  do {
    const [next, keys] = (await redis('SCAN', cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)) as [string, string[]];
    if (keys.length > 0) await redis('DEL', ...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all(Object.values(clients).map((client) => client.close()));
});

/** The ConnectorDriverError `promise` rejects with. */
async function driverError(promise: Promise<unknown>): Promise<{ message: string; code: unknown }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorDriverError)) throw new Error(`expected a ConnectorDriverError, got ${String(error)}`);
  return { message: error.message, code: error.data['driverCode'] };
}

t.test('redis: any command; replies as JSON (text, integers, nested arrays, null)', async (t) => {
  t.equal(await redis('set', `${PREFIX}s`, 'héllo'), 'OK');
  t.equal(await redis('GET', `${PREFIX}s`), 'héllo');
  t.equal(await redis('GET', `${PREFIX}missing`), null);
  t.equal(await redis('INCRBY', `${PREFIX}n`, 41), 41, 'a number argument is sent as text; the integer reply stays an integer');
  t.same(await redis('EVAL', 'return {1, "a", {2, {"b"}}}', 0), [1, 'a', [2, ['b']]]);
  await redis('HSET', `${PREFIX}h`, 'f1', 'v1', 'f2', 'v2');
  t.same(await redis('hgetall', `${PREFIX}h`), ['f1', 'v1', 'f2', 'v2'], "Redis' flat field-value reply, not ioredis' object");
});

t.test("redis: an error reply carries Redis' message and code", async (t) => {
  t.match(await driverError(redis('LPUSH', `${PREFIX}s`, 'x')), { message: /^WRONGTYPE Operation against a key holding the wrong kind of value/, code: 'WRONGTYPE' });
  t.match(await driverError(redis('NOSUCHCOMMAND')), { message: /^ERR unknown command/, code: 'ERR' });
  t.match(await driverError(redis('SELECT', 2)), { message: "redis: SELECT is not available on a connector's shared connection" });
  t.match(await driverError(redis('SUBSCRIBE', 'x')), { message: /SUBSCRIBE is not available/ });
  t.match(await driverError(redis('SET', `${PREFIX}x`, { a: 1 })), { message: 'redis: SET arguments must be strings or numbers' });
});

t.test("redis: a blocking command waits on its own connection and ends at the call's deadline", async (t) => {
  const started = Date.now();
  const blocked = driverError(run('redis', 'command', ['BLPOP', `${PREFIX}empty`, 0], 400));
  t.equal(await redis('GET', `${PREFIX}s`), 'héllo', 'the shared connection answers meanwhile');
  t.match(await blocked, { code: 'TIMEOUT', message: /BLPOP got no answer before the call's deadline/ });
  t.ok(Date.now() - started < 2_000);
  await redis('RPUSH', `${PREFIX}list`, 'a');
  t.same(await redis('BLPOP', `${PREFIX}list`, 1), [`${PREFIX}list`, 'a']);
});

t.test('redis: a Redis that is not there fails each command at once, with where it tried', async (t) => {
  for (const attempt of [1, 2]) {
    const started = Date.now();
    t.same(await driverError(run('redisDown', 'command', ['GET', 'k'])), { message: `redis: cannot connect to 127.0.0.1:${downPort} (ECONNREFUSED)`, code: 'ECONNREFUSED' }, `attempt ${attempt}`);
    t.ok(Date.now() - started < 1_000, 'no waiting for the deadline');
  }
});

t.test('redis: a refused login says so, never with the password', async (t) => {
  const client = createRedisConnector({ host: '127.0.0.1', port: 6379, user: `nobody-${process.pid}`, password: 'pw-Secret-4711' }, context('nobody'));
  t.teardown(() => client.close());
  const error = await driverError(client.run({ op: 'command', args: ['PING'], timeoutMs: 5_000, peer }));
  t.match(error, { message: /^redis: 127\.0\.0\.1:6379 refused the connection: WRONGPASS/, code: 'WRONGPASS' });
  t.notMatch(error.message, /pw-Secret-4711/);
});

t.test('redis: close() quits the connection; the client refuses afterwards', async (t) => {
  const client = createRedisConnector({ port: 6379 }, context('defaults'));
  const id = (await client.run({ op: 'command', args: ['CLIENT', 'ID'], timeoutMs: 5_000, peer })) as number;
  t.match(await redis('CLIENT', 'LIST', 'ID', id), /id=\d+/);
  await client.close();
  // The server drops the client right after answering its QUIT.
  let listed = await redis('CLIENT', 'LIST', 'ID', id);
  for (let i = 0; listed !== '' && i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    listed = await redis('CLIENT', 'LIST', 'ID', id);
  }
  t.equal(listed, '', 'the server no longer has it');
  t.match(await driverError(client.run({ op: 'command', args: ['PING'], timeoutMs: 5_000, peer })), { code: 'CONNECTION_CLOSED' });
});

t.test('datakit: writes line protocol to /v1/write/<category>; queries /v1/query/raw', async (t) => {
  standIn.requests.length = 0;
  t.same(await run('dk', 'write', ['metric', 'cpu,host=a usage=1.5 1700000000000000000', null]), [200, {}]);
  t.same(await run('dk', 'write', ['logging', 'app message="x" 1700000000000000000', 'my-input']), [200, {}]);
  const [metric, logging] = standIn.requests;
  t.match(metric, { method: 'POST', path: '/v1/write/metric', headers: { 'content-type': 'text/plain' }, body: 'cpu,host=a usage=1.5 1700000000000000000' });
  t.equal(metric!.query.toString(), 'input=datakit-python-sdk', "DFF's SDK names itself as DataKit's input");
  t.equal(logging!.query.get('input'), 'my-input');
  t.same(await run('dk', 'query', [{ queries: [{ query: 'M::cpu' }], mask_visible: true }]), [200, QUERY_ANSWER]);
  t.match(standIn.requests[2], { path: '/v1/query/raw', headers: { 'content-type': 'application/json' } });
  t.same(JSON.parse(standIn.requests[2]!.body), { queries: [{ query: 'M::cpu' }], mask_visible: true });
  t.match(await driverError(run('dk', 'write', ['metric/../x', 'a b=1i 1', null])), { message: /a category is letters, digits/ });
});

t.test('datakit, dataway: an error status raises with the answer; failures are clear and never show the token', async (t) => {
  t.same(await driverError(run('dk', 'write', ['metric', 'rejected x=1i 1', null])), {
    message: `POST http://127.0.0.1:${standIn.port}/v1/write/metric failed. Status Code: 400, Response: {"error_code":"datakit.invalidLinePoint","message":"invalid line protocol"}`,
    code: 400,
  });
  const refused = await driverError(createDatawayConnector({ port: downPort, token: TOKEN }, context('dwDown')).run({ op: 'write', args: ['metric', 'a x=1i 1', null], timeoutMs: 5_000, peer }));
  t.same(refused, { message: `POST http://127.0.0.1:${downPort}/v1/write/metric failed. Error: connect ECONNREFUSED 127.0.0.1:${downPort}`, code: 'ECONNREFUSED' });
  const rejected = await driverError(run('dw', 'write', ['metric', 'rejected x=1i 1', null]));
  t.equal(rejected.code, 400);
  t.notMatch(rejected.message, TOKEN);
  // Reads what it is sent (so it sees the client go) and never answers.
  const silent = await listenOnLoopback(t, createServer((socket) => socket.resume()));
  const started = Date.now();
  const slow = createDatakitConnector({ port: portOf(silent) }, context('slow'));
  t.teardown(() => slow.close());
  t.match(await driverError(slow.run({ op: 'write', args: ['metric', 'a x=1i 1', null], timeoutMs: 300, peer })), { code: 'TIMEOUT', message: /got no answer before the call's deadline \(300 ms\)/ });
  t.ok(Date.now() - started < 2_000);
});

t.test("dataway: the connector's token goes with every request; large bodies are gzipped", async (t) => {
  standIn.requests.length = 0;
  const big = Array.from({ length: 600 }, (_, i) => `m,host=h${i} value=${i}i 1700000000000000000`).join('\n');
  t.same(await run('dw', 'write', ['metric', big, null]), [200, {}]);
  await run('dw', 'write', ['logging', 'small x=1i 1', null]);
  t.same(await run('dw', 'query', [{ queries: [{ query: 'L::app' }] }]), [200, QUERY_ANSWER]);
  const [gzipped, plain, query] = standIn.requests;
  t.equal(gzipped!.query.toString(), `token=${TOKEN}`, 'no DataKit input on a DataWay');
  t.equal(gzipped!.headers['content-encoding'], 'gzip');
  t.equal(gzipped!.body, big, 'the stand-in read it back whole');
  t.equal(plain!.headers['content-encoding'], undefined, 'a small body is sent as it is');
  t.equal(query!.query.get('token'), TOKEN);
  t.same(JSON.parse(query!.body), { queries: [{ query: 'L::app' }], token: TOKEN });
  const tokenless = createDatawayConnector({ port: standIn.port }, context('tokenless'));
  t.match(await driverError(tokenless.run({ op: 'query', args: [{ queries: [] }], timeoutMs: 5_000, peer })), { message: 'No Workspace Token specified.' });
});

// ---- DFF's helper methods in a real worker, through its bridge ----

function makeRevision(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-connkv-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const REDIS_SCRIPT = `
import time
from gitfunc_conn_redis import RedisHelper
from gitfunc_connector_bridge import ConnectorError

@DFF.API('redis methods')
def redis_methods():
    r = RedisHelper('redis')
    p = DFF.ENV('PREFIX')
    out = {}
    out['set'] = [r.set(p + 'a', 'one'), r.set(p + 'a', 'two', not_exists=True), r.get(p + 'a')]
    out['set_ex'] = [r.set(p + 'ex', 'v', expires=60), 55 <= r.ttl(p + 'ex') <= 60]
    out['old_value'] = repr(r.set(p + 'a', 'three', get_old_value=True))
    out['incr'] = [r.incr(p + 'n'), r.incr(p + 'n'), r.incrby(p + 'n', 5), r.get(p + 'n')]
    out['query'] = [repr(r.query('get', p + 'a')), r.run('SET', p + 'f', 1.5), r.get(p + 'f'), r.query('exists', p + 'a'), r.query('delete', p + 'f')]
    r.query('setbit', p + 'b1', 0, 1); r.query('setbit', p + 'b1', 1, 1); r.query('setbit', p + 'b1', 2, 1)
    r.query('setbit', p + 'b2', 1, 1); r.query('setbit', p + 'b2', 2, 1); r.query('setbit', p + 'b2', 3, 1)
    out['bits'] = [r.bitop('AND', p + 'and', p + 'b1', p + 'b2'), r.bitcount(p + 'and'), r.bitop('OR', p + 'or', p + 'b1', p + 'b2'), r.bitcount(p + 'or'), r.bitcount(p + 'or', 1, 1)]
    out['hash'] = [r.hset(p + 'h', 'f1', 'v1'), r.hset(p + 'h', field_values={'f2': 2, 'f3': 'v3'}), r.hget(p + 'h', 'f2'), r.hgetall(p + 'h'), r.hmget(p + 'h', ['f1', 'nope']), r.hincrby(p + 'h', 'f2', 3), r.hdel(p + 'h', ['f1', 'f3']), sorted(r.hkeys(p + 'h'))]
    out['list'] = [r.lpush(p + 'l', ['x', 'y']), r.rpush(p + 'l', 'z'), r.llen(p + 'l'), r.lrange(p + 'l'), r.rpop(p + 'l'), r.lpop(p + 'l', 2), r.llen(p + 'l')]
    started = time.time()
    out['blpop'] = [r.blpop(p + 'nothing', timeout=0.1), r.push(p + 'q', 'job'), r.bpop(p + 'q', timeout=1), time.time() - started < 2]
    out['set_type'] = [r.sadd(p + 'set', ['m1', 'm2']), sorted(r.smembers(p + 'set')), r.sismember(p + 'set', 'm1'), r.type(p + 'set'), r.type(p + 'nothing')]
    out['zset'] = [r.zadd(p + 'z', {'low': 1, 'high': 2.5}), repr(r.zrange(p + 'z', with_scores=True)), repr(r.zrange(p + 'z', reverse=True))]
    out['keys'] = [sorted(r.keys(p + '[ab]*')), r.exists(p + 'a'), r.delete([p + 'a', p + 'b1']), r.exists(p + 'a'), r.mget([p + 'n', p + 'a'])]
    out['lock'] = [r.lock(p + 'lock', 'me', 30), r.lock(p + 'lock', 'other', 30), r.unlock(p + 'lock', 'other'), r.unlock(p + 'lock', 'me')]
    out['info'] = 'redis_version' in r.info()
    return out

@DFF.API('redis errors')
def redis_errors():
    p = DFF.ENV('PREFIX')
    out = {}
    try:
        RedisHelper('redis').lpush(p + 'n', 'x')
    except ConnectorError as e:
        out['wrongtype'] = [type(e).__name__, e.code, str(e)]
    started = time.time()
    try:
        RedisHelper('redisDown').get('k')
    except ConnectorError as e:
        out['down'] = [e.code, str(e), time.time() - started < 1]
    try:
        RedisHelper('redis').set(p + 'x', None)
    except TypeError as e:
        out['bad_value'] = str(e)
    return out
`;

const DATAKIT_SCRIPT = `
from gitfunc_conn_datakit import DataKitHelper, DataWayHelper
from gitfunc_connector_bridge import ConnectorError

@DFF.API('datakit writes')
def datakit_writes():
    dk = DataKitHelper('dk')
    out = {}
    out['metric'] = dk.write_metric('cpu load,x', tags={'host name': 'a b,c=d', 'empty': '', 'z': 'last'}, fields={'usage': 1.5, 'whole': 2.0, 'count': 3, 'ok': True, 'note': 'say "hi" \\\\ bye', 'nothing': None, 'tags': [1, 2]}, timestamp=1700000000)
    out['logging_many'] = dk.write_logging_many([
        {'measurement': 'app', 'tags': {'level': 'info'}, 'fields': {'message': 'line one\\nline two'}, 'timestamp': 1700000000123},
        {'measurement': 'app', 'fields': {'message': 'no tags'}, 'timestamp': 1700000000.9},
    ])
    out['by_category_many'] = dk.write_by_category_many('custom_object', [{'measurement': 'host', 'tags': {'name': 'web1'}, 'fields': {'cpu': 4}, 'timestamp': 1700000000123456}] * 150)
    out['query'] = dk.query('M::cpu LIMIT 1')
    out['query_dict'] = dk.query('M::cpu', dict_output=True)
    out['query_raw'] = dk.query('M::cpu', raw=True, time_range=[1, 2])
    try:
        dk.write_metric('rejected', tags={}, fields={'x': 1})
    except ConnectorError as e:
        out['rejected'] = [e.code, str(e)]
    try:
        dk.write_metric('m', tags={'n': 1}, fields={'x': 1})
    except TypeError as e:
        out['bad_tag'] = str(e)
    try:
        dk.write_metric('m', fields={'x': [1, 'a']})
    except TypeError as e:
        out['mixed_array'] = str(e)
    dw = DataWayHelper('dw')
    out['dataway'] = [dw.write_metric('dw_metric', tags={'t': 'v'}, fields={'f': 1}, timestamp=1700000000), dw.query('L::app', raw=True)[0]]
    return out
`;

const dir = makeRevision({ 'demo/kv.py': REDIS_SCRIPT, 'demo/lines.py': DATAKIT_SCRIPT });
// The scripts' keys apart from the keys above (still under PREFIX, so the teardown deletes them).
const PY_PREFIX = `${PREFIX}py:`;
const revision = { id: 'c'.repeat(40), dir, env: { PREFIX: PY_PREFIX } };
const snapshot = sharedSnapshot(t);
const pool = new WorkerPool({ workers: 1, timeoutGraceMs: 500, maxQueue: 10, snapshot: snapshot.source }, logger);
snapshot.prepare();
t.teardown(() => pool.close());
// What the connector registry will do: route a script's `conn.run` to the connector it names.
pool.bridge.register('conn.run', (args, from) => {
  const { id, op, args: opArgs } = args as { id: string; op: string; args: unknown[] };
  return clients[id]!.run({ op, args: opArgs, timeoutMs: 5_000, peer: from });
});

async function callScript(funcId: string): Promise<any> {
  const result = await callInPool(pool, revision, [revision.id], funcId);
  if (result.kind !== 'json') throw new Error(JSON.stringify(result));
  return JSON.parse(result.body);
}

t.test("RedisHelper: DFF's methods, returning what DFF returns", async (t) => {
  const out = await callScript('demo__kv.redis_methods');
  t.same(out.set, [true, null, 'one'], 'SET is True, None when NX keeps the value; GET decoded');
  t.same(out.set_ex, [true, true], 'SET with expires sets a TTL');
  t.equal(out.old_value, "b'one'", 'get_old_value returns the old value as redis-py does: bytes');
  t.same(out.incr, [1, 2, 7, '7']);
  t.same(out.query, ["b'three'", true, '1.5', 1, 1], 'query returns redis-py replies: bytes, True for OK; a float argument is sent as repr(); delete is DEL');
  t.same(out.bits, [1, 2, 1, 4, 0], 'BITOP answers the length of the result; BITCOUNT counts its set bits');
  t.same(out.hash, [1, 2, '2', { f1: 'v1', f2: '2', f3: 'v3' }, { f1: 'v1', nope: null }, 5, 2, ['f2']]);
  t.same(out.list, [2, 3, 3, ['y', 'x', 'z'], 'z', ['y', 'x'], 0]);
  t.same(out.blpop, [null, 1, [`${PY_PREFIX}q`, 'job'], true], 'a blocking pop waits its timeout, then answers [key, value] as DFF does');
  t.same(out.set_type, [2, ['m1', 'm2'], true, 'set', null]);
  t.same(out.zset, [2, "[(b'low', 1.0), (b'high', 2.5)]", "[b'high', b'low']"]);
  t.same(out.keys, [[`${PY_PREFIX}a`, `${PY_PREFIX}and`, `${PY_PREFIX}b1`, `${PY_PREFIX}b2`], true, 2, false, { [`${PY_PREFIX}n`]: '7', [`${PY_PREFIX}a`]: null }]);
  t.same(out.lock, [true, null, 0, 1]);
  t.equal(out.info, true, 'info() is parsed into a dict');
});

t.test('RedisHelper: a Redis error raises ConnectorError with its code; a missing Redis fails fast', async (t) => {
  const out = await callScript('demo__kv.redis_errors');
  t.same(out.wrongtype, ['ConnectorError', 'WRONGTYPE', 'WRONGTYPE Operation against a key holding the wrong kind of value']);
  t.same(out.down, ['ECONNREFUSED', `redis: cannot connect to 127.0.0.1:${downPort} (ECONNREFUSED)`, true]);
  t.equal(out.bad_value, "Invalid input of type: 'NoneType'. Convert to a bytes, string, int or float first.");
});

t.test('DataKitHelper, DataWayHelper: points written as DFF writes them; queries as DFF returns them', async (t) => {
  standIn.requests.length = 0;
  const out = await callScript('demo__lines.datakit_writes');
  t.same(out.metric, [200, {}]);
  t.same(out.logging_many, [200, {}]);
  t.same(out.by_category_many, [200, {}], 'the last answer of the requests');

  const [cpu] = standIn.points('metric');
  t.same(cpu, {
    measurement: 'cpu load,x',
    tags: { 'host name': 'a b,c=d', z: 'last' },
    fields: { count: 3n, note: 'say "hi" \\ bye', ok: true, tags: '[1i,2i]', usage: 1.5, whole: 2 },
    timestamp: 1700000000000000000n,
  }, 'an empty tag and a None field are left out; seconds become nanoseconds');
  const metricBody = standIn.requests.find((r) => r.path === '/v1/write/metric')!.body;
  t.equal(metricBody, 'cpu\\ load\\,x,host\\ name=a\\ b\\,c\\=d,z=last count=3i,note="say \\"hi\\" \\\\ bye",ok=true,tags=[1i,2i],usage=1.5,whole=2.0 1700000000000000000', 'escaped and sorted as DFF does');

  t.same(standIn.points('logging'), [
    { measurement: 'app', tags: { level: 'info' }, fields: { message: 'line one\nline two' }, timestamp: 1700000000123000000n },
    { measurement: 'app', tags: {}, fields: { message: 'no tags' }, timestamp: 1700000000000000000n },
  ], 'milliseconds become nanoseconds; a float of seconds is cut to whole seconds');
  const objects = standIn.requests.filter((r) => r.path === '/v1/write/custom_object');
  t.same(objects.map((r) => r.body.split('\n').length), [100, 50], '100 points a request');
  t.same(standIn.points('custom_object')[0], { measurement: 'host', tags: { name: 'web1' }, fields: { cpu: 4n }, timestamp: 1700000000123456000n });

  t.same(out.query, [200, { series: QUERY_ANSWER.content[0]!.series }]);
  t.same(out.query_dict, [200, { series: [[{ time: 1700000000000, usage: 12.5, tags: 'a column named tags', _tags: { host: 'web1' } }]] }]);
  t.same(out.query_raw, [200, QUERY_ANSWER]);
  const queries = standIn.requests.filter((r) => r.path === '/v1/query/raw').map((r) => JSON.parse(r.body));
  t.same(queries[0], { queries: [{ query: 'M::cpu LIMIT 1' }], mask_visible: true });
  t.same(queries[2], { queries: [{ query: 'M::cpu', time_range: [1, 2] }], mask_visible: true }, 'extra keyword arguments go into the query');

  t.same(out.rejected, [400, `POST http://127.0.0.1:${standIn.port}/v1/write/metric failed. Status Code: 400, Response: {"error_code":"datakit.invalidLinePoint","message":"invalid line protocol"}`]);
  t.equal(out.bad_tag, '`Value of `tags["n"]`: 1` should be a str or unicode, got int (repr: `1`)');
  t.match(out.mixed_array, /^Field `x` got a type-mixed array/);

  t.same(out.dataway, [[200, {}], 200]);
  const dataway = standIn.requests.find((r) => r.path === '/v1/write/metric' && r.query.has('token'))!;
  t.equal(dataway.body, 'dw_metric,t=v f=1i 1700000000000000000');
});
