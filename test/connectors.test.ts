// DFF.CONN for mysql and postgresql connectors (CONTRACT section 12) against the real MariaDB
// and PostgreSQL on loopback: DFF's helper methods and `?` placeholders, transactions, values
// as DFF gives them, driver errors without secrets, a bounded pool shared by two workers, a
// reload that changes a connector's settings, and a slow query stopped at the call's deadline.
// Also a datakit connector declared in the manifest, against a DataKit stand-in (the redis,
// datakit and dataway clients and helpers in detail: connectors-kv; redis through a served
// manifest: example-apis).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import pg from 'pg';
import t from 'tap';
import { ADMIN_TOKEN, adminGet } from './helpers/admin-client.js';
import { createWorkRepo } from './helpers/git-repo.js';
import { startGitServer } from './helpers/git-server.js';
import { parseLine, startDatakitStandIn } from './helpers/datakit-stand-in.js';
import { postReload, waitUntil } from './helpers/reload-repo.js';
import { FIXTURES, readTree, startGitfunc } from './helpers/start-gitfunc.js';

const RUN = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const TABLE = `gf_conn_${RUN}`;
const USER = `gf_conn_${RUN}`;
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(8).toString('hex')}`;
/** A marker in the slow statement, to find it in the server's process list. */
const SLEEP_MARK = `gf_sleep_${RUN}`;

// The test's own administrative connections (root on MariaDB, postgres on PostgreSQL).
const mysqlAdmin: Connection = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
const pgAdmin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
await pgAdmin.connect();
t.teardown(async () => {
  await mysqlAdmin.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await mysqlAdmin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await mysqlAdmin.end();
  await pgAdmin.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await pgAdmin.query(`DROP ROLE IF EXISTS ${USER}`);
  await pgAdmin.end();
});
await mysqlAdmin.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, txt TEXT NULL) CHARACTER SET utf8mb4`);
await mysqlAdmin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
await mysqlAdmin.query(`GRANT ALL ON test.* TO '${USER}'@'%'`);
await pgAdmin.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, txt TEXT NULL)`);
await pgAdmin.query(`CREATE ROLE ${USER} LOGIN`);
await pgAdmin.query(`GRANT ALL ON ${TABLE} TO ${USER}`);

const datakit = await startDatakitStandIn(t);

/** The manifest: `mysqlPoolSize` is what the reload test changes. */
function manifest(mysqlPoolSize: number): string {
  return `version: 1
connectors:
  - id: mysql
    type: mysql
    config: {host: 127.0.0.1, port: 3306, user: ${USER}, password: "\${CONN_TEST_PASSWORD}", database: test, poolSize: ${mysqlPoolSize}}
  - id: mysql_denied
    type: mysql
    config: {host: 127.0.0.1, user: ${USER}, password: "\${CONN_TEST_WRONG_PASSWORD}", database: test}
  - id: mysql_blocked
    type: mysql
    config: {host: 127.0.0.2, user: root, database: test}
  - id: pg
    type: postgresql
    config: {host: 127.0.0.1, port: 5432, user: ${USER}, database: test, poolSize: 1}
  - id: datakit
    type: datakit
    config: {host: 127.0.0.1, port: ${datakit.port}}
syncAPIs:
${['run', 'types', 'quoting', 'trans', 'leave_open', 'caught', 'undeclared', 'slow'].map((f) => `  - {id: ${f}, func: demo__sql.${f}}`).join('\n')}
  - {id: datakit-write, func: demo__line.write}
`;
}

const git = await startGitServer();
t.teardown(() => git.close());
const scripts = readTree(path.join(FIXTURES, 'connectors'));
// One connection per pool: two workers calling at once must share it.
const work = await createWorkRepo({ ...scripts, 'gitfunc.yaml': manifest(1) });
await git.publish('conn', work.dir);
// Two workers: the pools are shared by both.
const gitfunc = await startGitfunc(['--repo', git.url('conn'), '--ref', 'main', '--poll-seconds', '0', '--workers', '2'], {
  GITFUNC_ADMIN_TOKEN: ADMIN_TOKEN,
  GITFUNC_ENV_ALLOW: 'CONN_TEST_PASSWORD,CONN_TEST_WRONG_PASSWORD',
  CONN_TEST_PASSWORD: PASSWORD,
  CONN_TEST_WRONG_PASSWORD: WRONG_PASSWORD,
  GITFUNC_NETWORK_DENY: '169.254.0.0/16,127.0.0.2',
});
t.teardown(() => gitfunc.close());

interface Answer {
  status: number;
  body: any;
  text: string;
  taskId: string | null;
}

async function call(api: string, kwargs: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(`${gitfunc.url}/api/v1/al/${api}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kwargs }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a text answer stays text
  }
  return { status: res.status, body, text, taskId: res.headers.get('x-task-id') };
}

