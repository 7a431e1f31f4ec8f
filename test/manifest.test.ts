import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { Problem } from '../src/errors.js';
import {
  checkFunctions,
  checkManifest,
  loadManifest,
  resolveApiAuths,
  resolveEnv,
  resolveManifest,
  type Manifest,
} from '../src/manifest/index.js';
import type { FunctionCatalog, FunctionInfo } from '../src/model/function-info.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The manifest example of CONTRACT section 1, verbatim. */
const CONTRACT_EXAMPLE = `version: 1
env:                          # DFF.ENV('REGION'); \${NAME} is read from the server's environment,
  REGION: eu-west             #   so secrets never live in git (only names the operator allows)
  DB_PASSWORD: \${DB_PASSWORD}
apiAuths:
  - id: demo-token
    type: fixedField          # fixedField | httpBasic (more may come)
    fields: [{location: header, name: X-Token, value: "\${HELLO_TOKEN}"}]
  - id: ops-basic
    type: httpBasic
    users: [{username: ops, password: "\${OPS_PASSWORD}"}]
syncAPIs:
  - id: hello                 # called at /api/v1/al/hello and /api/v1/sync/hello
    func: demo__basic.hello_world
    kwargs: {message: INPUT_BY_CALLER, lang: en}   # fixed values, or INPUT_BY_CALLER
    auth: demo-token
    timeout: 10               # overrides the function's own timeout
    throttling: {bySecond: 50, byMinute: 1000}
asyncAPIs:
  - id: report                # /api/v1/bat/report and /api/v1/async/report
    func: demo__report.build
cronJobs:
  - id: nightly
    func: demo__report.build
    cron: "0 2 * * *"         # 5 fields; a 6th leading seconds field is allowed (differs: DFF is minute-only)
    timezone: Europe/Berlin   # per job (differs: DFF has one global timezone)
    kwargs: {full: true}
`;

async function withManifest(source: string | undefined): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfunc-manifest-'));
  if (source !== undefined) await writeFile(path.join(dir, 'gitfunc.yaml'), source);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every problem of a manifest text (load + semantic checks) as [line, col, severity, message]. */
async function problemsOf(source: string | undefined): Promise<[number, number, string, string][]> {
  const { manifest, problems } = await loadManifest(await withManifest(source));
  const all: Problem[] = [...problems, ...(manifest ? checkManifest(manifest) : [])];
  for (const p of all) if (p.file !== 'gitfunc.yaml') throw new Error(`file is ${p.file}`);
  return all.map((p) => [p.line, p.col, p.severity, p.message]);
}

async function manifestOf(source: string): Promise<Manifest> {
  const { manifest, problems } = await loadManifest(await withManifest(source));
  if (!manifest) throw new Error(`manifest invalid: ${JSON.stringify(problems)}`);
  return manifest;
}

