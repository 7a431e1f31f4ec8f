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
