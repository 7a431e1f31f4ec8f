// The Dockerfile and the systemd unit cannot be run here (no docker engine, no systemd as
// init): these checks catch what drifts silently, a COPY of a path that moved or is kept out
// of the build context, a flag `gitfunc serve` no longer takes, a unit without its hardening.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The flags `gitfunc serve --help` lists. */
async function serveFlags(): Promise<Set<string>> {
  const { stdout } = await run(process.execPath, [path.join(root, 'bin/gitfunc.js'), 'serve', '--help']);
  return new Set(stdout.match(/^\s+(--[a-z-]+)/gm)!.map((flag) => flag.trim()));
}

const dockerfile = dockerInstructions(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

t.test('the Dockerfile copies paths that exist and are in the build context', async (t) => {
  const copies = dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='));
  t.ok(copies.length >= 5, 'COPY instructions found');
  for (const { args } of copies) {
    const sources = args.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      t.ok(existsSync(path.join(root, source)), `${source} exists`);
      t.notOk(dockerignore.includes(source.replace(/^\.\//, '')), `${source} is not in .dockerignore`);
    }
  }
});

t.test("the Dockerfile's image: node 20 slim, a non-root user, the data volume, port and readyz health check", async (t) => {
  const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]);
  t.same(new Set(froms), new Set(['node:20-bookworm-slim']));
  const finalStage = dockerfile.slice(dockerfile.findLastIndex((i) => i.keyword === 'FROM'));
  const user = finalStage.find((i) => i.keyword === 'USER');
  t.equal(user?.args, 'gitfunc');
  t.match(finalStage.find((i) => i.keyword === 'VOLUME')?.args ?? '', /"\/data"/);
  t.equal(finalStage.find((i) => i.keyword === 'EXPOSE')?.args, '8088');
  t.match(finalStage.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '', /127\.0\.0\.1:8088\/readyz/);
  // The snapshot is built by `gitfunc check` into GITFUNC_SNAPSHOT_DIR, as the user the server runs as.
  const checkRun = finalStage.findIndex((i) => i.keyword === 'RUN' && i.args.includes('bin/gitfunc.js check'));
  t.ok(checkRun > finalStage.indexOf(user!), 'the snapshot is built after USER');
  t.match(finalStage.find((i) => i.keyword === 'ENV')?.args ?? '', /GITFUNC_SNAPSHOT_DIR=\/app\/snapshot/);
});

t.test("the Dockerfile's CMD passes only real `serve` flags", async (t) => {
  const entrypoint = JSON.parse(dockerfile.find((i) => i.keyword === 'ENTRYPOINT')!.args) as string[];
  t.same(entrypoint, ['node', 'bin/gitfunc.js']);
  const cmd = JSON.parse(dockerfile.find((i) => i.keyword === 'CMD')!.args) as string[];
  t.equal(cmd[0], 'serve');
  const flags = await serveFlags();
  const used = cmd.filter((word) => word.startsWith('--'));
  t.ok(used.length > 0);
  for (const flag of used) t.ok(flags.has(flag), `${flag} is a serve flag`);
  t.notOk(flags.has('--no-such-flag'), 'the flag list is read, not assumed');
});

const unitFile = path.join(root, 'deploy/gitfunc.service');
const unit = readFileSync(unitFile, 'utf8');

/** `Key=value` of the unit (the last one of a key, as systemd reads it). */
function unitValue(key: string): string | undefined {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].pop()?.[1];
}

t.test('the systemd unit: hardened, restarted on failure, and stopped after the drain and grace', async (t) => {
  for (const [key, value] of Object.entries({
    User: 'gitfunc',
    Restart: 'on-failure',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    KillSignal: 'SIGTERM',
  })) {
    t.equal(unitValue(key), value, key);
  }
  t.ok(unitValue('EnvironmentFile'), 'EnvironmentFile');
  const dataDir = unitValue('ExecStart')!.match(/--data-dir (\S+)/)![1]!;
  t.ok(dataDir.startsWith(`${unitValue('ReadWritePaths')}/`), 'the data dir is writable');
  t.ok(dataDir.startsWith(`${unitValue('WorkingDirectory')}/`), 'the data dir is in the working directory');
  const { stdout } = await run(process.execPath, [path.join(root, 'bin/gitfunc.js'), 'serve', '--help']);
  const seconds = (name: string) => Number(stdout.match(new RegExp(`${name}\\s+\\(default: (\\d+)\\)`))![1]);
  const stopAfter = seconds('GITFUNC_SHUTDOWN_DRAIN_SECONDS') + seconds('GITFUNC_SHUTDOWN_GRACE_SECONDS');
  t.ok(Number(unitValue('TimeoutStopSec')) > stopAfter, `TimeoutStopSec > ${stopAfter}`);
  const flags = await serveFlags();
  for (const flag of unitValue('ExecStart')!.match(/--[a-z-]+/g)!) t.ok(flags.has(flag), `${flag} is a serve flag`);
});

t.test('systemd-analyze verify finds nothing to say about the unit', { skip: existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze is not installed' }, async (t) => {
  // It exits 0 on an unknown key or a bad value; what it prints is the verdict.
  const { stdout, stderr } = await run('systemd-analyze', ['verify', unitFile]);
  t.equal(stderr + stdout, '');
});