t.test('the CONTRACT example parses clean and normalised', async (t) => {
  const dir = await withManifest(CONTRACT_EXAMPLE);
  const { manifest, problems } = await loadManifest(dir);
  t.same(problems, []);
  if (!manifest) throw new Error('no manifest');
  t.same(checkManifest(manifest), []);
  t.equal(manifest.version, 1);
  t.same(manifest.env, { REGION: 'eu-west', DB_PASSWORD: '${DB_PASSWORD}' });
  t.same(manifest.envPositions, { REGION: { line: 3, col: 11 }, DB_PASSWORD: { line: 4, col: 16 } });
  const [hello] = manifest.syncAPIs;
  t.match(hello, {
    id: 'hello',
    func: 'demo__basic.hello_world',
    kwargs: { message: 'INPUT_BY_CALLER', lang: 'en' },
    auth: 'demo-token',
    timeout: 10,
    throttling: { bySecond: 50, byMinute: 1000 },
    disabled: false,
    position: { line: 14, col: 11 },
    positions: { entry: { line: 13, col: 5 }, id: { line: 13, col: 9 }, fields: { auth: { line: 16, col: 11 } } },
  });
  t.same(manifest.asyncAPIs.map((a) => [a.id, a.func, a.kwargs, a.position]), [
    ['report', 'demo__report.build', undefined, { line: 21, col: 11 }],
  ]);
  t.match(manifest.cronJobs[0], {
    id: 'nightly',
    cron: '0 2 * * *',
    timezone: 'Europe/Berlin',
    kwargs: { full: true },
    misfire: 'skip',
    disabled: false,
    position: { line: 24, col: 11 },
  });
  const [token, basic] = manifest.apiAuths;
  t.match(token, { id: 'demo-token', type: 'fixedField', fields: [{ location: 'header', name: 'X-Token', value: '${HELLO_TOKEN}', position: { line: 8, col: 55 } }] });
  t.match(basic, { id: 'ops-basic', type: 'httpBasic', users: [{ username: 'ops', password: '${OPS_PASSWORD}', position: { line: 11, col: 39 } }] });

  const resolved = resolveManifest(
    manifest,
    ['DB_PASSWORD', 'HELLO_TOKEN', 'OPS_PASSWORD'],
    { DB_PASSWORD: 'pw1', HELLO_TOKEN: 'tok2', OPS_PASSWORD: 'pw3', PATH: '/bin' },
    'serve',
  );
  t.same(resolved.problems, []);
  t.same(resolved.env, { REGION: 'eu-west', DB_PASSWORD: 'pw1' });
  t.match(resolved.apiAuths, [{ fields: [{ value: 'tok2' }] }, { users: [{ password: 'pw3' }] }]);
  t.same(resolved.secrets.sort(), ['pw1', 'pw3', 'tok2']);
});

t.test('absent lists are empty and defaults filled in', async (t) => {
  const manifest = await manifestOf('version: 1\ncronJobs:\n  - {id: a, func: demo__x.f, cron: "* * * * *"}\n');
  t.same([manifest.env, manifest.apiAuths, manifest.syncAPIs, manifest.asyncAPIs], [{}, [], [], []]);
  t.match(manifest.cronJobs[0], { timezone: 'UTC', kwargs: {}, misfire: 'skip', disabled: false });
});

t.test('expireTime becomes epoch seconds', async (t) => {
  const manifest = await manifestOf(
    'version: 1\nsyncAPIs:\n  - {id: a, func: demo__x.f, expireTime: 2030-01-01T00:00:00Z}\n  - {id: b, func: demo__x.f, expireTime: 1893456000}\n',
  );
  t.same(manifest.syncAPIs.map((a) => a.expireTime), [1893456000, 1893456000]);
  t.same(await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    expireTime: "2030-02-30T00:00:00Z"\n'), [
    [5, 17, 'error', "syncAPIs[0].expireTime '2030-02-30T00:00:00Z' is not a real date-time"],
  ]);
});

t.test('missing manifest', async (t) => {
  t.same(await problemsOf(undefined), [
    [1, 1, 'error', "gitfunc.yaml not found: every functions repository needs one (starting with 'version: 1')"],
  ]);
});

t.test('empty manifest', async (t) => {
  t.same(await problemsOf('# nothing\n'), [[1, 1, 'error', "gitfunc.yaml is empty: it needs at least 'version: 1'"]]);
});

t.test('YAML syntax error', async (t) => {
  const problems = await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: [demo__x.f\n');
  t.equal(problems.length, 1);
  t.match(problems[0], [5, 1, 'error', /^YAML syntax error: /]);
});

t.test('duplicate key', async (t) => {
  t.same(await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    id: b\n'), [
    [5, 5, 'error', "duplicate key 'id'"],
  ]);
});

t.test('unknown field points at the key and suggests the known one', async (t) => {
  t.same(await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    tiemout: 3\n'), [
    [5, 5, 'error', "unknown field 'tiemout' in syncAPIs[0] (did you mean 'timeout'?)"],
  ]);
  t.same(await problemsOf('version: 1\nsyncApis: []\nfoo: 1\n'), [
    [2, 1, 'error', "unknown field 'syncApis' in the manifest (did you mean 'syncAPIs'?)"],
    [3, 1, 'error', "unknown field 'foo' in the manifest"],
  ]);
});

