import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { GitfuncError } from '../src/errors.js';
import { defaultSettingsFile, loadSettings, redactedSettings, type Settings } from '../src/config/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfunc-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The CONFIG_INVALID message loadSettings throws for these inputs. */
function configError(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = '/srv'): string {
  try {
    loadSettings({ argv, env, cwd });
  } catch (err) {
    if (err instanceof GitfuncError && err.code === 'CONFIG_INVALID') return err.message;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

t.test('defaults from config/default.yaml', async (t) => {
  t.equal(defaultSettingsFile(), path.join(ROOT, 'config', 'default.yaml'));
  const settings = loadSettings({ argv: [], env: {}, cwd: '/srv/app' });
  t.same(settings, {
    host: '127.0.0.1',
    port: 8088,
    repo: { url: '/srv/app/functions.example', ref: 'main', path: '', username: 'x-access-token', pollSeconds: 60, historyKeep: 50 },
    dataDir: '/srv/app/.gitfunc-data',
    workers: 2,
    snapshot: { enabled: true, dir: '/srv/app/.gitfunc-data/cache' },
    envAllow: [],
    webhook: { path: '/api/v1/webhooks/git', maxBodyBytes: 1048576, allowUnsigned: false },
    pushRemote: { enabled: false, path: '/repo.git', maxPushBytes: 104857600 },
    log: { level: 'info', format: 'auto' },
    limits: {
      bodyBytes: 52428800,
      syncTimeoutMaxSeconds: 180,
      importSeconds: 30,
      syncQueuePerWorker: 64,
      asyncQueueMax: 10000,
      headersTimeoutSeconds: 20,
      bodyReadSeconds: 300,
      uploadFileBytes: 52428800,
      uploadTotalBytes: 209715200,
      uploadFiles: 20,
      workerMaxCalls: 0,
      workerHeapMB: 1024,
      socketsPerCall: 64,
    },
    network: { allow: ['*'], deny: ['169.254.0.0/16', 'fd00:ec2::/32'] },
    tasks: { keepPerApi: 100, keepPerCronJob: 500, keepSeconds: 3600, maxStoredMB: 512 },
    shutdown: { drainSeconds: 5, graceSeconds: 30 },
    callTimeoutGraceMs: 2000,
    cors: {
      allowOrigins: ['*'],
      allowCredentials: false,
      allowHeaders: ['Content-Type', 'Authorization', 'X-Trace-Id'],
      exposeHeaders: ['X-Trace-Id', 'X-Request-Cost', 'X-Task-Id', 'X-Dff-Cache'],
      maxAgeSeconds: 600,
    },
    packages: { wheelhouse: [], index: '', pyodidePackages: '' },
    trustProxy: false,
    redis: { url: '', keyPrefix: 'gitfunc:', replicaId: '', advertisedUrl: '' },
  } satisfies Settings);
  t.ok(Object.isFrozen(settings) && Object.isFrozen(settings.repo) && Object.isFrozen(settings.envAllow), 'frozen');
  t.notOk('adminToken' in settings || 'webhookSecret' in settings || 'token' in settings.repo, 'secrets unset');
});

t.test('environment variables override the defaults', async (t) => {
  const settings = loadSettings({
    argv: [],
    env: {
      GITFUNC_PORT: '9000',
      GITFUNC_HOST: '0.0.0.0',
      GITFUNC_REPO: 'https://git.example.com/team/functions.git',
      GITFUNC_REF: 'prod',
      GITFUNC_REPO_PATH: 'services/funcs',
      GITFUNC_GIT_TOKEN: 'ghp_secret',
      GITFUNC_DATA_DIR: '/var/lib/gitfunc',
      GITFUNC_WORKERS: '4',
      GITFUNC_ENV_ALLOW: 'DB_PASSWORD, HELLO_TOKEN,,DB_PASSWORD',
      GITFUNC_ADMIN_TOKEN: 'admin-secret',
      GITFUNC_WEBHOOK_SECRET: 'hook-secret',
      GITFUNC_LOG_LEVEL: 'debug',
      GITFUNC_HISTORY_KEEP: '7',
      GITFUNC_WORKERS_EXTRA: 'ignored',
      GITFUNC_HOSTNAME: '',
    },
    cwd: '/srv',
  });
  t.match(settings, {
    host: '0.0.0.0',
    port: 9000,
    repo: { url: 'https://git.example.com/team/functions.git', ref: 'prod', path: 'services/funcs', token: 'ghp_secret' },
    dataDir: '/var/lib/gitfunc',
    workers: 4,
    envAllow: ['DB_PASSWORD', 'HELLO_TOKEN'],
    adminToken: 'admin-secret',
    webhookSecret: 'hook-secret',
    log: { level: 'debug' },
  });
  t.same(redactedSettings(settings).repo, {
    url: 'https://git.example.com/team/functions.git',
    ref: 'prod',
    path: 'services/funcs',
    username: 'x-access-token',
    pollSeconds: 60,
    historyKeep: 7,
    token: '***',
  });
  t.match(redactedSettings(settings), { adminToken: '***', webhookSecret: '***' });
  t.notOk(JSON.stringify(redactedSettings(settings)).includes('secret'), 'no secret in the redacted form');
  t.equal(
    redactedSettings(loadSettings({ argv: ['--repo', 'https://u:pw@git.example.com/r.git'], env: {}, cwd: '/srv' })).repo.url,
    'https://***@git.example.com/r.git',
  );
});

t.test('task retention, async queue and shutdown settings come from the environment', async (t) => {
  const settings = loadSettings({
    argv: [],
    env: {
      GITFUNC_TASKS_KEEP_PER_API: '20',
      GITFUNC_TASKS_KEEP_PER_CRON_JOB: '7',
      GITFUNC_TASKS_KEEP_SECONDS: '60',
      GITFUNC_TASKS_MAX_STORED_MB: '8',
      GITFUNC_ASYNC_QUEUE_MAX: '250',
      GITFUNC_UPLOAD_FILE_BYTES: '1000',
      GITFUNC_UPLOAD_TOTAL_BYTES: '3000',
      GITFUNC_UPLOAD_FILES: '2',
      GITFUNC_SHUTDOWN_DRAIN_SECONDS: '0.2',
      GITFUNC_SHUTDOWN_GRACE_SECONDS: '0',
    },
    cwd: '/srv',
  });
  t.same(settings.tasks, { keepPerApi: 20, keepPerCronJob: 7, keepSeconds: 60, maxStoredMB: 8 });
  t.equal(settings.limits.asyncQueueMax, 250);
  t.match(settings.limits, { bodyBytes: 52428800, syncTimeoutMaxSeconds: 180, importSeconds: 30, asyncQueueMax: 250, uploadFileBytes: 1000, uploadTotalBytes: 3000, uploadFiles: 2 }, 'other limits kept');
  t.same(settings.shutdown, { drainSeconds: 0.2, graceSeconds: 0 });
  t.ok(Object.isFrozen(settings.tasks) && Object.isFrozen(settings.shutdown), 'frozen');
  t.same(loadSettings({ argv: [], env: { GITFUNC_SHUTDOWN_GRACE_SECONDS: ' 12.5 ' }, cwd: '/srv' }).shutdown, {
    drainSeconds: 5,
    graceSeconds: 12.5,
  });
});

t.test('package sources come from the environment: a wheelhouse path list, an index URL, a Pyodide folder', async (t) => {
  const settings = loadSettings({
    argv: [],
    env: {
      GITFUNC_WHEELHOUSE: '/opt/wheels:relative/wheels,with-comma::/opt/wheels',
      GITFUNC_PACKAGE_INDEX: 'http://user:secret@127.0.0.1:3141/simple/',
      GITFUNC_PYODIDE_PACKAGES: 'pyodide-dist',
    },
    cwd: '/srv',
  });
  t.same(settings.packages, {
    wheelhouse: ['/opt/wheels', '/srv/relative/wheels,with-comma'],
    index: 'http://user:secret@127.0.0.1:3141/simple/',
    pyodidePackages: '/srv/pyodide-dist',
  });
  t.equal(redactedSettings(settings).packages.index, 'http://***@127.0.0.1:3141/simple/', 'index credentials redacted');
  t.match(configError([], { GITFUNC_PACKAGE_INDEX: 'ftp://mirror/simple' }), /packages\.index.*GITFUNC_PACKAGE_INDEX/);
});

t.test('slow-client timeouts and CORS origins come from the environment', async (t) => {
  const settings = loadSettings({
    argv: [],
    env: {
      GITFUNC_HEADERS_TIMEOUT_SECONDS: '2.5',
      GITFUNC_BODY_READ_SECONDS: '60',
      GITFUNC_CORS_ALLOW_ORIGINS: 'https://app.example.com, http://localhost:3000',
    },
    cwd: '/srv',
  });
  t.match(settings.limits, { headersTimeoutSeconds: 2.5, bodyReadSeconds: 60 });
  t.same(settings.cors.allowOrigins, ['https://app.example.com', 'http://localhost:3000']);
  t.match(
    configError([], { GITFUNC_CORS_ALLOW_ORIGINS: 'app.example.com' }),
    /cors\.allowOrigins.*GITFUNC_CORS_ALLOW_ORIGINS/s,
  );
  t.match(configError([], { GITFUNC_HEADERS_TIMEOUT_SECONDS: '0' }), /limits\.headersTimeoutSeconds/);
});

t.test('empty environment variables count as unset', async (t) => {
  const settings = loadSettings({ argv: [], env: { GITFUNC_PORT: '', GITFUNC_ADMIN_TOKEN: '' }, cwd: '/srv' });
  t.equal(settings.port, 8088);
  t.equal(settings.adminToken, undefined);
});

t.test('flags beat environment variables', async (t) => {
  const settings = loadSettings({
    argv: ['--port', '0', '--host=::1', '--workers', '3', '--env-allow', 'A,B', '--ref', 'v2', '--path', 'sub', '--log-level', 'warn', '--data-dir', 'data'],
    env: { GITFUNC_PORT: '9000', GITFUNC_HOST: '0.0.0.0', GITFUNC_WORKERS: '8', GITFUNC_ENV_ALLOW: 'C', GITFUNC_REF: 'prod', GITFUNC_DATA_DIR: '/x' },
    cwd: '/srv',
  });
  t.match(settings, {
    port: 0,
    host: '::1',
    workers: 3,
    envAllow: ['A', 'B'],
    repo: { ref: 'v2', path: 'sub' },
    log: { level: 'warn' },
    dataDir: '/srv/data',
  });
});

t.test('a config file sits between the defaults and the environment', async (t) => {
  const dir = await tempDir();
  await writeFile(
    path.join(dir, 'gitfunc.yaml'),
    'port: 7000\nworkers: 6\nrepo:\n  ref: staging\nlimits:\n  bodyBytes: 1024\n',
  );
  const viaFlag = loadSettings({ argv: ['--config', 'gitfunc.yaml'], env: { GITFUNC_WORKERS: '5' }, cwd: dir });
  t.match(viaFlag, { port: 7000, workers: 5, repo: { ref: 'staging', url: path.join(dir, 'functions.example') } });
  t.same(
    viaFlag.limits,
    { bodyBytes: 1024, syncTimeoutMaxSeconds: 180, importSeconds: 30, syncQueuePerWorker: 64, asyncQueueMax: 10000, headersTimeoutSeconds: 20, bodyReadSeconds: 300, uploadFileBytes: 52428800, uploadTotalBytes: 209715200, uploadFiles: 20, workerMaxCalls: 0, workerHeapMB: 1024, socketsPerCall: 64 },
    'mappings merge key by key',
  );
  const viaEnv = loadSettings({ argv: [], env: { GITFUNC_CONFIG: path.join(dir, 'gitfunc.yaml') }, cwd: '/srv' });
  t.equal(viaEnv.port, 7000);
  const viaOption = loadSettings({ argv: [], env: {}, cwd: dir, configFile: 'gitfunc.yaml' });
  t.equal(viaOption.workers, 6);

  await writeFile(path.join(dir, 'typo.yaml'), 'repo:\n  ref: main\n  tokn: x\nprot: 1\n');
  t.equal(
    configError(['--config', 'typo.yaml'], {}, dir),
    'unknown setting prot (from typo.yaml)\nunknown setting repo.tokn (from typo.yaml)',
  );
  await writeFile(path.join(dir, 'bad.yaml'), 'port: [1\n');
  t.match(configError(['--config', 'bad.yaml'], {}, dir), /^config file bad\.yaml \(--config\):2:1: /);
  t.equal(configError(['--config', 'nope.yaml'], {}, dir), 'cannot read config file nope.yaml (--config): ENOENT');
  await writeFile(path.join(dir, 'workers.yaml'), 'workers: 0\n');
  t.equal(
    configError([], { GITFUNC_CONFIG: 'workers.yaml' }, dir),
    'invalid setting workers (from workers.yaml): must be an integer between 1 and 256, got 0',
  );
});

t.test('a bad value names the setting and its source', async (t) => {
  t.equal(
    configError([], { GITFUNC_PORT: 'abc' }),
    "invalid setting port (from GITFUNC_PORT): must be an integer between 0 and 65535, got 'abc'",
  );
  t.equal(
    configError(['--port', '70000'], { GITFUNC_PORT: '1' }),
    'invalid setting port (from --port): must be an integer between 0 and 65535, got 70000',
  );
  t.equal(configError(['--workers', '1.5']), "invalid setting workers (from --workers): must be an integer between 1 and 256, got '1.5'");
  t.equal(
    configError(['--log-level', 'loud']),
    "invalid setting log.level (from --log-level): must be one of: trace, debug, info, warn, error, fatal, silent, got 'loud'",
  );
  t.equal(
    configError([], { GITFUNC_ENV_ALLOW: 'DB_PASSWORD,GITFUNC_ADMIN_TOKEN' }),
    "invalid setting envAllow (from GITFUNC_ENV_ALLOW): must be a list of environment variable names (letters, digits and '_'), none starting with GITFUNC_, got 'GITFUNC_ADMIN_TOKEN'",
  );
  t.equal(
    configError(['--path', '../up']),
    "invalid setting repo.path (from --path): must be a folder inside the repository, without '..' or a leading '/', got '../up'",
  );
  t.equal(
    configError(['--repo', 'ssh://git@example.com/r.git']),
    "invalid setting repo.url (from --repo): must be an http(s) URL or a local directory, got 'ssh://***@example.com/r.git'",
  );
  t.equal(
    configError([], { GITFUNC_PORT: 'x', GITFUNC_WORKERS: 'y' }),
    "invalid setting port (from GITFUNC_PORT): must be an integer between 0 and 65535, got 'x'\n" +
      "invalid setting workers (from GITFUNC_WORKERS): must be an integer between 1 and 256, got 'y'",
    'every bad setting is reported at once',
  );
  t.equal(
    configError([], { GITFUNC_SHUTDOWN_DRAIN_SECONDS: 'abc' }),
    "invalid setting shutdown.drainSeconds (from GITFUNC_SHUTDOWN_DRAIN_SECONDS): must be a number of at least 0, got 'abc'",
  );
  t.equal(
    configError([], { GITFUNC_SHUTDOWN_GRACE_SECONDS: '-1' }),
    'invalid setting shutdown.graceSeconds (from GITFUNC_SHUTDOWN_GRACE_SECONDS): must be a number of at least 0, got -1',
  );
  t.equal(
    configError([], { GITFUNC_SHUTDOWN_GRACE_SECONDS: 'Infinity' }),
    "invalid setting shutdown.graceSeconds (from GITFUNC_SHUTDOWN_GRACE_SECONDS): must be a number of at least 0, got 'Infinity'",
  );
  t.equal(
    configError([], { GITFUNC_ASYNC_QUEUE_MAX: '0' }),
    'invalid setting limits.asyncQueueMax (from GITFUNC_ASYNC_QUEUE_MAX): must be an integer of at least 1, got 0',
  );
  t.equal(
    configError([], { GITFUNC_TASKS_KEEP_PER_API: '2.5' }),
    "invalid setting tasks.keepPerApi (from GITFUNC_TASKS_KEEP_PER_API): must be an integer of at least 1, got '2.5'",
  );
  t.equal(
    configError([], { GITFUNC_TASKS_KEEP_PER_CRON_JOB: 'many' }),
    "invalid setting tasks.keepPerCronJob (from GITFUNC_TASKS_KEEP_PER_CRON_JOB): must be an integer of at least 1, got 'many'",
  );
  t.equal(
    configError([], { GITFUNC_TASKS_KEEP_SECONDS: '-1' }),
    'invalid setting tasks.keepSeconds (from GITFUNC_TASKS_KEEP_SECONDS): must be an integer of at least 0, got -1',
  );
  t.equal(
    configError([], { GITFUNC_TASKS_MAX_STORED_MB: '0' }),
    'invalid setting tasks.maxStoredMB (from GITFUNC_TASKS_MAX_STORED_MB): must be an integer of at least 1, got 0',
  );
});

t.test('the new settings are checked in config files too', async (t) => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'shutdown.yaml'), 'shutdown:\n  drainSeconds: 1.5\ntasks:\n  keepPerApi: 3\n');
  const settings = loadSettings({ argv: ['--config', 'shutdown.yaml'], env: {}, cwd: dir });
  t.same(settings.shutdown, { drainSeconds: 1.5, graceSeconds: 30 }, 'mappings merge key by key');
  t.same(settings.tasks, { keepPerApi: 3, keepPerCronJob: 500, keepSeconds: 3600, maxStoredMB: 512 });
  await writeFile(path.join(dir, 'bad-shutdown.yaml'), 'shutdown:\n  graceSeconds: soon\n  drainsSeconds: 1\n');
  t.equal(
    configError(['--config', 'bad-shutdown.yaml'], {}, dir),
    'unknown setting shutdown.drainsSeconds (from bad-shutdown.yaml)\n' +
      "invalid setting shutdown.graceSeconds (from bad-shutdown.yaml): must be a number of at least 0, got 'soon'",
  );
});

