// `gitfunc serve` on a port another process holds: one clear line, a non-zero exit, and nothing
// left behind (workers ended, so the process exits; the data dir's lock released).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { EXAMPLE_REPO, SHARED_SNAPSHOT_DIR } from './helpers/start-gitfunc.js';
import { gitfuncCli } from './helpers/gitfunc-cli.js';

/** The CLI: the built dist/ when current, else the sources through tsx (see the helper). */
const [executable, ...launcher] = gitfuncCli() as [string, ...string[]];


t.test('a port in use is one line naming the port and how to change it', async (t) => {
  const occupier = net.createServer();
  await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
  t.teardown(() => occupier.close());
  const port = (occupier.address() as net.AddressInfo).port;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gitfunc-port-in-use-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

  const child = spawn(
    executable,
    [...launcher, 'serve', '--repo', EXAMPLE_REPO, '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--workers', '1'],
    { env: { PATH: process.env.PATH, GITFUNC_SNAPSHOT_DIR: SHARED_SNAPSHOT_DIR }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  // Exiting on its own shows nothing is left running (workers, timers, the store).
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);

  t.equal(signal, null, 'exits on its own, not killed after the time limit');
  t.equal(code, 1, 'exit code 1');
  t.equal(stderr, `gitfunc: port ${port} on 127.0.0.1 is in use by another process: choose another with --port N or GITFUNC_PORT\n`, 'one line, no stack');
  t.notOk(existsSync(path.join(dataDir, 'gitfunc.lock')), "the data dir's lock is released");
});