t.test('wrong types and ranges', async (t) => {
  t.same(
    await problemsOf(
      'version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    timeout: 7200\n    disabled: "no"\n    kwargs: [1]\n    throttling: {bySecond: 0}\n',
    ),
    [
      [5, 14, 'error', 'syncAPIs[0].timeout must be <= 3600'],
      [6, 15, 'error', 'syncAPIs[0].disabled must be true or false'],
      [7, 13, 'error', 'syncAPIs[0].kwargs must be a mapping'],
      [8, 28, 'error', 'syncAPIs[0].throttling.bySecond must be >= 1'],
    ],
  );
  t.same(await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    timeout: ten\n'), [
    [5, 14, 'error', 'syncAPIs[0].timeout must be an integer'],
  ]);
  t.same(await problemsOf('version: 1\nenv: {REGION: 3}\ncronJobs: {}\n'), [
    [2, 15, 'error', 'env.REGION must be a string'],
    [3, 11, 'error', 'cronJobs must be a list'],
  ]);
});

t.test('required fields, bad ids and func names', async (t) => {
  t.same(await problemsOf('version: 1\nasyncAPIs:\n  - id: a b\n  - func: demo.f\n'), [
    [3, 5, 'error', "missing required field 'func' in asyncAPIs[0]"],
    [3, 9, 'error', "asyncAPIs[0].id must be 1-64 letters, digits, '_' or '-' (got 'a b')"],
    [4, 5, 'error', "missing required field 'id' in asyncAPIs[1]"],
    [4, 11, 'error', "asyncAPIs[1].func must look like <set>__<script>.<func>, e.g. demo__basic.hello_world (got 'demo.f')"],
  ]);
  t.same(await problemsOf('syncAPIs: []\n'), [[1, 1, 'error', "missing required field 'version' in the manifest"]]);
});

t.test('bad version', async (t) => {
  t.same(await problemsOf('version: 2\n'), [[1, 10, 'error', 'unknown manifest version 2 (this gitfunc supports 1)']]);
  t.same(await problemsOf('version: "1"\n'), [[1, 10, 'error', "unknown manifest version '1' (this gitfunc supports 1)"]]);
});

t.test('apiAuths shape', async (t) => {
  t.same(
    await problemsOf(
      'version: 1\napiAuths:\n  - {id: a, type: token}\n  - {id: b}\n  - id: c\n    type: fixedField\n    fields: [{location: cookie, name: X, value: "${T}"}]\n',
    ),
    [
      [3, 19, 'error', "apiAuths[0].type must be one of: fixedField, httpBasic, httpDigest, func (got 'token')"],
      [4, 5, 'error', "missing required field 'type' in apiAuths[1]"],
      [7, 25, 'error', "apiAuths[2].fields[0].location must be one of: header, query, body (got 'cookie')"],
    ],
  );
});

t.test('bad env names', async (t) => {
  t.same(await problemsOf('version: 1\nenv:\n  my-var: x\n'), [
    [3, 3, 'error', "invalid name 'my-var' in env: must be letters, digits and '_', not starting with a digit"],
  ]);
});

t.test('duplicate ids', async (t) => {
  t.same(
    await problemsOf(
      'version: 1\nsyncAPIs:\n  - id: hello\n    func: demo__x.f\n  - id: hello\n    func: demo__x.g\nasyncAPIs:\n  - id: hello\n    func: demo__x.f\n',
    ),
    [[5, 9, 'error', "syncAPIs[1].id: duplicate syncAPI id 'hello' (first defined at line 3)"]],
  );
  t.same(
    await problemsOf(
      'version: 1\napiAuths:\n  - {id: a, type: httpBasic, users: [{username: u, password: "${P}"}]}\n  - {id: a, type: httpBasic, users: [{username: u, password: "${P}"}]}\ncronJobs:\n  - {id: c, func: demo__x.f, cron: "* * * * *"}\n  - {id: c, func: demo__x.f, cron: "* * * * *"}\n',
    ),
    [
      [4, 10, 'error', "apiAuths[1].id: duplicate apiAuth id 'a' (first defined at line 3)"],
      [7, 10, 'error', "cronJobs[1].id: duplicate cronJob id 'c' (first defined at line 6)"],
    ],
  );
});

