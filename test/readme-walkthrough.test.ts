// The README's walkthrough (blocks marked `sh walkthrough`), run as shown: its files and
// commands in a fresh HOME, its `gitfunc serve` a real server on a free port.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ROOT, docCommands, mismatch, runSession } from './helpers/doc-examples.js';
import { SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const home = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-walkthrough-'));
t.teardown(() => rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));
const commands = docCommands('README.md', 'walkthrough');
t.ok(commands.length >= 8, `${commands.length} commands`);

t.test('the walkthrough runs as the README shows it', async (t) => {
const port = await freePort();
const results = await runSession(commands, {
  cwd: ROOT,
  env: {
    PATH: process.env.PATH ?? '',
    HOME: home,
    GITFUNC_ADMIN_TOKEN: 'dev-token',
    GITFUNC_PORT: String(port),
    GITFUNC_URL: `http://127.0.0.1:${port}`,
    GITFUNC_WORKERS: '1',
    GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR,
    GIT_AUTHOR_NAME: 'Ada',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
  },
  port,
  timeoutMs: 35_000,
  errDir: mkdtempSync(path.join(home, 'stderr-')),
});
for (const result of results) {
  const why = mismatch(result, port);
  t.notOk(why, why ?? result.command.where);
}
t.equal(results.length, commands.length, 'every command ran');
});