async function ok(api: string, kwargs: Record<string, unknown> = {}): Promise<any> {
  const answer = await call(api, kwargs);
  if (answer.status !== 200) throw new Error(`${api}: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** Rows of `sql` as the test's own admin connection sees them. */
async function adminRows(db: 'mysql' | 'pg', sql: string): Promise<any[]> {
  if (db === 'mysql') return (await mysqlAdmin.query(sql))[0] as any[];
  return (await pgAdmin.query(sql)).rows;
}

/** Connections the connectors' user holds on each database now. */
async function connectionsOf(db: 'mysql' | 'pg'): Promise<number> {
  const sql =
    db === 'mysql'
      ? `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = '${USER}'`
      : `SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE usename = '${USER}'`;
  return Number((await adminRows(db, sql))[0].n);
}

for (const db of ['mysql', 'pg'] as const) {
  t.test(`${db}: query, query_raw and non_query`, async (t) => {
    const base = 9000;
    t.equal(await ok('run', { conn: db, method: 'non_query', sql: `INSERT INTO ${TABLE} (id, txt) VALUES (?, ?), (?, ?)`, params: [base, 'a', base + 1, 'b'] }), 2);
    t.same(await ok('run', { conn: db, method: 'query', sql: `SELECT id, txt FROM ${TABLE} WHERE id >= ? ORDER BY id`, params: [base] }), [
      { id: base, txt: 'a' },
      { id: base + 1, txt: 'b' },
    ]);
    t.same(await ok('run', { conn: db, method: 'query_raw', sql: `SELECT id, txt FROM ${TABLE} WHERE id >= ? ORDER BY id`, params: base }), [
      [base, 'a'],
      [base + 1, 'b'],
    ]);
    t.equal(await ok('run', { conn: db, method: 'non_query', sql: `UPDATE ${TABLE} SET txt = ? WHERE id >= ?`, params: ['c', base] }), 2);
    t.equal(await ok('run', { conn: db, method: 'non_query', sql: `DELETE FROM ${TABLE} WHERE id >= ${base}` }), 2, 'no params: the statement as written');
    t.same(await ok('run', { conn: db, method: 'query', sql: `SELECT id FROM ${TABLE} WHERE id >= ${base}` }), []);
  });

  t.test(`${db}: quotes, backslashes, unicode, NULL and IN lists survive the placeholders`, async (t) => {
    const texts = ["it's", 'say "hi"', 'back\\slash \\\'', 'tab\tnew\nline', '-- not a comment', 'ünïcødé 中文 🎉', "'); DROP TABLE x; --", '? and ??'];
    const out = await ok('quoting', { conn: db, table: TABLE, texts });
    t.same(
      out.rows,
      [...texts.map((txt, id) => ({ id, txt })), { id: 100, txt: null }, { id: 101, txt: 'second row' }],
      'every text reads back as written',
    );
    t.same(out.nulls, [{ id: 100 }], 'None was written as NULL');
    t.equal(out.sql, db === 'mysql' ? "SELECT 'it\\'s'" : "SELECT 'it''s'", 'format_sql shows the filled statement');
    await adminRows(db, `DELETE FROM ${TABLE}`);
  });

  t.test(`${db}: a transaction rolled back leaves nothing, one committed stays`, async (t) => {
    t.same(await ok('trans', { conn: db, table: TABLE, row_id: 1, commit: false }), { changed: 1, seen: 1, after: 0 });
    t.same(await ok('trans', { conn: db, table: TABLE, row_id: 2, commit: true }), { changed: 1, seen: 1, after: 1 });
    t.same(await adminRows(db, `SELECT id FROM ${TABLE} ORDER BY id`), [{ id: 2 }]);
  });

  t.test(`${db}: a transaction the call leaves open is rolled back when the call ends`, async (t) => {
    t.equal(await ok('leave_open', { conn: db, table: TABLE, row_id: 3 }), 'left open');
    const failed = await call('leave_open', { conn: db, table: TABLE, row_id: 4, fail: true });
    t.equal(failed.status, 599);
    await waitUntil('both rolled back', async () => (await adminRows(db, `SELECT id FROM ${TABLE} WHERE id IN (3, 4)`)).length === 0);
    // The pool got its connections back: a burst bigger than the pool still runs.
    const burst = await Promise.all(Array.from({ length: 8 }, () => ok('run', { conn: db, method: 'query', sql: 'SELECT 1 AS one' })));
    t.equal(burst.length, 8);
    await adminRows(db, `DELETE FROM ${TABLE}`);
  });
}

t.test('values come back as DFF gives them', async (t) => {
  const mysqlTypes = await ok('types', {
    conn: 'mysql',
    sql: "SELECT CAST('2024-02-03 04:05:06' AS DATETIME) AS dt, CAST('2024-02-03' AS DATE) AS d, CAST('-01:02:03' AS TIME) AS tm, CAST(1.50 AS DECIMAL(10,2)) AS dec_, 9007199254740993 AS big, X'00ff' AS bin, 1.25e0 AS dbl, NULL AS nothing, JSON_OBJECT('a', 1) AS js",
  });
  t.same(mysqlTypes, {
    dt: ['datetime', '2024-02-03 04:05:06'],
    d: ['date', '2024-02-03'],
    tm: ['timedelta', '-1 day, 22:57:57'],
    dec_: ['Decimal', '1.50'],
    big: ['int', '9007199254740993'],
    bin: ['bytes', "b'\\x00\\xff'"],
    dbl: ['float', '1.25'],
    nothing: ['NoneType', 'None'],
    js: ['str', '{"a": 1}'],
  });
  const pgTypes = await ok('types', {
    conn: 'pg',
    sql: "SELECT '2024-02-03 04:05:06'::timestamp AS dt, '2024-02-03 04:05:06+02'::timestamptz AT TIME ZONE 'UTC' AS utc, '2024-02-03'::date AS d, '12:34:56'::time AS tm, 1.50::numeric(10,2) AS dec_, 9007199254740993::bigint AS big, '\\x00ff'::bytea AS bin, true AS flag, '{\"a\": 1}'::jsonb AS js",
  });
  t.same(pgTypes, {
    dt: ['datetime', '2024-02-03 04:05:06'],
    utc: ['datetime', '2024-02-03 02:05:06'],
    d: ['date', '2024-02-03'],
    tm: ['time', '12:34:56'],
    dec_: ['Decimal', '1.50'],
    big: ['int', '9007199254740993'],
    bin: ['bytes', "b'\\x00\\xff'"],
    flag: ['bool', 'True'],
    js: ['dict', "{'a': 1}"],
  });
  t.same(await ok('run', { conn: 'mysql', method: 'query', sql: "SELECT CAST('2024-02-03 04:05:06' AS DATETIME) AS dt, CAST(2.5 AS DECIMAL(4,1)) AS n" }), [{ dt: '2024-02-03T04:05:06', n: 2.5 }], 'a returned row is JSON as usual');
});

t.test('a driver error reaches Python with its message and code, and no secret anywhere', async (t) => {
  const caught = await ok('caught', { conn: 'mysql', sql: `SELECT * FROM nope_${RUN}` });
  t.same(caught, { type: 'ConnectorError', code: 1146, message: `Table 'test.nope_${RUN}' doesn't exist` });
  const pgCaught = await ok('caught', { conn: 'pg', sql: `SELECT * FROM nope_${RUN}` });
  t.same(pgCaught, { type: 'ConnectorError', code: '42P01', message: `relation "nope_${RUN}" does not exist` });

  const failed = await call('run', { conn: 'mysql', method: 'query', sql: `SELECT * FROM nope_${RUN}` });
  t.equal(failed.status, 599);
  t.equal(failed.body.error, 599.1);
  t.match(failed.body.detail.exception, `ConnectorError: Table 'test.nope_${RUN}' doesn't exist`);
  const denied = await call('run', { conn: 'mysql_denied', method: 'query', sql: 'SELECT 1' });
  t.equal(denied.body.error, 599.1);
  t.match(denied.body.detail.exception, /ConnectorError: Access denied for user/);
  for (const answer of [failed, denied]) {
    t.notOk(answer.text.includes(PASSWORD) || answer.text.includes(WRONG_PASSWORD), 'no password in the answer');
    const record = JSON.stringify(await adminGet(gitfunc.url, `/api/v1/tasks/${answer.taskId}`));
    t.match(record, /ConnectorError/, 'the task record holds the error');
    t.notOk(record.includes(PASSWORD) || record.includes(WRONG_PASSWORD), 'no password in the task record');
  }
  const logs = JSON.stringify(gitfunc.logs);
  t.notOk(logs.includes(PASSWORD) || logs.includes(WRONG_PASSWORD), 'no password in the logs');

  const blocked = await ok('caught', { conn: 'mysql_blocked', sql: 'SELECT 1' });
  t.same(
    blocked,
    { type: 'ConnectorError', code: 'EACCES', message: "connector 'mysql_blocked': connection to 127.0.0.2 port 3306 refused: denied by network rule '127.0.0.2' (GITFUNC_NETWORK_DENY)" },
    "a connector's host passes the egress rules",
  );

  const undeclared = await call('undeclared');
  t.match(undeclared.body.detail.exception, "ConnectorNotFound: no connector 'nowhere' in gitfunc.yaml (declared: datakit, mysql, mysql_blocked, mysql_denied, pg)");
});