t.test('unknown auth', async (t) => {
  t.same(await problemsOf('version: 1\nsyncAPIs:\n  - id: a\n    func: demo__x.f\n    auth: nobody\n'), [
    [5, 11, 'error', "syncAPIs[0].auth: no apiAuth with id 'nobody' (apiAuths is empty)"],
  ]);
  t.same(
    await problemsOf(
      'version: 1\napiAuths:\n  - {id: t, type: fixedField, fields: [{location: query, name: k, value: "${K}"}]}\nasyncAPIs:\n  - {id: a, func: demo__x.f, auth: tt}\n',
    ),
    [[5, 36, 'error', "asyncAPIs[0].auth: no apiAuth with id 'tt' (known: t)"]],
  );
});

t.test('cron expressions', async (t) => {
  const job = (cron: string): string => `version: 1\ncronJobs:\n  - id: j\n    func: demo__x.f\n    cron: "${cron}"\n`;
  t.same(await problemsOf(job('*/10 0 2 * * *')), [], '6 fields with leading seconds are fine');
  t.same(await problemsOf(job('0 2 * * 1-5')), []);
  t.same(await problemsOf(job('61 * * * *')), [
    [5, 11, 'error', "cronJobs[0].cron: '61 * * * *' is not a valid cron expression: Invalid value for minute: 61"],
  ]);
  t.same(await problemsOf(job('0 0 2 * * * 2030')), [
    [5, 11, 'error', "cronJobs[0].cron: '0 0 2 * * * 2030' must have 5 fields (minute hour day month weekday), or 6 with leading seconds"],
  ]);
  t.same(await problemsOf(job('@daily')), [
    [5, 11, 'error', "cronJobs[0].cron: '@daily' must have 5 fields (minute hour day month weekday), or 6 with leading seconds"],
  ]);
});

t.test('bad timezone', async (t) => {
  t.same(
    await problemsOf('version: 1\ncronJobs:\n  - id: j\n    func: demo__x.f\n    cron: "0 2 * * *"\n    timezone: Mars/Olympus\n'),
    [[6, 15, 'error', "cronJobs[0].timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin or UTC)"]],
  );
});

t.test('literal secrets warn', async (t) => {
  t.same(
    await problemsOf(
      'version: 1\napiAuths:\n  - id: t\n    type: fixedField\n    fields: [{location: header, name: X-Token, value: hunter2}]\n  - id: b\n    type: httpBasic\n    users:\n      - {username: ops, password: "pw-${X}"}\n      - {username: ok, password: "${OK}"}\n',
    ),
    [
      [5, 55, 'warning', 'apiAuths[0].fields[0].value: literal secret in git: use ${ENV_NAME}'],
      [9, 35, 'warning', 'apiAuths[1].users[0].password: literal secret in git: use ${ENV_NAME}'],
    ],
  );
});