t.test('repo.pollSeconds comes from the environment or a flag', async (t) => {
  t.equal(loadSettings({ argv: [], env: { GITFUNC_POLL_SECONDS: '0' }, cwd: '/srv' }).repo.pollSeconds, 0);
  t.equal(loadSettings({ argv: ['--poll-seconds', '2.5'], env: { GITFUNC_POLL_SECONDS: '0' }, cwd: '/srv' }).repo.pollSeconds, 2.5);
  t.match(configError([], { GITFUNC_POLL_SECONDS: '-1' }), /invalid setting repo.pollSeconds \(from GITFUNC_POLL_SECONDS\): must be a number between 0 and 86400, got -1/);
});

t.test('unknown flags and stray arguments are errors', async (t) => {
  t.equal(
    configError(['--prot', '80']),
    'unknown option --prot (known: --port, --host, --repo, --ref, --path, --poll-seconds, --data-dir, --workers, --snapshot-dir, --env-allow, --log-level, --log-format, --config)',
  );
  t.match(configError(['--admin-token', 'x']), /^unknown option --admin-token /, 'secrets have no flags');
  t.equal(configError(['--port']), 'option --port needs a value');
  t.equal(configError(['extra']), "unexpected argument 'extra'");
  t.equal(loadSettings({ argv: ['extra', '--port', '1'], env: {}, cwd: '/srv', allowPositionals: true }).port, 1);
});

