// The manifest's `connectors` (CONTRACT section 12): every problem at its line and column, secrets
// resolved like env; and `gitfunc check` reporting a literal DFF.CONN('x') / DFF.SRC('x') that no
// connector declares, at the literal's file:line:col.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { checkInProcess } from './helpers/check-in-process.js';
import { checkManifest, parseManifest, resolveManifest } from '../src/manifest/index.js';

const CONNECTORS = `version: 1
connectors:
  - id: main_db
    type: mysql
    config: {host: 127.0.0.1, user: app, password: "\${DB_PASSWORD}", database: app}
  - id: reports
    type: postgresql
    config: {host: db.internal, port: 5433, user: app, database: reports, poolSize: 2}
  - id: kv
    type: redis
    config: {host: 127.0.0.1}
`;

t.test('connectors normalise with default ports and pool size', async (t) => {
  const { manifest, problems } = parseManifest(CONNECTORS);
  t.same(problems, []);
  t.same(
    manifest!.connectors.map((c) => [c.id, c.type, c.config]),
    [
      ['main_db', 'mysql', { port: 3306, host: '127.0.0.1', user: 'app', password: '${DB_PASSWORD}', database: 'app', poolSize: 5 }],
      ['reports', 'postgresql', { port: 5433, host: 'db.internal', user: 'app', database: 'reports', poolSize: 2 }],
      ['kv', 'redis', { port: 6379, host: '127.0.0.1' }],
    ],
  );
  t.same(checkManifest(manifest!), []);
});

t.test('unknown type and missing host point at their lines', async (t) => {
  const { problems } = parseManifest(`version: 1
connectors:
  - id: a
    type: mongodb
    config: {host: h}
  - id: b
    type: postgresql
    config: {user: u, database: d}
`);
  t.match(problems, [
    { line: 4, col: 11, severity: 'error', message: "connectors[0].type must be one of: mysql, postgresql, redis, datakit, dataway (got 'mongodb')" },
    { line: 8, col: 13, severity: 'error', message: "missing required field 'host' in connectors[1].config" },
  ]);
});

t.test('a duplicate id is an error, a literal password a warning', async (t) => {
  const { manifest } = parseManifest(`version: 1
connectors:
  - id: db
    type: mysql
    config: {host: h, user: u, database: d}
  - id: db
    type: mysql
    config: {host: h, user: u, database: d, password: hunter2}
`);
  t.match(checkManifest(manifest!), [
    { line: 6, col: 9, severity: 'error', message: "connectors[1].id: duplicate connector id 'db' (first defined at line 3)" },
    { line: 8, col: 55, severity: 'warning', message: 'connectors[1].config.password: literal secret in git: use ${ENV_NAME}' },
  ]);
});

t.test('${NAME} in a config resolves from the allowed environment; unset is an error when serving', async (t) => {
  const { manifest } = parseManifest(CONNECTORS);
  const served = resolveManifest(manifest!, ['DB_PASSWORD'], { DB_PASSWORD: 's3cret' }, 'serve');
  t.same(served.problems, []);
  t.equal(served.connectors[0]!.config.password, 's3cret');
  t.ok(served.secrets.includes('s3cret'), 'masked like every resolved secret');
  const unset = resolveManifest(manifest!, ['DB_PASSWORD'], {}, 'serve');
  t.match(unset.problems, [{ line: 5, col: 52, severity: 'error', message: "connector main_db: ${DB_PASSWORD} is not set in the server's environment" }]);
  t.match(resolveManifest(manifest!, ['DB_PASSWORD'], {}, 'check').problems, [{ severity: 'warning' }]);
});

t.test('gitfunc check reports literal connector ids no connector declares', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-conn-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'gitfunc.yaml'), `${CONNECTORS}syncAPIs:\n  - {id: report, func: demo__report.build}\n`);
  mkdirSync(path.join(dir, 'demo'));
  writeFileSync(
    path.join(dir, 'demo', 'report.py'),
    [
      "db = DFF.CONN('main_db')",
      '',
      "@DFF.API('Report')",
      'def build(name="reports"):',
      "    rows = DFF.SRC('reprots').query('SELECT 1')",
      "    label = 'ünï'; other = DFF.CONN('missing')",
      '    return DFF.CONN(name)',
      '',
    ].join('\n'),
  );
  const problems = await checkInProcess(dir, { packagesDir: path.join(t.testdir(), 'packages'), envAllow: ['DB_PASSWORD'] });
  t.same(
    problems.filter((p) => p.file === 'demo/report.py'),
    [
      { file: 'demo/report.py', line: 5, col: 20, severity: 'error', message: "DFF.SRC('reprots'): no connector 'reprots' in gitfunc.yaml (declared: kv, main_db, reports)" },
      { file: 'demo/report.py', line: 6, col: 37, severity: 'error', message: "DFF.CONN('missing'): no connector 'missing' in gitfunc.yaml (declared: kv, main_db, reports)" },
    ],
    'a declared id, and an id that is not a literal, are not reported',
  );
  t.ok(
    problems.some((p) => p.file === 'gitfunc.yaml' && p.severity === 'warning' && p.message.includes('${DB_PASSWORD} is not set here')),
    'an unset secret only warns in a check',
  );
});