t.test('checkFunctions', async (t) => {
  const manifest = await manifestOf(`version: 1
syncAPIs:
  - {id: ok, func: demo__basic.hello}
  - {id: noscript, func: demo__nope.f}
  - {id: nofunc, func: demo__basic.missing}
asyncAPIs:
  - {id: plain, func: demo__basic.helper}
cronJobs:
  - {id: nocron, func: demo__basic.hello}
  - {id: fixed, func: demo__basic.fixed}
  - {id: badfixed, func: demo__basic.badfixed}
`);
  const info = (id: string, extra: Partial<FunctionInfo> = {}): [string, FunctionInfo] => [
    id,
    { id, title: id, category: 'general', tags: [], isHidden: false, usesHttpRequest: false, file: 'demo/basic.py', line: 7, ...extra },
  ];
  const catalog: FunctionCatalog = new Map([
    info('demo__basic.hello'),
    info('demo__basic.fixed', { fixedCronExpr: '0 3 * * *' }),
    info('demo__basic.badfixed', { fixedCronExpr: 'every day', line: 12 }),
  ]);
  const problems = checkFunctions(manifest, catalog, new Set(['demo__basic']), new Set(['demo__basic.helper']));
  t.same(
    problems.map((p) => [p.file, p.line, p.col, p.severity, p.message]),
    [
      ['gitfunc.yaml', 4, 26, 'error', "script 'demo__nope' not found (expected demo/nope.py)"],
      ['gitfunc.yaml', 5, 24, 'error', "function 'missing' not found in script 'demo__basic' (demo/basic.py)"],
      ['gitfunc.yaml', 7, 23, 'error', "function 'helper' is not decorated with @DFF.API"],
      ['gitfunc.yaml', 9, 5, 'error', 'cronJobs[0] has no cron expression: set cron, or fixed_cron_expr in @DFF.API'],
      [
        'demo/basic.py',
        12,
        1,
        'error',
        "fixed_cron_expr of demo__basic.badfixed: 'every day' must have 5 fields (minute hour day month weekday), or 6 with leading seconds",
      ],
    ],
  );
  t.same(
    checkFunctions(manifest, catalog, new Set(['demo__basic'])).find((p) => p.line === 7)?.message,
    "function 'helper' not found in script 'demo__basic' (demo/basic.py)",
    'without the undecorated list a plain function is just missing',
  );
});

t.test('checkFunctions: a function auth names a function as an API does', async (t) => {
  const manifest = await manifestOf(`version: 1
apiAuths:
  - {id: good, type: func, func: auth__check.verify}
  - {id: nofunc, type: func, func: auth__check.missing}
  - {id: plain, type: func, func: auth__check.helper}
  - {id: noscript, type: func, func: auth__nope.verify}
`);
  const verify: FunctionInfo = {
    id: 'auth__check.verify',
    title: 'Verify',
    category: 'general',
    tags: [],
    isHidden: false,
    usesHttpRequest: false,
    file: 'auth/check.py',
    line: 2,
  };
  const problems = checkFunctions(manifest, new Map([[verify.id, verify]]), new Set(['auth__check']), new Set(['auth__check.helper']));
  t.same(
    problems.map((p) => [p.file, p.line, p.col, p.message]),
    [
      ['gitfunc.yaml', 4, 36, "function 'missing' not found in script 'auth__check' (auth/check.py)"],
      ['gitfunc.yaml', 5, 35, "function 'helper' is not decorated with @DFF.API"],
      ['gitfunc.yaml', 6, 38, "script 'auth__nope' not found (expected auth/nope.py)"],
    ],
  );
  t.same(await problemsOf('version: 1\napiAuths:\n  - {id: f, type: func}\n'), [[3, 5, 'error', "missing required field 'func' in apiAuths[0]"]]);
});

t.test('httpDigest passwords resolve like httpBasic ones; a function auth has no secret', async (t) => {
  const manifest = await manifestOf(`version: 1
apiAuths:
  - {id: d, type: httpDigest, users: [{username: ops, password: "\${PW}"}, {username: dev, password: literal}]}
  - {id: f, type: func, func: auth__check.verify}
`);
  const resolved = resolveApiAuths(manifest.apiAuths, ['PW'], { PW: 'pw-1' }, 'serve');
  t.match(resolved.apiAuths, [{ type: 'httpDigest', users: [{ password: 'pw-1' }, { password: 'literal' }] }, { type: 'func', func: 'auth__check.verify' }]);
  t.same(resolved.secrets, ['pw-1']);
  t.same(
    checkManifest(manifest).map((p) => [p.line, p.severity, p.message]),
    [[3, 'warning', 'apiAuths[0].users[1].password: literal secret in git: use ${ENV_NAME}']],
  );
});