t.test('relative paths resolve against cwd, URLs are kept', async (t) => {
  const local = loadSettings({ argv: ['--repo', '../functions', '--data-dir', 'state'], env: {}, cwd: '/srv/app' });
  t.equal(local.repo.url, '/srv/functions');
  t.equal(local.dataDir, '/srv/app/state');
  const absolute = loadSettings({ argv: ['--repo', '/opt/functions'], env: {}, cwd: '/srv/app' });
  t.equal(absolute.repo.url, '/opt/functions');
  const fileUrl = loadSettings({ argv: ['--repo', 'file:///opt/functions'], env: {}, cwd: '/srv/app' });
  t.equal(fileUrl.repo.url, '/opt/functions');
  const http = loadSettings({ argv: ['--repo', 'http://127.0.0.1:3000/r.git'], env: {}, cwd: '/srv/app' });
  t.equal(http.repo.url, 'http://127.0.0.1:3000/r.git');
});

t.test('the push remote: GITFUNC_PUSH_TOKEN turns it on and gitfunc serves the push repository', async (t) => {
  const settings = loadSettings({ argv: ['--data-dir', '/var/lib/gitfunc'], env: { GITFUNC_PUSH_TOKEN: 'push-secret' }, cwd: '/srv' });
  t.same(settings.pushRemote, { enabled: true, path: '/repo.git', token: 'push-secret', maxPushBytes: 104857600 });
  t.equal(settings.repo.url, '/var/lib/gitfunc/push-repo.git', 'repo.url defaults to the bare repository in the data dir');
  t.equal(redactedSettings(settings).pushRemote.token, '***');
  t.notOk(JSON.stringify(redactedSettings(settings)).includes('push-secret'), 'no token in the redacted form');

  const dir = await tempDir();
  await writeFile(path.join(dir, 'push.yaml'), 'pushRemote:\n  enabled: true\n');
  t.equal(
    configError(['--config', 'push.yaml'], {}, dir),
    'pushRemote.enabled (from push.yaml) needs a token: set GITFUNC_PUSH_TOKEN',
  );
  t.equal(
    configError(['--repo', 'https://git.example.com/r.git'], { GITFUNC_PUSH_TOKEN: 'push-secret' }),
    'repo.url (from --repo) cannot be set while the push remote is on: gitfunc serves what is pushed to it',
  );
  await writeFile(path.join(dir, 'hook.yaml'), 'webhook:\n  maxBodyBytes: 0\n  allowUnsigned: "yes"\n');
  t.equal(
    configError(['--config', 'hook.yaml'], {}, dir),
    'invalid setting webhook.maxBodyBytes (from hook.yaml): must be an integer of at least 1, got 0\n' +
      "invalid setting webhook.allowUnsigned (from hook.yaml): must be true or false, got 'yes'",
  );
});