for (const db of ['mysql', 'pg'] as const) {
  t.test(`${db}: 100 concurrent calls on two workers share a pool of one connection`, async (t) => {
    const sleep = db === 'mysql' ? 'SELECT SLEEP(0.02) AS s' : 'SELECT pg_sleep(0.02) AS s';
    let most = 0;
    let loading = true;
    const watching = (async () => {
      while (loading) {
        most = Math.max(most, await connectionsOf(db));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const answers = await Promise.all(Array.from({ length: 100 }, () => call('run', { conn: db, method: 'query', sql: sleep })));
    loading = false;
    await watching;
    t.same(
      answers.filter((a) => a.status !== 200).map((a) => a.text),
      [],
      'every call answered',
    );
    t.equal(most, 1, 'one connection held at most (poolSize 1)');
  });
}

t.test('a call at its deadline during a slow query ends then, and the query is stopped', async (t) => {
  for (const [db, sql] of [
    ['mysql', `SELECT SLEEP(20) AS ${SLEEP_MARK}`],
    ['pg', `SELECT pg_sleep(20) AS ${SLEEP_MARK}`],
  ] as const) {
    const started = Date.now();
    const answer = await call('slow', { conn: db, sql });
    const took = Date.now() - started;
    t.equal(answer.body.error, 599.2, `${db}: timed out`);
    t.ok(took >= 1900 && took < 4000, `${db}: answered at the 2 s deadline (${took} ms)`);
    const running =
      db === 'mysql'
        ? `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE '%${SLEEP_MARK}%' AND INFO NOT LIKE '%PROCESSLIST%'`
        : `SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%${SLEEP_MARK}%' AND query NOT LIKE '%pg_stat_activity%'`;
    await waitUntil(`${db}: the statement no longer runs on the database`, async () => Number((await adminRows(db, running))[0].n) === 0);
    t.ok(Date.now() - started < 6000, `${db}: stopped soon after the deadline`);
    t.same(await ok('run', { conn: db, method: 'query', sql: 'SELECT 1 AS one' }), [{ one: 1 }], `${db}: the connector goes on serving`);
  }
});

t.test('a reload that changes a connector\'s settings opens a new pool; calls running finish on the old one', async (t) => {
  const connectionId = async (): Promise<number> => (await ok('run', { conn: 'mysql', method: 'query', sql: 'SELECT CONNECTION_ID() AS id' }))[0].id;
  const oldIds = new Set(await Promise.all(Array.from({ length: 6 }, connectionId)));
  const slow = call('run', { conn: 'mysql', method: 'query', sql: 'SELECT SLEEP(1.5) AS slept, CONNECTION_ID() AS id' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await work.commit({ 'gitfunc.yaml': manifest(2) }, 'poolSize 2');
  await git.publish('conn', work.dir);
  const reload = await postReload(gitfunc.url, true);
  t.equal(reload.data.result, 'served');
  const newId = await connectionId();
  t.notOk(oldIds.has(newId), 'a new call runs on a connection of the new pool');
  const slowAnswer = await slow;
  t.equal(slowAnswer.status, 200, 'the call running during the reload finished');
  t.ok(oldIds.has(slowAnswer.body[0].id), 'on the old pool');
  await waitUntil('the old pool closed', async () => {
    const rows = await adminRows('mysql', `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = '${USER}'`);
    return rows.every((row) => !oldIds.has(Number(row.id)));
  });
});

t.test('a datakit connector of the manifest: DFF\'s writes reach DataKit as line protocol', async (t) => {
  datakit.requests.length = 0;
  const answer = await ok('datakit-write', { source: 'probe' });
  t.same(answer, { metric: [200, {}], logs: [200, {}] }, '(status_code, result) as DFF returns them');
  const [metric, logs] = datakit.requests;
  t.match(metric, { method: 'POST', path: '/v1/write/metric' });
  t.equal(metric!.query.get('input'), 'probe', "DFF.CONN(id, source=...) names DataKit's input");
  t.same(parseLine(metric!.body), { measurement: 'cpu', tags: { host: 'web 1' }, fields: { usage: 12.5, cores: 4n }, timestamp: 1700000000000000000n });
  t.match(logs, { path: '/v1/write/logging' });
  t.same(logs!.body.split('\n').map(parseLine), [
    { measurement: 'app', tags: { level: 'info' }, fields: { message: 'started, "ok"' }, timestamp: 1700000001000000000n },
    { measurement: 'app', tags: { level: 'error' }, fields: { message: 'failed' }, timestamp: 1700000002000000000n },
  ]);
});