t.test('resolveEnv', async (t) => {
  const env = {
    REGION: 'eu-west',
    DB: 'postgres://app:${DB_PASSWORD}@db/app',
    TOKEN: '${API_TOKEN}',
    LITERAL: 'costs $${AMOUNT}',
  };
  const positions = { REGION: { line: 3, col: 11 }, DB: { line: 4, col: 7 }, TOKEN: { line: 5, col: 10 }, LITERAL: { line: 6, col: 12 } };

  const ok = resolveEnv(env, positions, ['DB_PASSWORD', 'API_TOKEN'], { DB_PASSWORD: 's3cret', API_TOKEN: 'tok' }, 'serve');
  t.same(ok.problems, []);
  t.same(ok.values, { REGION: 'eu-west', DB: 'postgres://app:s3cret@db/app', TOKEN: 'tok', LITERAL: 'costs ${AMOUNT}' });
  t.same(ok.secrets.sort(), ['s3cret', 'tok']);

  const notAllowed = resolveEnv({ REGION: '${X}' }, { REGION: { line: 3, col: 11 } }, [], { X: 'value-x' }, 'check');
  t.same(notAllowed.problems, [
    { file: 'gitfunc.yaml', line: 3, col: 11, severity: 'error', message: 'env REGION: ${X} is not in GITFUNC_ENV_ALLOW' },
  ]);
  t.same(notAllowed.secrets, []);

  const own = resolveEnv({ A: '${GITFUNC_ADMIN_TOKEN}' }, { A: { line: 2, col: 6 } }, ['GITFUNC_ADMIN_TOKEN'], { GITFUNC_ADMIN_TOKEN: 'adm' }, 'serve');
  t.same(own.problems.map((p) => [p.severity, p.message]), [
    ['error', "env A: ${GITFUNC_ADMIN_TOKEN} can never be read: GITFUNC_* names are gitfunc's own settings"],
  ]);
  t.same(own.values, { A: '' });
  t.notOk(JSON.stringify(own).includes('adm'), 'the value never appears');

  const unset = (mode: 'serve' | 'check'): Problem[] =>
    resolveEnv({ TOKEN: '${API_TOKEN}', DB: '${DB_PASSWORD}' }, positions, ['API_TOKEN', 'DB_PASSWORD'], { DB_PASSWORD: '' }, mode).problems;
  t.same(unset('serve').map((p) => [p.line, p.col, p.severity, p.message]), [
    [5, 10, 'error', "env TOKEN: ${API_TOKEN} is not set in the server's environment"],
    [4, 7, 'error', "env DB: ${DB_PASSWORD} is empty in the server's environment"],
  ]);
  t.same(unset('check').map((p) => [p.severity, p.message]), [
    ['warning', 'env TOKEN: ${API_TOKEN} is not set here (it must be set where this revision is served)'],
    ['warning', 'env DB: ${DB_PASSWORD} is empty here (it must be set where this revision is served)'],
  ]);

  const bad = resolveEnv({ A: '${not-a-name}' }, { A: { line: 2, col: 6 } }, [], {}, 'serve');
  t.match(bad.problems, [{ severity: 'error', message: /^env A: '\$\{not-a-name\}' is not a valid reference/ }]);
});

t.test('resolveApiAuths names the auth, never the value', async (t) => {
  const manifest = await manifestOf(
    'version: 1\napiAuths:\n  - id: ops\n    type: httpBasic\n    users: [{username: ops, password: "${OPS_PASSWORD}"}]\n',
  );
  const denied = resolveApiAuths(manifest.apiAuths, [], { OPS_PASSWORD: 'pw' }, 'serve');
  t.same(denied.problems, [
    { file: 'gitfunc.yaml', line: 5, col: 39, severity: 'error', message: 'apiAuth ops: ${OPS_PASSWORD} is not in GITFUNC_ENV_ALLOW' },
  ]);
  const allowed = resolveApiAuths(manifest.apiAuths, ['OPS_PASSWORD'], { OPS_PASSWORD: 'pw' }, 'serve');
  t.match(allowed.apiAuths, [{ users: [{ username: 'ops', password: 'pw' }] }]);
  t.same(allowed.secrets, ['pw']);
  t.match(manifest.apiAuths, [{ users: [{ password: '${OPS_PASSWORD}' }] }], 'the manifest is not changed');
});

t.test('generated validators match the schemas (drift check)', async (t) => {
  const run = promisify(execFile);
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/compile-schemas.ts', '--check'], { cwd: ROOT });
  t.equal(stdout + stderr, '');
});