t.test('several servers: GITFUNC_REDIS_URL and its companions; the push remote is refused with them', async (t) => {
  const env = {
    GITFUNC_REDIS_URL: 'redis://user:pw@10.0.0.5:6379/2',
    GITFUNC_REDIS_PREFIX: 'shop:',
    GITFUNC_REPLICA_ID: 'eu-1',
    GITFUNC_ADVERTISED_URL: 'http://10.0.0.7:8088',
  };
  const settings = loadSettings({ argv: [], env, cwd: '/srv' });
  t.same(settings.redis, { url: 'redis://user:pw@10.0.0.5:6379/2', keyPrefix: 'shop:', replicaId: 'eu-1', advertisedUrl: 'http://10.0.0.7:8088' });
  t.equal(redactedSettings(settings).redis.url, 'redis://***@10.0.0.5:6379/2', 'no password in the redacted form');
  t.equal(loadSettings({ argv: [], env: {}, cwd: '/srv' }).redis.url, '', 'unset: the embedded store');
  t.match(configError([], { GITFUNC_REDIS_URL: 'localhost:6379' }), /^invalid setting redis\.url \(from GITFUNC_REDIS_URL\)/);
  t.equal(
    configError([], { GITFUNC_REDIS_URL: 'redis://127.0.0.1:6379', GITFUNC_PUSH_TOKEN: 'push-secret' }),
    'the push remote (pushRemote, from GITFUNC_PUSH_TOKEN) serves one server\'s own repository and cannot be used with redis.url (from GITFUNC_REDIS_URL): replicas fetch from a git server they all reach; reload them with a webhook or POST /api/v1/reload',
  );
});
